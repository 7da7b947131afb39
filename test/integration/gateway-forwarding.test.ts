/**
 * The gateway's forwarding path (issue 14: request headers written from the decoded packet
 * into the session's slab and only stamped by correlation, replies relayed the same way)
 * keeps every guarantee: a reply to its caller only, with every field the instrument sent;
 * events to every app once and in order; one request on the wire in lease mode; a timed
 * out request's failure reply and its late reply reaching nobody; the mirror updated by a
 * forwarded reply. Exact bytes and fields, over memory transports and a scripted upstream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Command,
  Flags,
  FlamingoClient,
  FlamingoGateway,
  STATUS_OK,
  createMemoryPair,
  dataText,
  encodePacket,
  writeAndWaitForRoom,
  type Packet,
  type PacketInit,
} from 'flamingo-protocol';
import { FakeServer } from '../support/fake-server.js';
import { WireClient } from '../support/sim-harness.js';

const CB = Flags.TRIGGER_CALL_BACK;
const opened: { gateway: FlamingoGateway; server: FakeServer }[] = [];
afterEach(async () => {
  for (const { gateway, server } of opened.splice(0)) {
    await gateway.close();
    await server.close();
  }
});

async function start(mode: 'lease' | 'sequenced', requestTimeoutMs = 5000): Promise<{ gateway: FlamingoGateway; server: FakeServer }> {
  const server = new FakeServer({ echoSequence: mode === 'sequenced' });
  const gateway = await FlamingoGateway.start({
    upstreamPort: 1,
    upstreamTransport: () => server.connectMemory(),
    mode,
    port: 0,
    livePort: false,
    requestTimeoutMs,
  });
  opened.push({ gateway, server });
  return { gateway, server };
}

/** A raw app on a memory pair served by the gateway. */
function app(gateway: FlamingoGateway): WireClient {
  const [mine, theirs] = createMemoryPair();
  const client = new WireClient({
    write: (b) => void writeAndWaitForRoom(mine, b).catch(() => undefined),
    end: () => void mine.close(),
    destroy: () => mine.destroy(),
  });
  mine.attach({ data: (c) => client.data(c), close: () => client.ended() });
  gateway.attach(theirs);
  return client;
}

function fields(p: Packet): (number | string)[] {
  return [p.code, p.status, p.hardwareId, p.subsystemId, p.clientId, p.int32Data0, p.int32Data1, p.int32Data2, p.cmdDataBits0, p.value, dataText(p)];
}

/** A position reply carrying every field, so that a field lost on the way shows. */
function positionReply(server: FakeServer, request: Packet): PacketInit {
  return server.replyInit(request, {
    int32Data1: 77,
    int32Data2: -5,
    cmdDataBits0: 0x40,
    value: request.int32Data0 * 1.25,
    data: `axis ${request.int32Data0}`,
  });
}

describe.each(['lease', 'sequenced'] as const)('gateway forwarding, %s upstream', (mode) => {
  it("forwards the app's fields with the gateway's own sequence, and relays every reply field to its caller only", async () => {
    const { gateway, server } = await start(mode);
    server.handler = (packet, connection) => connection.write(encodePacket(positionReply(server, packet)));
    const a = app(gateway);
    const b = app(gateway);
    const [ra, rb] = await Promise.all([
      a.request({ code: Command.STAGE_POSITION_GET, int32Data0: 1, int32Data1: 3, value: 0.5, data: 'from a', hardwareId: 11, subsystemId: 12, clientId: 13 }),
      b.request({ code: Command.STAGE_POSITION_GET, int32Data0: 2, int32Data1: 4, value: -0.5, data: 'from b', hardwareId: 21, subsystemId: 22, clientId: 23 }),
    ]);
    expect(fields(ra)).toEqual([Command.STAGE_POSITION_GET, STATUS_OK, 11, 12, 13, 1, 77, -5, 0x40, 1.25, 'axis 1']);
    expect(fields(rb)).toEqual([Command.STAGE_POSITION_GET, STATUS_OK, 21, 22, 23, 2, 77, -5, 0x40, 2.5, 'axis 2']);
    expect([a.received.length, b.received.length]).toEqual([1, 1]);
    const upstream = [...server.received].sort((x, y) => x.int32Data0 - y.int32Data0);
    const sequences = upstream.map((p) => [p.hardwareId, p.subsystemId]);
    expect(sequences).toEqual([
      [0, 0],
      [0, 0],
    ]);
    const clientIds = upstream.map((p) => p.clientId);
    // Lease mode stamps nothing; sequenced mode stamps its own sequence, never the app's 13 or 23.
    if (mode === 'lease') expect(clientIds).toEqual([0, 0]);
    else expect(new Set(clientIds).size === 2 && clientIds.every((s) => s !== 0 && s !== 13 && s !== 23)).toBe(true);
    expect(upstream.map((p) => [p.code, p.int32Data0, p.int32Data1, p.value, p.cmdDataBits0, dataText(p), p.addDataBytes])).toEqual([
      [Command.STAGE_POSITION_GET, 1, 3, 0.5, CB, 'from a', 0],
      [Command.STAGE_POSITION_GET, 2, 4, -0.5, CB, 'from b', 0],
    ]);
  });

  it('sends every event to every app once and in stream order, and the forwarded reply in its place among them', async () => {
    const { gateway, server } = await start(mode);
    const stopped = (axis: number): Uint8Array => encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: STATUS_OK, int32Data0: axis, value: axis });
    server.handler = (packet, connection) =>
      connection.write(stopped(1), encodePacket(server.replyInit(packet, { int32Data0: 0xa002 })), stopped(2), stopped(3));
    const a = app(gateway);
    const b = app(gateway);
    const reply = await a.request({ code: Command.SYSTEM_STATE_GET, clientId: 9 });
    expect(fields(reply)).toEqual([Command.SYSTEM_STATE_GET, STATUS_OK, 0, 0, 9, 0xa002, 0, 0, 0, 0, '']);
    const events = async (c: WireClient) => [await c.next(), await c.next(), await c.next()].map((p) => [p.code, p.int32Data0]);
    const expected = [1, 2, 3].map((axis) => [Command.STAGE_MOTION_STOPPED, axis]);
    expect(await events(a)).toEqual(expected);
    expect(await events(b)).toEqual(expected);
    // The reply reaches its app where it was in the instrument's stream: after the event
    // before it and before the events after it (it used to follow the whole chunk).
    expect(a.received.map((p) => [p.code, p.int32Data0])).toEqual([
      [Command.STAGE_MOTION_STOPPED, 1],
      [Command.SYSTEM_STATE_GET, 0xa002],
      [Command.STAGE_MOTION_STOPPED, 2],
      [Command.STAGE_MOTION_STOPPED, 3],
    ]);
    // Once each: B's next packet is the answer to its own request, nothing left over.
    const own = await b.request({ code: Command.SYSTEM_STATE_GET, clientId: 5 });
    expect([own.code, own.clientId]).toEqual([Command.SYSTEM_STATE_GET, 5]);
    expect(b.received.filter((p) => p.code === Command.STAGE_MOTION_STOPPED)).toHaveLength(6);
    expect(b.received.filter((p) => p.code === Command.SYSTEM_STATE_GET).map((p) => p.clientId)).toEqual([5]);
    expect(gateway.stats.events).toBe(6);
  });

  it('updates the mirror with a forwarded reply before the app gets it', async () => {
    const { gateway, server } = await start(mode);
    server.handler = (packet, connection) => connection.write(encodePacket(positionReply(server, packet)));
    const a = app(gateway);
    const seen: (number | undefined)[] = [];
    gateway.upstream.state.on('change', (next) => seen.push(next.stage.y.position));
    const reply = await a.request({ code: Command.STAGE_POSITION_GET, int32Data0: 2, clientId: 1 });
    expect([reply.int32Data0, reply.value]).toEqual([2, 2.5]);
    expect(gateway.upstream.state.snapshot().stage.y.position).toBe(2.5);
    expect(seen).toEqual([2.5]);
  });
});

describe('gateway forwarding, lease upstream', () => {
  it('keeps one request on the wire at a time across apps that pipeline', async () => {
    const { gateway, server } = await start('lease');
    let onWire = 0;
    let most = 0;
    server.handler = (packet, connection) => {
      onWire++;
      most = Math.max(most, onWire);
      // Answered on a later turn, so a second request written meanwhile would be counted.
      setImmediate(() => {
        onWire--;
        connection.write(encodePacket(positionReply(server, packet)));
      });
    };
    const a = app(gateway);
    const b = app(gateway);
    const asks = [1, 2, 3].flatMap((axis) => [
      a.request({ code: Command.STAGE_POSITION_GET, int32Data0: axis, clientId: 100 + axis }),
      b.request({ code: Command.STAGE_POSITION_GET, int32Data0: axis, clientId: 200 + axis }),
    ]);
    const replies = await Promise.all(asks);
    expect(replies.map((p) => [p.clientId, p.int32Data0, p.value])).toEqual(
      [1, 2, 3].flatMap((axis) => [
        [100 + axis, axis, axis * 1.25],
        [200 + axis, axis, axis * 1.25],
      ]),
    );
    expect(server.received).toHaveLength(6);
    expect(most).toBe(1);
  });

  it("fails a forwarded request that times out (status 0, the app's ids and axis), and its late reply reaches nobody", async () => {
    const { gateway, server } = await start('lease', 100);
    // The instrument answers in order: while the first position request is held, what
    // comes after it (the lease's fence) is held behind it.
    const held: Packet[] = [];
    let releasing = false;
    const answer = (packet: Packet): Uint8Array =>
      encodePacket(packet.code === Command.STAGE_POSITION_GET ? positionReply(server, packet) : server.replyInit(packet));
    server.handler = (packet, connection) => {
      if (!releasing) held.push(packet);
      else connection.write(answer(packet));
    };
    const fenceWritten = new Promise<void>((resolve) => {
      const before = server.handler;
      server.handler = (packet, connection) => {
        before(packet, connection);
        if (held.length === 2) resolve();
      };
    });
    const a = app(gateway);
    const b = app(gateway);
    const failed = await a.request({ code: Command.STAGE_POSITION_GET, int32Data0: 3, hardwareId: 1, subsystemId: 2, clientId: 3 });
    expect(fields(failed)).toEqual([Command.STAGE_POSITION_GET, 0, 1, 2, 3, 3, 0, 0, 0, 0, 'gateway: no reply from the instrument']);
    await fenceWritten;
    // The late reply comes now, with a value nobody asked for, then the fence's answer.
    const [late, fence] = held as [Packet, Packet];
    expect(fence.code).not.toBe(Command.STAGE_POSITION_GET);
    releasing = true;
    server.connection.write(encodePacket(server.replyInit(late, { value: 999 })), answer(fence));
    const next = await b.request({ code: Command.STAGE_POSITION_GET, int32Data0: 3, clientId: 8 });
    expect([next.clientId, next.int32Data0, next.value]).toEqual([8, 3, 3.75]);
    expect(server.received.map((p) => p.code)).toEqual([Command.STAGE_POSITION_GET, fence.code, Command.STAGE_POSITION_GET]);
    expect(a.received).toHaveLength(1);
    expect(b.received.map((p) => p.value)).toEqual([3.75]);
    expect([gateway.upstream.stats().unmatched, gateway.upstream.stats().timeouts, gateway.upstream.stats().fences]).toEqual([1, 1, 1]);
  });
});

describe('RequestOptions.header (a header the caller encoded already)', () => {
  it('is written with only the sequence stamped, and one that is not a header of the command is refused before anything is sent', async () => {
    const server = new FakeServer({ echoSequence: true });
    const client = await FlamingoClient.connect({ transport: server.connectMemory(), mode: 'sequenced' });
    try {
      const header = encodePacket({ code: Command.STAGE_POSITION_GET, int32Data0: 2, value: 0.25, data: 'h', cmdDataBits0: CB });
      const reply = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2, value: 0.25, data: 'h' }, { header });
      expect([reply.int32Data0, reply.status]).toEqual([2, STATUS_OK]);
      const sent = server.received[0] as Packet;
      expect(sent.clientId).toBe(reply.clientId);
      expect(Array.from(header.subarray(20, 24))).toEqual([
        sent.clientId & 0xff,
        (sent.clientId >>> 8) & 0xff,
        (sent.clientId >>> 16) & 0xff,
        sent.clientId >>> 24,
      ]);
      expect([sent.code, sent.int32Data0, sent.value, dataText(sent), sent.cmdDataBits0]).toEqual([Command.STAGE_POSITION_GET, 2, 0.25, 'h', CB]);
      // A header whose addDataBytes is not the payload's length would desynchronise the stream.
      const wrongLength = encodePacket({ code: Command.STAGE_POSITION_GET, int32Data0: 2, addDataBytes: 16, cmdDataBits0: CB });
      for (const bad of [header.subarray(0, 127), encodePacket({ code: Command.SYSTEM_STATE_GET }), new Uint8Array(128), wrongLength]) {
        await expect(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }, { header: bad })).rejects.toMatchObject({ code: 'ARGUMENT' });
      }
      expect(server.received).toHaveLength(1);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
