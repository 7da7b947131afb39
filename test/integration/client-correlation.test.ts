import { afterEach, describe, expect, it, vi } from 'vitest';
import { Command, FlamingoClient, QueueTimeoutError, SafeEmitter, Sequencer, dataText, encodePacket, type Packet, type Wire } from 'flamingo-protocol';
import { FakeServer } from '../support/fake-server.js';
import { pendingRequest } from '../support/pending-request.js';
import { turns } from '../support/wait.js';
import { connectFake, outcome, type Harness } from '../support/client-harness.js';

let harness: Harness | null = null;
afterEach(async () => {
  await harness?.cleanup();
  harness = null;
});

function collect(client: FlamingoClient): { events: Packet[]; unmatched: Packet[] } {
  const events: Packet[] = [];
  const unmatched: Packet[] = [];
  client.on('event', (p) => events.push(p));
  client.on('unmatched', (p) => unmatched.push(p));
  return { events, unmatched };
}

describe('lease mode', () => {
  it('a same-code push the matcher rejects (other axis) is an event, not the reply', async () => {
    harness = await connectFake('memory', 'lease');
    const { client, server } = harness;
    const seen = collect(client);
    server.handler = (p, c) => {
      if (p.code === Command.STAGE_POSITION_GET) {
        c.write(
          encodePacket({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 1, value: 111 }),
          encodePacket({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 3, value: 333 }),
          c.reply(p, { value: 2.5 }),
        );
      } else server.autoReply(p, c);
    };
    const reply = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
    expect(reply.value).toBe(2.5);
    expect(seen.events.map((p) => [p.int32Data0, p.value])).toEqual([
      [1, 111],
      [3, 333],
    ]);
    expect(seen.unmatched).toEqual([]);
  });

  it('an ambiguous code (LASER_LEVEL_GET) gets a trailing fence, so a reply that lost the race to a push never answers a later request', async () => {
    harness = await connectFake('memory', 'lease');
    const { client, server } = harness;
    const seen = collect(client);
    let gets = 0;
    server.handler = (p, c) => {
      if (p.code === Command.LASER_LEVEL_GET && gets++ === 0) {
        // A workflow push for the same laser overtakes the reply.
        c.write(encodePacket({ code: Command.LASER_LEVEL_GET, status: 1, int32Data0: 2, data: '7.00' }), c.reply(p, { data: '8.00' }));
      } else if (p.code === Command.LASER_LEVEL_GET) c.write(c.reply(p, { data: '9.00' }));
      else server.autoReply(p, c);
    };
    const first = await client.lasers.level(2);
    const second = await client.lasers.level(2);
    // The first is answered by the push (same laser, same moment); the genuine reply is then
    // an event, held off from the second request by the fence.
    expect(first).toBe(7);
    expect(second).toBe(9);
    expect(seen.events.map((p) => dataText(p))).toEqual(['8.00']);
    const codes = server.received.slice(1).map((p) => p.code);
    expect(codes).toEqual([Command.LASER_LEVEL_GET, Command.SYSTEM_STATE_GET, Command.LASER_LEVEL_GET, Command.SYSTEM_STATE_GET]);
  });

  it('a flagless send() of an on-flag code (LED_SET) still fences the next LED_SET request: its answer is never taken for the request', async () => {
    harness = await connectFake('memory', 'lease');
    const { client, server } = harness;
    const seen = collect(client);
    let held: Packet | null = null;
    server.handler = (p, c) => {
      if (p.code === Command.LED_SET && (p.cmdDataBits0 & 0x80000000) === 0) {
        held = p; // the evidence only records LED_SET sent with the flag: this one is answered late
        return;
      }
      if (held !== null) {
        // The late answer to the flagless send goes out ahead of whatever comes next.
        c.write(c.reply(held, { int32Data1: 111 }), c.reply(p, { int32Data1: p.int32Data1 }));
        held = null;
        return;
      }
      if (p.code === Command.LED_SET) c.write(c.reply(p, { int32Data1: p.int32Data1 }));
      else server.autoReply(p, c);
    };
    await client.send(Command.LED_SET, { int32Data0: 1, int32Data1: 111 });
    const reply = await client.request(Command.LED_SET, { int32Data0: 1, int32Data1: 222 });
    expect(reply.int32Data1).toBe(222);
    expect(seen.unmatched.map((p) => [p.code, p.int32Data1])).toEqual([[Command.LED_SET, 111]]);
    expect(server.received.slice(1).map((p) => p.code)).toEqual([Command.LED_SET, Command.SYSTEM_STATE_GET, Command.LED_SET]);
  });

  it('after a timeout, same-code packets before the fence reply are unmatched, later ones events again', async () => {
    harness = await connectFake('memory', 'lease');
    const { client, server } = harness;
    const seen = collect(client);
    let held: Packet | null = null;
    server.handler = (p, c) => {
      if (p.code === Command.STAGE_POSITION_GET && held === null) {
        held = p;
        return;
      }
      if (p.code === Command.SYSTEM_STATE_GET && held !== null) {
        // Late reply, a push, then the fence's reply, then a push after the fence.
        c.write(
          c.reply(held, { value: 1 }),
          encodePacket({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 3, value: 3 }),
          c.reply(p),
          encodePacket({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 3, value: 4 }),
        );
        held = null;
        return;
      }
      server.autoReply(p, c);
    };
    const timedOut = await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }, { timeoutMs: 20 }));
    expect(timedOut.ok).toBe(false);
    const after = client.waitFor((p) => p.value === 4, { timeoutMs: 5000 });
    await after;
    expect(seen.unmatched.map((p) => p.value)).toEqual([1, 3]);
    expect(seen.events.map((p) => p.value)).toEqual([4]);
  });

  it('when every fence times out the server is unresponsive: error, the link is dropped, pending requests fail', async () => {
    harness = await connectFake('memory', 'lease', { requestTimeoutMs: 20 });
    const { client, server } = harness;
    server.handler = () => undefined;
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const first = await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }));
    const queued = outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }));
    await closed;
    expect(first.ok).toBe(false);
    const q = await queued;
    expect(q.ok).toBe(false);
    if (!q.ok) expect((q.error as { code?: string }).code).toBe('CLOSED');
    expect(errors.map((e) => e.message)).toEqual([
      'server stopped answering: fences timed out after late STAGE_POSITION_GET, SYSTEM_STATE_GET, CAMERA_IMAGE_SIZE_GET, CAMERA_EXPOSURE_GET',
    ]);
    expect(server.received.slice(1).map((p) => p.code)).toEqual([
      Command.STAGE_POSITION_GET,
      Command.SYSTEM_STATE_GET,
      Command.CAMERA_IMAGE_SIZE_GET,
      Command.CAMERA_EXPOSURE_GET,
    ]);
  });
});

describe('sequenced mode', () => {
  it('a packet with a pending sequence but another code is unmatched; the request still gets its own reply', async () => {
    harness = await connectFake('memory', 'sequenced');
    const { client, server } = harness;
    const seen = collect(client);
    server.handler = (p, c) => {
      if (p.code === Command.CAMERA_EXPOSURE_GET) {
        c.write(encodePacket({ code: Command.SYSTEM_STATE_GET, clientId: p.clientId, status: 1 }), c.reply(p, { int32Data0: 9000 }));
      } else server.autoReply(p, c);
    };
    const reply = await client.request(Command.CAMERA_EXPOSURE_GET);
    expect(reply.int32Data0).toBe(9000);
    expect(seen.unmatched.map((p) => p.code)).toEqual([Command.SYSTEM_STATE_GET]);
    expect(seen.events).toEqual([]);
  });

  it('pipelines at most maxInFlight requests; the rest wait and have their own queue deadline', async () => {
    harness = await connectFake('memory', 'sequenced', { maxInFlight: 2, queueTimeoutMs: 30 });
    const { client, server } = harness;
    const held: Packet[] = [];
    server.handler = (p) => held.push(p);
    const a = outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }));
    const b = outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }));
    const c = outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 }));
    const rc = await c;
    expect(rc.ok).toBe(false);
    if (!rc.ok) {
      expect(rc.error).toBeInstanceOf(QueueTimeoutError);
      expect(rc.error.message).toBe('STAGE_POSITION_GET waited 30 ms for its turn and was not sent');
    }
    expect(held.map((p) => p.int32Data0)).toEqual([1, 2]);
    const d = client.request(Command.STAGE_POSITION_GET, { int32Data0: 4 });
    const conn = server.connection;
    conn.write(conn.reply(held[1] as Packet, { value: 2 }), conn.reply(held[0] as Packet, { value: 1 }));
    expect(((await a) as { value: Packet }).value.value).toBe(1);
    expect(((await b) as { value: Packet }).value.value).toBe(2);
    await server.waitForPackets(4);
    conn.write(conn.reply(held[2] as Packet, { value: 4 }));
    expect((await d).value).toBe(4);
  });

  it('sequence numbers wrap past 0xFFFFFFFF to 1 (firstSequence starts near the top)', () => {
    const written: Uint8Array[] = [];
    const wire: Wire = {
      up: true,
      gateClosed: false,
      write: (b) => {
        written.push(b);
        return true;
      },
      whenUp: () => Promise.resolve(true),
    };
    const sequencer = new Sequencer({ wire, field: 'clientId', maxInFlight: 8, maxQueued: 8, queueTimeoutMs: 1000, firstSequence: 0xfffffffe });
    const make = () => pendingRequest();
    const requests = Array.from({ length: 3 }, make);
    for (const r of requests) sequencer.submit(r);
    expect(requests.map((r) => r.sequence)).toEqual([0xfffffffe, 0xffffffff, 1]);
    expect(sequencer.inFlightCount).toBe(3);
    for (const r of requests) r.resolveWith({ code: r.code } as Packet);
    expect(sequencer.inFlightCount).toBe(0);
    expect(written.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(20, true))).toEqual([0xfffffffe, 0xffffffff, 1]);
  });

  it('firstSequence outside 1..0xFFFFFFFF is refused', () => {
    const wire: Wire = { up: true, gateClosed: false, write: () => true, whenUp: () => Promise.resolve(true) };
    for (const firstSequence of [0, -1, 0x100000000, 1.5]) {
      expect(() => new Sequencer({ wire, field: 'clientId', maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 1, firstSequence })).toThrow(RangeError);
    }
  });
});

describe('resources', () => {
  it('a drop mid-request leaves no unhandled rejection, no timer and no socket', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
    const server = new FakeServer({ echoSequence: true });
    const port = await server.listen();
    const client = await FlamingoClient.connect({ port });
    server.handler = () => undefined;
    const requests = [1, 2, 3].map((axis) => outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: axis })));
    const waiting = outcome(client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 10_000 }));
    await server.waitForPackets(4);
    server.connection.drop();
    const results = await Promise.all([...requests, waiting]);
    expect(results.map((r) => (r.ok ? 'resolved' : (r.error as { code?: string }).code))).toEqual(['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED']);
    // The requests fail at the peer's FIN; close() resolves once the socket is released too.
    await client.close();
    await server.close();
    // One turn for the sockets' already-queued close callbacks to release their handles.
    await turns(1);
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
    process.off('unhandledRejection', onUnhandled);
    expect(after).toBe(before);
    expect(unhandled).toEqual([]);
  });
});

describe('SafeEmitter', () => {
  it('isolates a throwing listener, keeps once semantics, reports the error on the next tick', async () => {
    const emitter = new SafeEmitter<{ tick: [n: number]; error: [e: Error] }>();
    const calls: string[] = [];
    emitter.on('tick', () => {
      throw new Error('first throws');
    });
    emitter.once('tick', (n) => calls.push(`once ${n}`));
    emitter.on('tick', (n) => calls.push(`always ${n}`));
    const errors: Error[] = [];
    emitter.on('error', (e) => errors.push(e));
    expect(emitter.emit('tick', 1)).toBe(true);
    expect(emitter.emit('tick', 2)).toBe(true);
    expect(calls).toEqual(['once 1', 'always 1', 'always 2']);
    expect(errors).toEqual([]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(errors.map((e) => e.message)).toEqual(['first throws', 'first throws']);
    expect(emitter.listenerCount('tick')).toBe(2);
  });
});

describe('DeadlineTimer', () => {
  it('expires entries in deadline order, re-arms for an earlier deadline, and leaves no live timer', async () => {
    const { DeadlineTimer } = await import('../../src/correlation/deadlines.js');
    const timer = new DeadlineTimer();
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      const entry = (name: string, inMs: number) => ({
        deadline: performance.now() + inMs,
        expire: () => {
          order.push(name);
          if (order.length === 2) resolve();
        },
      });
      const cancelled = entry('cancelled', 5);
      timer.add(entry('late', 60));
      timer.add(entry('early', 15));
      timer.add(cancelled);
      timer.delete(cancelled);
    });
    await done;
    expect(order).toEqual(['early', 'late']);
    expect(timer.size).toBe(0);
  });

  it('an expiry that deletes another passed entry spares it; one that throws costs the others nothing, and the error still surfaces', async () => {
    const { DeadlineTimer } = await import('../../src/correlation/deadlines.js');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const timer = new DeadlineTimer();
      const told: string[] = [];
      const at = performance.now() + 10;
      const second = { deadline: at, expire: () => told.push('second') };
      const first = {
        deadline: at,
        expire: () => {
          told.push('first');
          timer.delete(second);
        },
      };
      const boom = {
        deadline: at,
        expire: () => {
          told.push('boom');
          throw new Error('expiry failed');
        },
      };
      const last = { deadline: at, expire: () => told.push('last') };
      const later = { deadline: at + 50, expire: () => told.push('later') };
      for (const entry of [first, second, boom, last, later]) timer.add(entry);
      expect(() => vi.advanceTimersByTime(10)).toThrow('expiry failed');
      expect(told).toEqual(['first', 'boom', 'last']);
      expect(timer.size).toBe(1);
      // Re-armed for the one still waiting, despite the throw.
      vi.advanceTimersByTime(50);
      expect(told).toEqual(['first', 'boom', 'last', 'later']);
      expect(timer.size).toBe(0);
      const held = { deadline: at + 1e6, expire: () => undefined };
      timer.add(held);
      expect(() => new DeadlineTimer().add(held)).toThrow('one deadline timer only');
      timer.delete(held);
    } finally {
      vi.useRealTimers();
    }
  });
});
