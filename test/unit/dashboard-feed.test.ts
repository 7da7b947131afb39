import { describe, expect, it, vi } from 'vitest';
import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { DashboardFeed } from '../../src/apps/gateway/http/dashboard-feed.js';
import type { FeedSocket } from '../../src/apps/gateway/http/dashboard-feed.js';

class FakeSocket implements FeedSocket {
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  private closeListener: (() => void) | null = null;
  send(data: string): void {
    this.sent.push(data);
  }
  terminate(): void {
    this.terminated = true;
    this.closeListener?.();
  }
  once(_event: 'close', listener: () => void): this {
    this.closeListener = listener;
    return this;
  }
}

function event(code: number, int32Data0: number): Packet {
  return {
    code,
    status: 1,
    hardwareId: 0,
    subsystemId: 0,
    clientId: 0,
    int32Data0,
    int32Data1: 0,
    int32Data2: 0,
    cmdDataBits0: 0,
    value: 1.5,
    addDataBytes: 0,
    data: new Uint8Array(72),
  };
}

describe('DashboardFeed', () => {
  it('sends the whole view on connect and coalesces a flood into one update per interval', () => {
    vi.useFakeTimers();
    try {
      let version = 1;
      const feed = new DashboardFeed({ view: () => ({ snapshot: { version }, health: null, frame: null }), intervalMs: 100 });
      const page = new FakeSocket();
      feed.add(page);
      expect(page.sent).toHaveLength(1);
      for (let i = 0; i < 500; i++) {
        version++;
        feed.event(event(Command.STAGE_MOTION_STOPPED, i));
      }
      expect(page.sent).toHaveLength(1);
      vi.advanceTimersByTime(100);
      expect(page.sent).toHaveLength(2);
      const update = JSON.parse(page.sent[1] as string) as { snapshot: { version: number }; events: { name: string; int32Data0: number }[] };
      expect(update.snapshot.version).toBe(501);
      // The list keeps the last 20, newest first.
      expect(update.events).toHaveLength(20);
      expect(update.events[0]).toMatchObject({ name: 'STAGE_MOTION_STOPPED', int32Data0: 499 });
      expect(update.events[19]).toMatchObject({ int32Data0: 480 });
      feed.close();
      expect(page.terminated).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('cuts off a page whose queue passes the limit and keeps serving the others', () => {
    vi.useFakeTimers();
    try {
      const slow: string[] = [];
      const feed = new DashboardFeed({
        view: () => ({ snapshot: { pad: 'x'.repeat(100) }, health: null, frame: null }),
        intervalMs: 10,
        maxBufferedBytes: 1000,
        onSlowReader: () => slow.push('slow'),
      });
      const stuck = new FakeSocket();
      const reading = new FakeSocket();
      feed.add(stuck);
      feed.add(reading);
      stuck.bufferedAmount = 950;
      feed.changed();
      vi.advanceTimersByTime(10);
      expect(stuck.terminated).toBe(true);
      expect(slow).toEqual(['slow']);
      expect(feed.size).toBe(1);
      expect(reading.sent).toHaveLength(2);
      expect(stuck.sent).toHaveLength(1);
      feed.changed();
      vi.advanceTimersByTime(10);
      expect(reading.sent).toHaveLength(3);
      expect(stuck.sent).toHaveLength(1);
      feed.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('schedules nothing while no page is open', () => {
    vi.useFakeTimers();
    try {
      const view = vi.fn(() => ({ snapshot: null, health: null, frame: null }));
      const feed = new DashboardFeed({ view });
      feed.event(event(Command.SYSTEM_STATE_GET, 1));
      vi.advanceTimersByTime(1000);
      expect(view).not.toHaveBeenCalled();
      expect(feed.lastEvents()).toHaveLength(1);
      feed.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
