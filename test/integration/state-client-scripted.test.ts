/**
 * client.state through the real client against a scripted server (sequenced mode, so the
 * server may answer pipelined requests in ANY order): replies permuted, unsolicited pushes
 * interleaved, the lot cut into random chunks. The client's mirror must end exactly where a
 * reference InstrumentState ends when fed the same packets, with the same requests, in wire
 * order; and it must change exactly once for each packet the reference changed for.
 */
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import {
  Command,
  FlamingoClient,
  InstrumentState,
  decodePacket,
  encodePacket,
  isPacketCause,
  type InstrumentSnapshot,
  type Packet,
  type PacketInit,
} from 'flamingo-protocol';
import { FakeServer, type FakeConnection } from '../support/fake-server.js';
import { concat } from '../support/packets.js';

let server: FakeServer | null = null;
let client: FlamingoClient | null = null;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = null;
  server = null;
});

type Fields = Omit<PacketInit, 'code' | 'payload'>;
interface Call {
  code: number;
  fields: Fields;
  /** Reply fields (status and whatever the reply itself carries). */
  reply: PacketInit;
}

const axis = fc.integer({ min: 1, max: 4 });
const laser = fc.integer({ min: 1, max: 4 });
const status = fc.constantFrom(1, 1, 1, 0);
const mm = fc.integer({ min: 0, max: 200 }).map((n) => n / 8);
const levelText = fc.integer({ min: 0, max: 10000 }).map((n) => (n / 100).toFixed(2));

// LASER_LEVEL_SET and CAMERA_WORKFLOW_START are never answered (spec/commands.json): not requests.
const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(axis, status, mm).map(([a, s, v]) => ({ code: Command.STAGE_POSITION_GET, fields: { int32Data0: a }, reply: { status: s, value: v } })),
  fc.tuple(axis, status, mm).map(([a, s, v]) => ({ code: Command.STAGE_POSITION_SET, fields: { int32Data0: a, value: v }, reply: { status: s } })),
  fc
    .tuple(laser, status, levelText)
    .map(([i, s, t]) => ({ code: Command.LASER_LEVEL_GET, fields: { int32Data0: i }, reply: { status: s, data: s === 1 ? t : 'getLevel error' } })),
  fc
    .tuple(status, fc.constantFrom(0xa002, 0xa004, 0, 7))
    .map(([s, v]) => ({ code: Command.SYSTEM_STATE_GET, fields: {}, reply: { status: s, int32Data0: v } })),
  fc
    .tuple(status, fc.integer({ min: 100, max: 100000 }))
    .map(([s, us]) => ({ code: Command.CAMERA_EXPOSURE_GET, fields: {}, reply: { status: s, int32Data0: us } })),
  fc.tuple(status, fc.integer({ min: 1, max: 6 })).map(([s, f]) => ({ code: Command.FILTER_POSITION_SET, fields: { int32Data0: f }, reply: { status: s } })),
  fc.tuple(status, fc.integer({ min: 1, max: 2 })).map(([s, i]) => ({ code: Command.LED_ENABLE, fields: { int32Data0: i }, reply: { status: s } })),
);

const pushArb: fc.Arbitrary<PacketInit> = fc.oneof(
  fc.tuple(axis, fc.constantFrom(0, 1), mm).map(([a, s, v]) => ({ code: Command.STAGE_MOTION_STOPPED, status: s, int32Data0: a, value: v })),
  fc.integer({ min: 0, max: 50 }).map((n) => ({ code: Command.UI_SET_GAUGE_VALUE, status: 1, int32Data0: n })),
  fc.integer({ min: 1, max: 50 }).map((n) => ({ code: Command.UI_SET_GAUGE_SIZE, status: 1, int32Data0: n })),
  fc.integer({ min: 0, max: 9 }).map((n) => ({ code: Command.UI_IMAGES_SAVED_TO_STORAGE, status: 1, int32Data0: n })),
  fc
    .tuple(fc.nat(9), fc.nat(9))
    .map(([a, e]) => ({ code: Command.CAMERA_STACK_COMPLETE, status: 1, int32Data0: a, int32Data1: e, int32Data2: 0, value: 1234 })),
  fc.constant({ code: Command.SYSTEM_STATE_IDLE, status: 1 }),
  fc.tuple(laser, levelText).map(([i, t]) => ({ code: Command.LASER_LEVEL_GET, status: 1, int32Data0: i, data: t })),
  fc.constant({ code: Command.LED_DISABLE, status: 1 }),
);

/** The parts a packet can change (connection is the client's own business). */
function instrumentParts(s: InstrumentSnapshot): unknown {
  return { stage: s.stage, lasers: s.lasers, led: s.led, camera: s.camera, filterPosition: s.filterPosition, system: s.system, workflow: s.workflow };
}

it('replies in any order, pushes in between, any chunking: the mirror equals a reference fed the wire in order, one change per changing packet', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(callArb, { minLength: 1, maxLength: 12 }),
      fc.array(pushArb, { maxLength: 12 }),
      fc.integer({ min: 1, max: 1 << 30 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
      async (calls, pushes, shuffleSeed, cuts) => {
        server = new FakeServer({ echoSequence: true });
        const requests: Packet[] = [];
        let conn: FakeConnection | null = null;
        server.handler = (packet, connection) => {
          // The probe is answered at once; the test's calls are held and answered below.
          if (packet.code === Command.SYSTEM_STATE_GET && requests.length === 0 && client === null) server!.autoReply(packet, connection);
          else {
            conn = connection;
            requests.push(packet);
          }
        };
        const s = server;
        client = await FlamingoClient.connect({ transport: () => s.connectMemory({ fragmentMaxBytes: 0 }) });
        expect(client.mode).toBe('sequenced');
        let packetChanges = 0;
        client.state.on('change', (_next, _prev, cause) => {
          if (isPacketCause(cause)) packetChanges++;
        });
        const events = countEvents(client);
        const before = client.state.snapshot();
        const c = client;
        const results = calls.map((call) => c.request(call.code, call.fields));
        await server.waitForPackets(1 + calls.length);

        // Wire order: the replies permuted (seeded), each push slotted in at a seeded place.
        let seed = shuffleSeed;
        const rand = (n: number) => {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          return seed % n;
        };
        const wire: { packet: PacketInit; answers?: number }[] = calls.map((call, i) => ({
          packet: server!.replyInit(requests[i] as Packet, { ...call.reply, code: call.code }),
          answers: i,
        }));
        for (let i = wire.length - 1; i > 0; i--) {
          const j = rand(i + 1);
          [wire[i], wire[j]] = [wire[j] as (typeof wire)[number], wire[i] as (typeof wire)[number]];
        }
        for (const push of pushes) wire.splice(rand(wire.length + 1), 0, { packet: push });

        // Reference: the client wrote every request before any reply came, so every
        // noteRequestSent precedes every packet.
        const reference = new InstrumentState();
        // The client already applied the auto-mode probe's reply (idle): so does the reference.
        reference.apply(decodePacket(encodePacket({ code: Command.SYSTEM_STATE_GET, status: 1 })), { code: Command.SYSTEM_STATE_GET });
        expect(instrumentParts(before)).toEqual(instrumentParts(reference.snapshot()));
        const inits = calls.map((call) => ({ ...call.fields, code: call.code }));
        for (const init of inits) reference.noteRequestSent(init);
        let referenceChanges = 0;
        const bytes = wire.map((w) => encodePacket(w.packet));
        // Cut the whole byte stream at the given sizes (the last size repeats).
        const stream = concat(bytes);
        for (let i = 0; i < wire.length; i++) {
          const w = wire[i] as (typeof wire)[number];
          const packet = decodePacket(bytes[i] as Uint8Array);
          if (reference.apply(packet, w.answers === undefined ? undefined : inits[w.answers])) referenceChanges++;
        }
        for (let offset = 0, k = 0; offset < stream.length; k++) {
          const size = cuts[Math.min(k, cuts.length - 1)] as number;
          (conn as unknown as FakeConnection).write(stream.subarray(offset, offset + size));
          offset += size;
        }
        const replies = await Promise.all(results);
        // The pushes are delivered too: wait for the client's reader to reach the last one.
        expect(replies.map((r) => r.code)).toEqual(calls.map((call) => call.code));
        await events.reached(pushes.length);

        expect(instrumentParts(c.state.snapshot())).toEqual(instrumentParts(reference.snapshot()));
        expect(packetChanges).toBe(referenceChanges);
        expect(c.state.snapshot().version - before.version).toBe(referenceChanges);
        await c.close();
        await s.close();
        client = null;
        server = null;
      },
    ),
    { numRuns: 60 },
  );
});

/** Counts the client's events; `reached(n)` resolves once n have been emitted (bounded wait). */
function countEvents(c: FlamingoClient): { reached(n: number): Promise<void> } {
  let seen = 0;
  let waiter: { n: number; resolve: () => void } | null = null;
  c.on('event', () => {
    seen++;
    if (waiter !== null && seen >= waiter.n) waiter.resolve();
  });
  return {
    reached(n) {
      if (seen >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${seen} of ${n} events arrived`)), 5000);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
  };
}
