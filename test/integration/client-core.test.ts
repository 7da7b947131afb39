import { AsyncResource } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, ConnectionClosedError, Flags, FlamingoClient, ProtocolError, TimeoutError, dataText, encodePacket, type Packet } from 'flamingo-protocol';
import { FakeServer } from '../support/fake-server.js';
import { MATRIX, connectFake, outcome, type Harness } from '../support/client-harness.js';

let harness: Harness | null = null;
afterEach(async () => {
  await harness?.cleanup();
  harness = null;
});

describe.each(MATRIX)('client core over %s, %s mode', (kind, mode) => {
  it('auto mode picks the mode from the probe', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    expect(client.mode).toBe(mode);
    const probe = server.received[0] as Packet;
    expect(probe.code).toBe(Command.SYSTEM_STATE_GET);
    expect(probe.clientId).not.toBe(0);
    expect(probe.cmdDataBits0 >>> 0).toBe(Flags.TRIGGER_CALL_BACK);
  });

  it('request sets the callback flag, stamps the sequence only in sequenced mode, resolves with the reply', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => server.autoReply(p, c, { value: 12.5 });
    const reply = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
    expect(reply.code).toBe(Command.STAGE_POSITION_GET);
    expect(reply.int32Data0).toBe(3);
    expect(reply.value).toBe(12.5);
    const sent = server.received[1] as Packet;
    expect(sent.int32Data0).toBe(3);
    expect(sent.cmdDataBits0 >>> 0).toBe(Flags.TRIGGER_CALL_BACK);
    if (mode === 'sequenced') {
      // Nonzero, and not the probe's: sequences in flight or tombstoned are never reused.
      expect(sent.clientId).not.toBe(0);
      expect(sent.clientId).not.toBe((server.received[0] as Packet).clientId);
    } else expect(sent.clientId).toBe(0);
    expect(client.pendingCount).toBe(0);
  });

  it('raw request resolves a failure status; expectOk turns it into ProtocolError', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => server.autoReply(p, c, p.code === Command.CAMERA_EXPOSURE_GET ? { status: 0 } : {});
    const raw = await client.request(Command.CAMERA_EXPOSURE_GET);
    expect(raw.status).toBe(0);
    const strict = await outcome(client.request(Command.CAMERA_EXPOSURE_GET, undefined, { expectOk: true }));
    expect(strict.ok).toBe(false);
    if (!strict.ok) {
      expect(strict.error).toBeInstanceOf(ProtocolError);
      expect((strict.error as ProtocolError).code).toBe('PROTOCOL');
      expect((strict.error as ProtocolError).reply.status).toBe(0);
    }
  });

  it('send writes without the callback flag and with the payload', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    await client.send(Command.LASER_ALL_DISABLE);
    await client.send(Command.COMMON_SCOPE_SETTINGS_SAVE, { int32Data1: 9 }, { payload: new TextEncoder().encode('abc') });
    await server.waitForPackets(3);
    expect(server.received[1]?.code).toBe(Command.LASER_ALL_DISABLE);
    expect(server.received[1]?.cmdDataBits0).toBe(0);
    expect(server.received[2]?.int32Data1).toBe(9);
    expect(server.received[2]?.addDataBytes).toBe(3);
    expect(Array.from(server.received[2]?.payload ?? [])).toEqual([97, 98, 99]);
  });

  it('timeout names the command and the time; the late reply becomes unmatched and never answers a later request', async () => {
    harness = await connectFake(kind, mode, { requestTimeoutMs: 2000 });
    const { client, server } = harness;
    const held: Packet[] = [];
    server.handler = (p, c) => {
      if (p.code === Command.STAGE_POSITION_GET && held.length === 0) held.push(p);
      else server.autoReply(p, c, p.code === Command.STAGE_POSITION_GET ? { value: 2 } : {});
    };
    const unmatched: Packet[] = [];
    const events: Packet[] = [];
    client.on('unmatched', (p) => unmatched.push(p));
    client.on('event', (p) => events.push(p));
    const first = await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }, { timeoutMs: 30 }));
    expect(first.ok).toBe(false);
    if (!first.ok) {
      expect(first.error).toBeInstanceOf(TimeoutError);
      expect(first.error.message).toBe('STAGE_POSITION_GET got no reply within 30 ms');
      expect((first.error as TimeoutError).command).toBe('STAGE_POSITION_GET');
    }
    // The late reply arrives now, right before the next same-code request is made.
    const late = server.connection.reply(held[0] as Packet, { value: 1 });
    server.connection.write(late);
    const second = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
    expect(second.value).toBe(2);
    expect(unmatched.map((p) => p.value)).toEqual([1]);
    expect(events).toEqual([]);
    if (mode === 'lease') {
      // The fence: a SYSTEM_STATE_GET went out after the timeout, before the second request.
      const codes = server.received.slice(1).map((p) => p.code);
      expect(codes).toEqual([Command.STAGE_POSITION_GET, Command.SYSTEM_STATE_GET, Command.STAGE_POSITION_GET]);
    }
  });

  it('abort rejects with AbortError and removes the pending entry', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code !== Command.CAMERA_EXPOSURE_GET) server.autoReply(p, c);
    };
    const controller = new AbortController();
    const pending = outcome(client.request(Command.CAMERA_EXPOSURE_GET, undefined, { signal: controller.signal }));
    await server.waitForPackets(2);
    controller.abort();
    const result = await pending;
    expect(result.ok).toBe(false);
    if (!result.ok) expect((result.error as { code?: string }).code).toBe('ABORTED');
    expect(client.pendingCount).toBe(0);
  });

  it('waitFor is armed synchronously: an event in the same chunk as the reply is not missed', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code === Command.SYSTEM_STATE_GET && server.received.length > 1) {
        c.write(c.reply(p), encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }));
      } else server.autoReply(p, c);
    };
    const reply = await client.request(Command.SYSTEM_STATE_GET);
    expect(reply.code).toBe(Command.SYSTEM_STATE_GET);
    // The event was already dispatched; a waiter armed before the request would have seen it.
    const armed = client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 2000 });
    server.connection.write(encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1, int32Data0: 5 }));
    expect((await armed).int32Data0).toBe(5);
  });

  it('events() keeps a bounded buffer, drops the oldest and counts them', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const stream = client.events(Command.UI_SET_GAUGE_VALUE, { bufferSize: 3 });
    const done = client.waitFor((p) => p.code === Command.UI_SET_GAUGE_VALUE && p.int32Data0 === 9, { timeoutMs: 5000 });
    const packets = Array.from({ length: 10 }, (_, i) => encodePacket({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: i }));
    server.connection.write(...packets);
    await done;
    expect(stream.dropped).toBe(7);
    const seen: number[] = [];
    for await (const p of stream) {
      seen.push(p.int32Data0);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([7, 8, 9]);
    expect(stream.isEnded).toBe(true);
  });

  it('exclusive holds every other write back until the section settles, and releases on throw', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const order: string[] = [];
    let outside: Promise<unknown> = Promise.resolve();
    let sent: Promise<void> = Promise.resolve();
    // Runs a function in the test's own async context, i.e. outside the section even when
    // called from its callback (calls made in the section's own context run inside it:
    // sections are re-entrant, spec/exclusive.md).
    const fromOutside = AsyncResource.bind((fn: () => void) => fn());
    await client.exclusive(async (tx) => {
      // Made while the section runs, by code outside it: both must wait until it ends.
      fromOutside(() => {
        outside = client.request(Command.CAMERA_EXPOSURE_GET).then(() => order.push('outside'));
        sent = client.send(Command.LED_ENABLE, { int32Data0: 1 });
      });
      await tx.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
      order.push('tx1');
      await tx.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
      order.push('tx2');
    });
    await Promise.all([outside, sent]);
    const codes = server.received.slice(1).map((p) => p.code);
    expect(codes.slice(0, 2)).toEqual([Command.STAGE_POSITION_GET, Command.STAGE_POSITION_GET]);
    expect(codes.slice(2).sort()).toEqual([Command.CAMERA_EXPOSURE_GET, Command.LED_ENABLE].sort());
    expect(order).toEqual(['tx1', 'tx2', 'outside']);
    const thrown = await outcome(
      client.exclusive(async () => {
        throw new Error('boom');
      }),
    );
    expect(thrown.ok).toBe(false);
    expect((await client.request(Command.SYSTEM_STATE_GET)).code).toBe(Command.SYSTEM_STATE_GET);
  });

  it('close rejects every pending request once, emits close once, and is idempotent', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = () => undefined;
    let closes = 0;
    client.on('close', () => closes++);
    const pending = [
      outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 })),
      outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 })),
      outcome(client.waitFor(Command.SYSTEM_STATE_IDLE)),
    ];
    await server.waitForPackets(2);
    await Promise.all([client.close(), client.close()]);
    await client.close();
    const results = await Promise.all(pending);
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBeInstanceOf(ConnectionClosedError);
    }
    expect(closes).toBe(1);
    expect(client.pendingCount).toBe(0);
    const after = await outcome(client.request(Command.SYSTEM_STATE_GET));
    expect(after.ok).toBe(false);
    if (!after.ok) expect((after.error as ConnectionClosedError).maybeExecuted).toBe(false);
  });

  it('a dropped connection rejects every pending request exactly once (maybeExecuted when written)', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = () => undefined;
    let settledCount = 0;
    const count = <T>(p: Promise<T>) => outcome(p).finally(() => settledCount++);
    const a = count(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }));
    const b = count(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }));
    await server.waitForPackets(2);
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    server.connection.drop();
    await closed;
    const [ra, rb] = await Promise.all([a, b]);
    expect(settledCount).toBe(2);
    expect(ra.ok || rb.ok).toBe(false);
    if (!ra.ok) {
      expect(ra.error).toBeInstanceOf(ConnectionClosedError);
      expect((ra.error as ConnectionClosedError).maybeExecuted).toBe(true);
    }
    if (!rb.ok) {
      expect(rb.error).toBeInstanceOf(ConnectionClosedError);
      // Sequenced: both were on the wire. Lease: the second never left the queue.
      expect((rb.error as ConnectionClosedError).maybeExecuted).toBe(mode === 'sequenced');
    }
    expect(client.isClosed).toBe(true);
  });

  it('an oversized payload claim gives an error (FrameError) and a clean close with everything rejected', async () => {
    harness = await connectFake(kind, mode, { maxPayloadBytes: 1024 });
    const { client, server } = harness;
    server.handler = () => undefined;
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const pending = outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }));
    await server.waitForPackets(2);
    server.connection.write(encodePacket({ code: Command.COMMON_SCOPE_SETTINGS, addDataBytes: 1 << 30 }));
    await closed;
    const result = await pending;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toBeInstanceOf(ConnectionClosedError);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['FRAME']);
  });

  it('garbage between packets gives resync and the connection keeps working', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const resyncs: number[] = [];
    client.on('resync', (info) => resyncs.push(info.skippedBytes));
    server.handler = (p, c) => c.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), c.reply(p, { int32Data0: 1 }));
    const state = await client.system.state();
    expect(state).toBe('busy');
    expect(resyncs).toEqual([7]);
  });

  it('validates arguments before sending anything', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const before = server.received.length;
    const bad = await Promise.all([
      outcome(client.stage.moveTo(7, 1)),
      outcome(client.stage.moveTo(1, Number.NaN)),
      outcome(client.lasers.setLevel(1, 140)),
      outcome(client.lasers.setLevel(5, 10)),
      outcome(client.lasers.level(0)),
      outcome(client.stage.position(2.5)),
      outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 ** 40 })),
      outcome(client.request(Command.STAGE_POSITION_GET, { value: Number.NaN })),
      // Deliberately ill-typed (`as never`, also below): the runtime checks of an untyped caller are under test.
      outcome(client.request(Command.STAGE_POSITION_GET, { axis: 1 } as never)),
      outcome(client.request(Command.LASER_ALL_DISABLE)),
      outcome(client.request(0x1_0000_0000)),
      outcome(client.request('NOT_A_COMMAND' as never)),
      outcome(client.request(Command.SYSTEM_STATE_GET, undefined, { timeoutMs: -1 })),
      outcome(client.send(Command.LED_SET, { data: 'x'.repeat(73) })),
    ]);
    for (const r of bad) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect((r.error as { code?: string }).code).toBe('ARGUMENT');
    }
    await client.request(Command.SYSTEM_STATE_GET);
    expect(server.received.length).toBe(before + 1);
  });

  it('a listener that throws is isolated: others still run and the error comes as an error event', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const seen: string[] = [];
    client.on('SYSTEM_STATE_IDLE', () => {
      throw new Error('listener bug');
    });
    client.on('SYSTEM_STATE_IDLE', () => seen.push('second'));
    client.once('SYSTEM_STATE_IDLE', () => seen.push('once'));
    // One 'error' per throw: the listener stays for both, or the second would be uncaught.
    const errors: Error[] = [];
    const both = new Promise<void>((resolve) => client.on('error', (e) => errors.push(e) === 2 && resolve()));
    server.connection.write(encodePacket({ code: Command.SYSTEM_STATE_IDLE }), encodePacket({ code: Command.SYSTEM_STATE_IDLE }));
    await both;
    expect(errors.map((e) => e.message)).toEqual(['listener bug', 'listener bug']);
    await client.request(Command.SYSTEM_STATE_GET);
    expect(seen).toEqual(['second', 'once', 'second']);
  });
});

describe('auto mode without a probe reply', () => {
  it('falls back to lease and fences the probe', async () => {
    const server = new FakeServer({ echoSequence: true });
    let probes = 0;
    server.handler = (p, c) => {
      if (p.code === Command.SYSTEM_STATE_GET && probes++ === 0) return;
      server.autoReply(p, c);
    };
    const client = await FlamingoClient.connect({ transport: server.connectMemory(), probeTimeoutMs: 20 });
    try {
      expect(client.mode).toBe('lease');
      const reply = await client.request(Command.CAMERA_EXPOSURE_GET);
      expect(reply.code).toBe(Command.CAMERA_EXPOSURE_GET);
      expect(server.received.map((p) => p.code)).toEqual([Command.SYSTEM_STATE_GET, Command.CAMERA_IMAGE_SIZE_GET, Command.CAMERA_EXPOSURE_GET]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('connect rejects with an error naming host:port when nothing listens', async () => {
    const server = new FakeServer();
    const port = await server.listen();
    await server.close();
    const result = await outcome(FlamingoClient.connect({ port, connectTimeoutMs: 500 }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain(`127.0.0.1:${port}`);
  });
});

describe('text fields', () => {
  it('dataText reads a level', () => {
    expect(dataText(encodePacketForText('5.00'))).toBe('5.00');
  });
});

function encodePacketForText(text: string): Packet {
  return { data: new TextEncoder().encode(text.padEnd(72, '\0')) } as Packet;
}
