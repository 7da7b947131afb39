import { describe, expect, it } from 'vitest';
import { BatchedLog } from '../../src/cli/sim-log.js';

describe('BatchedLog (flamingo sim)', () => {
  it('writes queued lines in one write on flush, in order, and nothing when empty', () => {
    const writes: string[] = [];
    const log = new BatchedLog((text) => writes.push(text));
    log.line('a');
    log.line('b');
    expect(writes).toEqual([]);
    log.flush();
    log.flush();
    expect(writes).toEqual(['a\nb\n']);
  });

  it('holds at most 20,000 lines between flushes and reports how many it dropped', () => {
    const writes: string[] = [];
    const log = new BatchedLog((text) => writes.push(text));
    for (let i = 0; i < 20_005; i++) log.line(`l${i}`);
    log.flush();
    const lines = (writes[0] ?? '').split('\n');
    expect(writes).toHaveLength(1);
    expect(lines.slice(0, 2)).toEqual(['l0', 'l1']);
    expect(lines[19_999]).toBe('l19999');
    expect(lines[20_000]).toBe('(5 log lines dropped: the log could not keep up)');
    expect(lines).toHaveLength(20_002);
  });
});
