import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTextBytes,
  encodeTextBytes,
  formatTextBytes,
  formatTextFormat,
  lineOf,
  parseTextFormat,
  type TextEntry,
  type TextSection,
} from '../../src/index.js';

// Random documents in the forms the instrument's files take (spec/text-format.md): tag and key
// indentation styles, LF/CRLF/mixed endings, blank lines, trailing spaces, blank values with
// or without the space, `°` as UTF-8 or Latin-1, a final newline or none, stray closing tags.
const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ()/%:.,_-]{0,16}[A-Za-z0-9)]$/).filter((k) => !k.includes('='));
const value = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[A-Za-z0-9.,:/_-]([A-Za-z0-9.,:/ _-]{0,16}[A-Za-z0-9.,:/_-])?$/),
  fc.constantFrom('9,002', '2.4949999999999997', '10.67 0', 'ON 1'),
);
const eol = fc.constantFrom('\n', '\r\n');
const spaces = fc.constantFrom('', ' ', '  ', '\t');

const entryLine = fc.record({ key: word, value, degree: fc.boolean(), sep: fc.constantFrom(' = ', ' =', '=', ' =  '), trail: spaces });
type EntryLine = typeof entryLine extends fc.Arbitrary<infer T> ? T : never;
/** A generated section: entries, nested sections, blank lines and stray closing tags. */
interface Gen {
  name: string;
  body: ({ kind: 'e'; e: EntryLine } | { kind: 's'; s: Gen } | { kind: 'blank' } | { kind: 'stray' })[];
}
const sectionArb = fc.letrec<{ section: Gen }>((tie) => ({
  section: fc.record({
    name: word,
    body: fc.array(
      fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ kind: fc.constant('e' as const), e: entryLine }),
        fc.record({ kind: fc.constant('s' as const), s: tie('section') }),
        fc.constant({ kind: 'blank' as const }),
        fc.constant({ kind: 'stray' as const }),
      ),
      { maxLength: 6 },
    ),
  }),
}));

function render(sections: Gen[], tagUnit: string, keyUnit: string, eols: string[], final: boolean, degree: string): string {
  const lines: string[] = [];
  const walk = (s: Gen, depth: number) => {
    const tagPad = tagUnit.repeat(depth);
    lines.push(`${tagPad}<${s.name}>`);
    for (const item of s.body) {
      if (item.kind === 'blank') lines.push('');
      else if (item.kind === 'stray') lines.push(`${tagPad}${keyUnit}<//${s.name}>`);
      else if (item.kind === 'e') {
        const e = item.e;
        lines.push(
          `${tagPad}${keyUnit}${e.key}${e.degree ? ` (${degree}/s)` : ''}${e.value === '' ? e.sep.trimEnd() + (e.trail === '' ? '' : ' ') : e.sep + e.value + e.trail}`,
        );
      } else walk(item.s, depth + 1);
    }
    lines.push(`${tagPad}</${s.name}>`);
  };
  for (const s of sections) walk(s, 0);
  return lines.map((l, i) => l + (i === lines.length - 1 && !final ? '' : (eols[i % eols.length] as string))).join('');
}

const doc = fc.record({
  sections: fc.array(sectionArb.section, { minLength: 1, maxLength: 3 }),
  style: fc.constantFrom<[tagUnit: string, keyUnit: string]>(['  ', '  '], ['    ', ''], ['', '  '], ['  ', '    ']),
  eols: fc.array(eol, { minLength: 1, maxLength: 3 }),
  final: fc.boolean(),
  latin1: fc.boolean(),
});

function entries(section: TextSection): TextEntry[] {
  return section.items.flatMap((i) => (i.kind === 'entry' ? [i] : entries(i)));
}

describe('text format round trip (property)', () => {
  it('random documents in the instrument forms come back byte for byte, as text and as bytes', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const text = render(d.sections, d.style[0], d.style[1], d.eols, d.final, '°');
        expect(formatTextFormat(parseTextFormat(text).root)).toBe(text);
        const bytes = encodeTextBytes(text, d.latin1 ? 'latin1' : 'utf-8');
        const parsed = parseTextFormat(bytes);
        expect(Buffer.from(formatTextBytes(parsed)).equals(Buffer.from(bytes))).toBe(true);
        expect(parsed.encoding).toBe(d.latin1 && text.includes('°') ? 'latin1' : 'utf-8');
      }),
    );
  });

  it('editing one random entry changes exactly its line', () => {
    fc.assert(
      fc.property(doc, fc.nat(), (d, pick) => {
        const text = render(d.sections, d.style[0], d.style[1], d.eols, d.final, '°');
        const parsed = parseTextFormat(text);
        const all = entries(parsed.root);
        fc.pre(all.length > 0);
        const target = all[pick % all.length] as TextEntry;
        target.value = target.value === 'x1' ? 'x2' : 'x1';
        delete target.bare;
        const split = (s: string) => s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
        const before = split(text);
        const after = split(formatTextFormat(parsed.root));
        expect(after.length).toBe(before.length);
        expect(after.flatMap((l, i) => (l === before[i] ? [] : [i + 1]))).toEqual([lineOf(target)]);
      }),
    );
  });

  it('decodes bytes that are not UTF-8 as Latin-1 and writes them back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const { text, encoding } = decodeTextBytes(bytes);
        expect(Buffer.from(encodeTextBytes(text, encoding)).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });
});
