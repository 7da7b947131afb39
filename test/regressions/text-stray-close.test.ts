import { describe, expect, it } from 'vitest';
import { formatTextFormat, parseTextFormat } from '../../src/index.js';

describe('regression: fast-check counterexample of test/property/text-roundtrip.test.ts', () => {
  // A stray `<//Name>` just before the real `</Name>` was written twice: once as the trivia
  // before the closing tag and once as the section's end.
  it('a stray closing tag right before the real one is written once', () => {
    const text = '<A>\r\n  <B>\r\n    k = 1\r\n    <//B>\r\n  </B>\r\n</A>';
    const doc = parseTextFormat(text);
    expect(formatTextFormat(doc.root)).toBe(text);
    expect(doc.warnings).toEqual(['line 4: closing tag <//B> matches no open section; ignored']);
  });
});
