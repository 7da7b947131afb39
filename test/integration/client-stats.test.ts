import { afterEach, describe, expect, it } from 'vitest';
import { Command, FlamingoClient, TimeoutError, encodePacket, type Packet } from 'flamingo-protocol';
import { connectFake, outcome, type Harness } from '../support/client-harness.js';
import { FakeServer } from '../support/fake-server.js';
import { until } from '../support/wait.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.cleanup();
});

async function harness(mode: 'sequenced' | 'lease', options = {}): Promise<Harness> {
  const h = await connectFake('memory', mode, options);
  open.push(h);
  // The auto-mode probe is counted too; start each test from zero.
  h.client.resetStats();
  return h;
}

const EVENT = encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 1, value: 2.5 });

describe('client.stats()', () => {
  it('sequenced: counts sends, replies, events, a timeout, its late reply as unmatched, and a resync with its skipped bytes', async () => {
    const { client, server } = await harness('sequenced');
    let held: Packet | null = null;
    server.handler = (packet, connection) => {
      if (packet.code === Command.STAGE_POSITION_GET && held === null) held = packet;
      else server.autoReply(packet, connection);
    };
    await client.request(Command.SYSTEM_STATE_GET);
    await client.request(Command.SYSTEM_STATE_GET);
    await client.send(Command.STAGE_HALT, { int32Data0: 1 });
    const timedOut = await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }, { timeoutMs: 30 }));
    expect(timedOut.ok === false && timedOut.error instanceof TimeoutError).toBe(true);
    const unmatched = new Promise<Packet>((resolve) => client.once('unmatched', resolve));
    server.connection.write(server.connection.reply(held as unknown as Packet));
    await unmatched;
    const resync = new Promise((resolve) => client.once('resync', resolve));
    const event = new Promise((resolve) => client.once('STAGE_MOTION_STOPPED', resolve));
    server.connection.write(Uint8Array.of(1, 2, 3, 4, 5, 6, 7), EVENT);
    await Promise.all([resync, event]);

    const s = client.stats();
    expect({
      sent: s.sent,
      replies: s.replies,
      events: s.events,
      unmatched: s.unmatched,
      timeouts: s.timeouts,
      fences: s.fences,
      resyncs: s.resyncs,
      skippedBytes: s.skippedBytes,
    }).toEqual({
      sent: 4,
      replies: 2,
      events: 1,
      unmatched: 1,
      timeouts: 1,
      fences: 0,
      resyncs: 1,
      skippedBytes: 7,
    });
    expect(Object.keys(s.roundTrip)).toEqual(['SYSTEM_STATE_GET']);
    expect(s.roundTrip.SYSTEM_STATE_GET?.count).toBe(2);
    expect(s.roundTripAll.max).toBeGreaterThan(0);
    // Every request waited for its turn (zero or more ms); a send is not a request.
    expect(s.turnWait.count).toBe(3);
    expect(s.lastPacketAt).not.toBeNull();
  });

  it('lease: a timeout writes a fence, and both are counted', async () => {
    const { client, server } = await harness('lease');
    server.handler = (packet, connection) => {
      if (packet.code !== Command.STAGE_POSITION_GET) server.autoReply(packet, connection);
    };
    const timedOut = await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }, { timeoutMs: 30 }));
    expect(timedOut.ok).toBe(false);
    await client.request(Command.SYSTEM_STATE_GET);
    await until(() => client.stats().fences === 1, 5000, 'the fence');
    const s = client.stats();
    expect(s.timeouts).toBe(1);
    expect(s.fences).toBe(1);
    // The timed-out request, the fence and the request after it.
    expect(s.sent).toBe(3);
    expect(s.replies).toBe(2);
  });

  it('counts events an event stream dropped for a slow consumer', async () => {
    const { client, server } = await harness('sequenced');
    const stream = client.events(undefined, { bufferSize: 2 });
    const fifth = new Promise<void>((resolve) => {
      let n = 0;
      client.on('event', () => {
        if (++n === 5) resolve();
      });
    });
    server.connection.write(EVENT, EVENT, EVENT, EVENT, EVENT);
    await fifth;
    expect(client.stats().droppedEvents).toBe(3);
    expect(stream.dropped).toBe(3);
    expect(client.stats().events).toBe(5);
    await stream.return();
  });

  it('counts a reconnect', async () => {
    const server = new FakeServer({ echoSequence: true });
    const client = await FlamingoClient.connect({ transport: () => server.connectMemory(), reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    open.push({
      server,
      client,
      cleanup: async () => {
        await client.close();
        await server.close();
      },
    });
    const back = new Promise((resolve) => client.once('reconnected', resolve));
    server.connection.drop();
    await back;
    expect(client.stats().reconnects).toBe(1);
    client.resetStats();
    expect(client.stats().reconnects).toBe(0);
  });

  it('records nothing with stats: false', async () => {
    const { client } = await harness('sequenced', { stats: false });
    await client.request(Command.SYSTEM_STATE_GET);
    const s = client.stats();
    expect(s.sent).toBe(0);
    expect(s.replies).toBe(0);
    expect(s.lastPacketAt).toBeNull();
  });

  it('allocates no histogram per request: 2000 requests of one command keep one entry', async () => {
    const { client } = await harness('sequenced');
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 100 }, () => client.request(Command.SYSTEM_STATE_GET)));
    const s = client.stats();
    expect(s.replies).toBe(2000);
    expect(Object.keys(s.roundTrip)).toEqual(['SYSTEM_STATE_GET']);
    expect(s.roundTrip.SYSTEM_STATE_GET?.count).toBe(2000);
    expect(s.roundTrip.SYSTEM_STATE_GET?.p50).toBeLessThanOrEqual(s.roundTrip.SYSTEM_STATE_GET?.p99 as number);
  });
});
