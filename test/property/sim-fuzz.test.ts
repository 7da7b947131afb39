import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, createMemoryPair, Deframer, encodePacket, SeededRandom, STATUS_OK, type Packet } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { memoryClient, tcpClient, WireClient } from '../support/sim-harness.js';

const MAX_PAYLOAD = 256;
const PROBE_ID = 0xabcdef;

let sim: SimulatedMicroscope;
let healthy: WireClient;
const frameErrors = new Set<number>();

beforeAll(() => {
  sim = new SimulatedMicroscope({ timeScale: 1000, maxPayloadBytes: MAX_PAYLOAD, echoSequence: true });
  sim.on('frameError', ({ connectionId }) => frameErrors.add(connectionId));
  healthy = memoryClient(sim).client;
});
afterAll(async () => {
  await sim.close();
});

const CODES = [
  Command.SYSTEM_STATE_GET,
  Command.STAGE_POSITION_GET,
  Command.STAGE_POSITION_SET,
  Command.STAGE_HALT,
  Command.LASER_LEVEL_GET,
  Command.LASER_LEVEL_SET,
  Command.LASER_ALL_DISABLE,
  Command.CAMERA_WORKFLOW_START,
  Command.COMMON_SCOPE_SETTINGS,
  Command.STAGE_MOTION_STOPPED,
  0x1234,
  0xffffffff,
];

/** A valid packet, maybe with a small payload. */
const validPacket = fc
  .record({
    code: fc.constantFrom(...CODES),
    int32Data0: fc.integer({ min: -2, max: 6 }),
    value: fc.double({ noNaN: false }),
    clientId: fc.integer({ min: 1, max: 1000 }),
    callback: fc.boolean(),
    payload: fc.option(fc.uint8Array({ maxLength: 100 }), { nil: undefined }),
  })
  .map(({ callback, ...init }) => encodePacket({ ...init, cmdDataBits0: callback ? 0x80000000 : 0 }));

/** One piece of a hostile stream. */
const segment = fc.oneof(
  { arbitrary: validPacket, weight: 6 },
  { arbitrary: validPacket.chain((p) => fc.integer({ min: 0, max: p.length - 1 }).map((n) => p.slice(0, n))), weight: 2 },
  {
    arbitrary: fc.integer({ min: MAX_PAYLOAD + 1, max: 0xffffffff }).map((claim) => encodePacket({ code: Command.CAMERA_WORKFLOW_START, addDataBytes: claim })),
    weight: 1,
  },
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 2 },
);

function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...sorted, bytes.length]) {
    if (p > from) out.push(bytes.slice(from, p));
    from = p;
  }
  return out;
}

const key = (p: { code: number; clientId: number; addDataBytes: number }) => `${p.code}/${p.clientId}/${p.addDataBytes}`;

describe('simulator robustness', () => {
  it('never crashes on hostile byte streams, records exactly what a deframer sees, and keeps serving others', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), async (segments, points, abrupt) => {
        const stream = Buffer.concat(segments);
        const { client, id, transport } = memoryClient(sim);
        for (const chunk of cut(stream, points)) client.writeRaw(chunk);
        if (abrupt) {
          transport.destroy();
        } else {
          // Zeros finish any partial payload (≤ MAX_PAYLOAD) and can never form a marker;
          // then a probe the simulator must answer unless it closed the connection.
          const flush = new Uint8Array(MAX_PAYLOAD + 128);
          client.writeRaw(flush);
          const probe = client.next((p) => p.code === Command.SYSTEM_STATE_GET && p.clientId === PROBE_ID).catch(() => undefined);
          client.send({ code: Command.SYSTEM_STATE_GET, clientId: PROBE_ID, cmdDataBits0: 0x80000000 });
          const reply: Packet | undefined = await Promise.race([probe, client.whenClosed().then(() => undefined)]);
          if (reply === undefined) expect(frameErrors.has(id)).toBe(true);
          else expect(reply.clientId).toBe(PROBE_ID);
          // Records are exactly the packets an independent deframer finds in the stream
          // (a prefix of them when the simulator closed the connection on an oversize claim).
          const reference = new Deframer({ maxPayloadBytes: MAX_PAYLOAD });
          const expected = [...reference.push(stream), ...reference.push(flush)].map(key);
          const recorded = sim.recordsFor(id).map(key);
          if (reply !== undefined) expect(recorded).toEqual([...expected, `${Command.SYSTEM_STATE_GET}/${PROBE_ID}/0`]);
          else expect(expected.slice(0, recorded.length)).toEqual(recorded);
          transport.destroy();
        }
        const ok = await healthy.request({ code: Command.SYSTEM_STATE_GET });
        expect(ok.status).toBe(STATUS_OK);
      }),
    );
  });

  it('survives TCP clients that send garbage and vanish, while another client runs', async () => {
    const server = new SimulatedMicroscope({ timeScale: 1000, echoSequence: true });
    try {
      const { port } = await server.listen({ port: 0 });
      const good = await tcpClient(port);
      const random = new SeededRandom(42);
      const vandals = await Promise.all(Array.from({ length: 10 }, () => tcpClient(port)));
      const work = (async () => {
        for (let i = 1; i <= 50; i++) {
          const r = await good.client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 1 + (i % 4), clientId: i });
          expect([r.status, r.clientId]).toEqual([STATUS_OK, i]);
        }
      })();
      for (const v of vandals) {
        const header = encodePacket({ code: Command.COMMON_SCOPE_SETTINGS_SAVE, addDataBytes: 1000, cmdDataBits0: 0x80000000 });
        v.socket.write(random.bytes(random.int(1, 500)));
        v.socket.write(header.subarray(0, random.int(1, 128)));
        v.socket.resetAndDestroy();
      }
      await work;
      await Promise.all(vandals.map((v) => v.client.whenClosed()));
      expect(server.connectionIds.length).toBeGreaterThanOrEqual(1);
      expect((await good.client.request({ code: Command.SYSTEM_STATE_GET })).status).toBe(STATUS_OK);
      good.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('closes cleanly with moves, a workflow and waits in progress, leaving no timers', async () => {
    const s = new SimulatedMicroscope({ timeScale: 1, workflowDurationMs: 60_000 });
    const [mine, theirs] = createMemoryPair();
    const client = new WireClient({ write: (b) => void mine.write(b), end: () => void mine.close(), destroy: () => mine.destroy() });
    mine.attach({ data: (c) => client.data(c), close: () => client.ended() });
    s.attach(theirs);
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 2, value: 25 });
    const { buildWorkflowText } = await import('flamingo-protocol');
    const gauge = client.next((p) => p.code === Command.UI_SET_GAUGE_SIZE);
    // Never answered by the instrument (nor the simulator): sent, not requested.
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: new TextEncoder().encode(buildWorkflowText()) });
    client.send({ code: Command.STAGE_WAIT_FOR_MOTION, cmdDataBits0: 0x80000000 });
    await gauge;
    await s.close();
    await client.whenClosed();
    expect(s.connections).toBe(0);
    // vitest would hang at exit if a timer were left; closing twice is harmless.
    await s.close();
  });
});
