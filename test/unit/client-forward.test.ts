/**
 * FlamingoClient.forward: a relay re-sends a decoded packet as a request and gets its
 * outcome through one sink (issue 14: no promise, closure or options object per forwarded
 * request). The sink is told written, then replied or failed, each once and in that order;
 * a refusal reaches it before forward() returns, with the error request() would give.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  Command,
  ConnectionClosedError,
  Flags,
  FlamingoClient,
  PACKET_SIZE,
  STATUS_OK,
  TimeoutError,
  encodePacket,
  type Packet,
  type PendingRequest,
  type RequestSink,
} from 'flamingo-protocol';
import { FakeServer } from '../support/fake-server.js';
import { forwardable as decoded } from '../support/forward.js';

const opened: { client: FlamingoClient; server: FakeServer }[] = [];
afterEach(async () => {
  for (const { client, server } of opened.splice(0)) {
    await client.close();
    await server.close();
  }
});

async function start(mode: 'lease' | 'sequenced', requestTimeoutMs = 5000): Promise<{ client: FlamingoClient; server: FakeServer }> {
  const server = new FakeServer({ echoSequence: mode === 'sequenced' });
  const client = await FlamingoClient.connect({ port: 1, transport: () => server.connectMemory(), mode, requestTimeoutMs });
  opened.push({ client, server });
  return { client, server };
}

/** A sink that records every call, and resolves `settled` on the first replied/failed. */
function recordingSink(): { sink: RequestSink; calls: string[]; settled: Promise<Packet | Error>; replies: Packet[]; errors: Error[] } {
  const calls: string[] = [];
  const replies: Packet[] = [];
  const errors: Error[] = [];
  let done!: (outcome: Packet | Error) => void;
  const settled = new Promise<Packet | Error>((resolve) => {
    done = resolve;
  });
  const sink: RequestSink = {
    written: (request) => calls.push(`written ${request.name}`),
    replied: (request, reply) => {
      calls.push(`replied ${request.name}`);
      replies.push(reply);
      done(reply);
    },
    failed: (request, error) => {
      calls.push(`failed ${request.name}`);
      errors.push(error);
      done(error);
    },
  };
  return { sink, calls, settled, replies, errors };
}

describe.each(['lease', 'sequenced'] as const)('FlamingoClient.forward, %s mode', (mode) => {
  it('writes the given header (stamped with its sequence in sequenced mode), and tells the sink written, then replied, once each', async () => {
    const { client, server } = await start(mode);
    server.handler = (packet, connection) => connection.write(encodePacket(server.replyInit(packet, { value: 2.5, int32Data0: packet.int32Data0 })));
    const { packet, header } = decoded({ code: Command.STAGE_POSITION_GET, int32Data0: 2, value: 0.25, data: 'ask', clientId: 77 });
    const { sink, calls, settled } = recordingSink();
    const request = client.forward(packet, header, sink);
    expect(request.source).toBe(packet);
    expect(request.init).toBe(packet);
    const reply = (await settled) as Packet;
    expect([reply.code, reply.status, reply.int32Data0, reply.value]).toEqual([Command.STAGE_POSITION_GET, STATUS_OK, 2, 2.5]);
    expect(calls).toEqual(['written STAGE_POSITION_GET', 'replied STAGE_POSITION_GET']);
    const sent = server.received[0] as Packet;
    expect([sent.code, sent.int32Data0, sent.value, sent.cmdDataBits0, sent.hardwareId, sent.subsystemId]).toEqual([
      Command.STAGE_POSITION_GET,
      2,
      0.25,
      Flags.TRIGGER_CALL_BACK,
      0,
      0,
    ]);
    // The app's 77 never goes upstream: lease mode leaves 0, sequenced mode stamps its own.
    if (mode === 'lease') expect(sent.clientId).toBe(0);
    else expect(sent.clientId).toBe(request.sequence);
    expect(request.sequence === 0).toBe(mode === 'lease');
    expect(client.pendingCount).toBe(0);
  });

  it('tells the sink failed with a TimeoutError when no reply comes, and never replied', async () => {
    const { client, server } = await start(mode, 50);
    server.handler = () => undefined;
    const { packet, header } = decoded({ code: Command.SYSTEM_STATE_GET });
    const { sink, calls, settled } = recordingSink();
    client.forward(packet, header, sink);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(calls).toEqual(['written SYSTEM_STATE_GET', 'failed SYSTEM_STATE_GET']);
  });
});

describe('FlamingoClient.forward refusals', () => {
  it('refuses before returning, with the error request() gives: a command never answered, a header that is not the packet’s, a value that is not finite', async () => {
    const { client, server } = await start('lease');
    const never = decoded({ code: Command.LASER_ALL_DISABLE });
    const sinkNever = recordingSink();
    const refused = client.forward(never.packet, never.header, sinkNever.sink);
    expect(refused.settled).toBe(true);
    expect(sinkNever.calls).toEqual(['failed LASER_ALL_DISABLE']);
    expect(sinkNever.errors[0]).toBeInstanceOf(ArgumentError);
    expect(sinkNever.errors[0]?.message).toMatch(/never answered/);

    const ok = decoded({ code: Command.SYSTEM_STATE_GET });
    const other = decoded({ code: Command.STAGE_POSITION_GET });
    const sinkHeader = recordingSink();
    client.forward(ok.packet, other.header, sinkHeader.sink);
    expect(sinkHeader.errors[0]?.message).toMatch(/header must be the 128-byte header of SYSTEM_STATE_GET/);

    const nan = decoded({ code: Command.STAGE_POSITION_GET });
    const nanPacket = { ...nan.packet, value: Number.NaN };
    const sinkNaN = recordingSink();
    client.forward(nanPacket, nan.header, sinkNaN.sink);
    expect(sinkNaN.errors[0]?.message).toBe('value must be a finite number, got NaN');

    // Nothing reached the instrument, nothing stays pending.
    expect(server.received).toHaveLength(0);
    expect(client.pendingCount).toBe(0);
    expect(ok.header.length).toBe(PACKET_SIZE);
  });

  it('refuses on a closed client with ConnectionClosedError, not executed', async () => {
    const { client } = await start('lease');
    await client.close();
    const { packet, header } = decoded({ code: Command.SYSTEM_STATE_GET });
    const { sink, errors } = recordingSink();
    client.forward(packet, header, sink);
    expect(errors[0]).toBeInstanceOf(ConnectionClosedError);
    expect((errors[0] as ConnectionClosedError).maybeExecuted).toBe(false);
  });
});

describe('FlamingoClient.forward inside an exclusive section', () => {
  it('runs under the section while it is active, and as any request once it has ended', async () => {
    const { client, server } = await start('lease');
    let kept: Parameters<Parameters<FlamingoClient['exclusive']>[0]>[0] | null = null;
    const inside: PendingRequest[] = [];
    await client.exclusive(async (tx) => {
      kept = tx;
      const { packet, header } = decoded({ code: Command.SYSTEM_STATE_GET });
      const { sink, settled } = recordingSink();
      inside.push(client.forward(packet, header, sink, tx));
      await settled;
    });
    expect(inside[0]?.insideExclusive).toBe(true);
    expect(inside[0]?.outcome).toBe('reply');
    const { packet, header } = decoded({ code: Command.SYSTEM_STATE_GET });
    const after = recordingSink();
    const late = client.forward(packet, header, after.sink, kept);
    expect(late.insideExclusive).toBe(false);
    await after.settled;
    expect(after.calls).toEqual(['written SYSTEM_STATE_GET', 'replied SYSTEM_STATE_GET']);
    expect(server.received).toHaveLength(2);
  });
});
