/**
 * Regression: a gateway outbox whose write had waited for room (a paused reader) stayed
 * marked as writing once the transport took the next write with room to spare, so every
 * later packet queued behind a write that was no longer outstanding and the app never got
 * another reply (found by the gateway model test, sequenced cell).
 */
import { describe, expect, it } from 'vitest';
import { createMemoryPair } from 'flamingo-protocol';
import { Outbox } from '../../src/apps/gateway/outbox.js';
import { until } from '../support/wait.js';

describe('gateway outbox after a wait for room', () => {
  it('delivers packets pushed after the reader caught up, whole and in order', async () => {
    const [gatewayEnd, appEnd] = createMemoryPair({ highWaterBytes: 100 });
    const received: number[] = [];
    appEnd.attach({ data: (chunk) => received.push(...chunk), close: () => undefined });
    const overflows: number[] = [];
    const outbox = new Outbox(gatewayEnd, 10_000, (n) => overflows.push(n));
    appEnd.pause();
    expect(outbox.push(new Uint8Array(150).fill(1))).toBe(true); // over the mark: waits
    expect(outbox.push(new Uint8Array(10).fill(2))).toBe(true); // queued behind it
    expect(outbox.backlogBytes).toBe(10);
    appEnd.resume();
    await until(() => received.length === 160, 2000, 'the first two packets');
    expect(outbox.backlogBytes).toBe(0);
    expect(outbox.push(new Uint8Array(5).fill(3))).toBe(true);
    await until(() => received.length === 165, 2000, 'the packet pushed after the wait');
    expect(received).toEqual([...new Array(150).fill(1), ...new Array(10).fill(2), ...new Array(5).fill(3)]);
    expect(overflows).toEqual([]);
    gatewayEnd.destroy();
  });
});
