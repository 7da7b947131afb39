import { describe, expect, it } from 'vitest';
import { Command } from '../../protocol/commands.js';
import { ClientStats } from '../../src/client/stats.js';

describe('ClientStats', () => {
  it('counts sends and replies and summarises round trips per command name', () => {
    const stats = new ClientStats();
    stats.noteSent(Command.STAGE_POSITION_GET);
    stats.noteSent(Command.STAGE_POSITION_GET);
    stats.noteSent(Command.SYSTEM_STATE_GET);
    stats.recordRoundTrip(Command.STAGE_POSITION_GET, 2);
    stats.recordRoundTrip(Command.STAGE_POSITION_GET, 4);
    stats.recordRoundTrip(Command.SYSTEM_STATE_GET, 1);
    stats.recordTurnWait(10);
    const s = stats.snapshot();
    expect(s.sent).toBe(3);
    expect(s.replies).toBe(3);
    expect(Object.keys(s.roundTrip).sort()).toEqual(['STAGE_POSITION_GET', 'SYSTEM_STATE_GET']);
    expect(s.roundTrip.STAGE_POSITION_GET).toMatchObject({ count: 2, mean: 3, max: 4 });
    expect(s.roundTripAll.count).toBe(3);
    expect(s.turnWait).toMatchObject({ count: 1, max: 10 });
  });

  it('tells its observer every measurement', () => {
    const stats = new ClientStats();
    const seen: string[] = [];
    stats.observer = { sent: (c) => seen.push(`sent ${c}`), roundTrip: (c, ms) => seen.push(`rt ${c} ${ms}`), turnWait: (ms) => seen.push(`wait ${ms}`) };
    stats.noteSent(7);
    stats.recordRoundTrip(7, 1.5);
    stats.recordTurnWait(0.25);
    expect(seen).toEqual(['sent 7', 'rt 7 1.5', 'wait 0.25']);
  });

  it('keeps at most 128 command histograms: further codes share OTHER', () => {
    const stats = new ClientStats();
    for (let code = 0x9000; code < 0x9000 + 300; code++) stats.recordRoundTrip(code, 1);
    const names = Object.keys(stats.snapshot().roundTrip);
    expect(names).toHaveLength(128);
    expect(names).toContain('OTHER');
    expect(names).toContain('0x9000');
    expect(stats.snapshot().roundTrip.OTHER?.count).toBe(300 - 127);
    expect(stats.snapshot().roundTripAll.count).toBe(300);
  });

  it('reset zeroes counters and histograms and restarts `since`', () => {
    const stats = new ClientStats();
    stats.counters.timeouts = 3;
    stats.noteSent(1);
    stats.recordRoundTrip(1, 5);
    stats.notePacket();
    const before = stats.snapshot().since;
    stats.reset();
    const s = stats.snapshot();
    expect(s.sent).toBe(0);
    expect(s.timeouts).toBe(0);
    expect(s.replies).toBe(0);
    expect(s.roundTripAll.count).toBe(0);
    expect(Object.values(s.roundTrip).map((h) => h.count)).toEqual([0]);
    expect(s.since).toBeGreaterThanOrEqual(before);
    // The last packet time is a fact about the link, not a counter.
    expect(s.lastPacketAt).not.toBeNull();
  });
});
