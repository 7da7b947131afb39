import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Command, InstrumentState, isPacketCause, type InstrumentSnapshot, type PacketInit, type StateChangeCause } from 'flamingo-protocol';
import { ReferenceModel, coverage, copyView, isDeeplyFrozen, sameView, wire, type ModelView } from '../model/state-model.js';

// Small value domains on purpose: repeats make no-op packets (same value again) and
// stop-before-ack coincidences (a stop at exactly the pending target) common.
const index = fc.constantFrom(0, 1, 2, 3, 4, 5, -1);
const position = fc.constantFrom(0, 1.5, 5, 12.25, -720, Number.NaN, Number.POSITIVE_INFINITY, -0);
const status = fc.constantFrom(0, 1, 1, 1, 2);
const levelText = fc.constantFrom('5.00', '11.49', 'getLevel error', '', ' 7 ', '1e3', '0x10', '.5');
const count = fc.constantFrom(0, 1, 10, 640, -5);

const REQUEST_CODES = [
  Command.STAGE_POSITION_SET,
  Command.STAGE_POSITION_SET,
  Command.STAGE_POSITION_SET,
  Command.STAGE_POSITION_SET,
  Command.STAGE_POSITION_SET_SLIDER,
  Command.STAGE_POSITION_SET_SLIDER,
  Command.STAGE_HOME,
  Command.STAGE_HALT,
  Command.STAGE_POSITION_GET,
  Command.LASER_LEVEL_SET,
  Command.LASER_LEVEL_GET,
  Command.LASER_PREVIEW_ENABLE,
  Command.LASER_PREVIEW_DISABLE,
  Command.LASER_ALL_DISABLE,
  Command.LED_SET,
  Command.LED_ENABLE,
  Command.LED_DISABLE,
  Command.CAMERA_EXPOSURE_SET,
  Command.CAMERA_EXPOSURE_GET,
  Command.CAMERA_IMAGE_SIZE_GET,
  Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET,
  Command.CAMERA_STACK_COMPLETE,
  Command.CAMERA_WORKFLOW_START,
  Command.FILTER_POSITION_SET,
  Command.FILTER_POSITION_GET,
  Command.SYSTEM_STATE_GET,
  Command.CAMERA_LIVE_VIEW_START,
  Command.CAMERA_LIVE_VIEW_STOP,
  Command.ILLUMINATION_LEFT_ENABLE,
  Command.ILLUMINATION_LEFT_DISABLE,
  Command.ILLUMINATION_RIGHT_ENABLE,
  Command.ILLUMINATION_RIGHT_DISABLE,
  0x1234,
];

const PUSH_CODES = [
  Command.STAGE_MOTION_STOPPED,
  Command.STAGE_MOTION_STOPPED,
  Command.LASER_LEVEL_GET,
  Command.LED_DISABLE,
  Command.UI_SET_GAUGE_SIZE,
  Command.UI_SET_GAUGE_VALUE,
  Command.UI_SET_GAUGE_VALUE,
  Command.UI_IMAGES_SAVED_TO_STORAGE,
  Command.CAMERA_STACK_COMPLETE,
  Command.SYSTEM_STATE_IDLE,
  // Replies nobody waits for (after a timeout) reach the mirror without their request.
  Command.STAGE_POSITION_GET,
  Command.STAGE_POSITION_SET,
  Command.SYSTEM_STATE_GET,
  Command.LED_SET,
  // State-change frames the instrument sends every client when another client switched.
  Command.LED_ENABLE,
  Command.CAMERA_LIVE_VIEW_START,
  Command.CAMERA_LIVE_VIEW_STOP,
  Command.ILLUMINATION_LEFT_ENABLE,
  Command.ILLUMINATION_RIGHT_DISABLE,
];

const requestInit = fc.record(
  {
    code: fc.constantFrom(...REQUEST_CODES),
    int32Data0: fc.constantFrom(1, 2, 3, 4, 1, 2, 0, 5, -1),
    int32Data1: fc.constantFrom(0, 100, 65535),
    value: fc.constantFrom(0, 1.5, 5, 12.25, -720, Number.NaN),
    data: fc.oneof(
      levelText,
      levelText.map((t) => new TextEncoder().encode(t)),
    ),
  },
  // Omitted fields go out as 0: the mirror must read them so too.
  { requiredKeys: ['code', 'int32Data0', 'value'] },
);

const packetFields = {
  status,
  int32Data0: fc.oneof(index, count),
  int32Data1: count,
  int32Data2: count,
  value: position,
  data: levelText,
};

type Step =
  | { kind: 'send'; request: PacketInit; noted: boolean }
  | { kind: 'reply'; pick: number; echo: boolean; fields: PacketInit }
  | { kind: 'push'; init: PacketInit }
  | { kind: 'stopAtTarget'; pick: number; status: number }
  | { kind: 'connection'; state: 'connecting' | 'connected' | 'reconnecting' | 'closed'; mode: 'sequenced' | 'lease' | undefined };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), request: requestInit, noted: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('reply' as const), pick: fc.nat(), echo: fc.boolean(), fields: fc.record(packetFields) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('push' as const), init: fc.record({ code: fc.constantFrom(...PUSH_CODES), ...packetFields }) }),
  },
  // A motion-stopped push for an outstanding move's axis at exactly its target: the event a
  // zero-length move produces, possibly before the move's acknowledgement.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('stopAtTarget' as const), pick: fc.nat(), status }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('connection' as const),
      state: fc.constantFrom('connecting' as const, 'connected' as const, 'reconnecting' as const, 'closed' as const),
      mode: fc.constantFrom(undefined, 'sequenced' as const, 'lease' as const),
    }),
  },
);

function withoutVersion(s: InstrumentSnapshot): Omit<InstrumentSnapshot, 'version'> {
  const { version: _version, ...rest } = s;
  return rest;
}

const PARTS = ['connection', 'stage', 'lasers', 'led', 'camera', 'filterPosition', 'system', 'workflow'] as const;

describe('InstrumentState against an independent model', () => {
  it('matches the model after every packet, fires change exactly once per changing step, and shares unchanged parts', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 40, maxLength: 120 }), (steps) => {
        const state = new InstrumentState();
        const model = new ReferenceModel();
        const outstanding: PacketInit[] = [];
        const seen: Array<[InstrumentSnapshot, InstrumentSnapshot, StateChangeCause, InstrumentSnapshot]> = [];
        state.on('change', (next, prev, cause) => seen.push([next, prev, cause, state.snapshot()]));
        let changes = 0;

        for (const s of steps) {
          const before: ModelView = copyView(model.view);
          const prevSnapshot = state.snapshot();
          let returned: boolean;
          let cause: unknown;
          if (s.kind === 'send') {
            // A fresh object per send: the mirror keys pending moves by request identity.
            const request = { ...s.request };
            outstanding.push(request);
            if (s.noted) {
              returned = state.noteRequestSent(request);
              model.sent(request);
            } else {
              returned = false;
            }
            cause = request;
          } else if (s.kind === 'reply') {
            if (outstanding.length === 0) continue;
            const [request] = outstanding.splice(s.pick % outstanding.length, 1) as [PacketInit];
            const init: PacketInit = { ...s.fields, code: request.code };
            if (s.echo) init.int32Data0 = request.int32Data0 ?? 0;
            const packet = wire(init);
            returned = state.apply(packet, request);
            model.packet(packet, request);
            cause = packet;
          } else if (s.kind === 'push' || s.kind === 'stopAtTarget') {
            let init: PacketInit;
            if (s.kind === 'push') init = s.init;
            else {
              const moves = outstanding.filter((r) => r.code === Command.STAGE_POSITION_SET || r.code === Command.STAGE_POSITION_SET_SLIDER);
              const request = moves[s.pick % Math.max(1, moves.length)];
              if (request === undefined) continue;
              init = { code: Command.STAGE_MOTION_STOPPED, status: s.status, int32Data0: request.int32Data0 ?? 0, value: request.value ?? 0 };
            }
            const packet = wire(init);
            returned = state.apply(packet);
            model.packet(packet, undefined);
            cause = packet;
          } else {
            returned = state.setConnection(s.state, s.mode);
            model.connection(s.state, s.mode);
            cause = undefined;
          }

          const modelChanged = !sameView(before, model.view);
          const next = state.snapshot();
          expect(returned).toBe(modelChanged);
          expect(sameView(withoutVersion(next), model.view)).toBe(true);
          expect(isDeeplyFrozen(next)).toBe(true);
          if (modelChanged) {
            changes++;
            expect(seen.length).toBe(changes);
            const [evNext, evPrev, evCause, current] = seen[changes - 1]!;
            expect(evNext).toBe(next);
            expect(current).toBe(next); // the swap happened before listeners ran
            expect(evPrev).toBe(prevSnapshot);
            expect(next.version).toBe(prevSnapshot.version + 1);
            if (s.kind === 'connection') {
              expect(isPacketCause(evCause)).toBe(false);
              expect(evCause).toMatchObject({ kind: 'connection', state: s.state });
            } else if (s.kind === 'send') {
              expect(evCause).toMatchObject({ kind: 'sent' });
              expect((evCause as { request: unknown }).request).toBe(cause);
            } else {
              expect(evCause).toBe(cause);
            }
            for (const part of PARTS) {
              if (sameView(before[part], model.view[part])) expect(next[part]).toBe(prevSnapshot[part]);
            }
          } else {
            expect(next).toBe(prevSnapshot);
            expect(seen.length).toBe(changes);
          }
        }
        expect(state.snapshot().version).toBe(changes);
      }),
    );
    // The property is only as good as the paths it reached: each rule must have been hit.
    const minimum = Math.max(1, Math.floor((fc.readConfigureGlobal().numRuns ?? 100) / 20));
    for (const [path, hits] of Object.entries(coverage)) expect(hits, path).toBeGreaterThanOrEqual(minimum);
  });
});

// Streams that touch disjoint parts of the mirror. Whatever their interleaving, each part
// of every intermediate snapshot must equal what that part's own stream alone produces
// after the same number of its packets: no snapshot ever mixes before and after a packet.
type Fed = { packet: PacketInit; request?: PacketInit };

const stageStream = fc.array(
  fc.oneof(
    fc.record({ packet: fc.record({ code: fc.constant(Command.STAGE_MOTION_STOPPED), status, int32Data0: index, value: position }) }),
    fc.tuple(index, position, status).map(
      ([axis, value, st]): Fed => ({
        packet: { code: Command.STAGE_POSITION_GET, status: st, int32Data0: axis, value },
        request: { code: Command.STAGE_POSITION_GET, int32Data0: axis },
      }),
    ),
    fc.tuple(index, position, status).map(
      ([axis, value, st]): Fed => ({
        packet: { code: Command.STAGE_POSITION_SET, status: st, int32Data0: axis },
        request: { code: Command.STAGE_POSITION_SET, int32Data0: axis, value },
      }),
    ),
  ),
  { maxLength: 20 },
);
const laserStream = fc.array(
  fc.oneof(
    fc.record({ packet: fc.record({ code: fc.constant(Command.LASER_LEVEL_GET), status, int32Data0: index, data: levelText }) }),
    fc.tuple(index, levelText, status).map(
      ([laser, data, st]): Fed => ({
        packet: { code: Command.LASER_LEVEL_SET, status: st, int32Data0: laser },
        request: { code: Command.LASER_LEVEL_SET, int32Data0: laser, data },
      }),
    ),
  ),
  { maxLength: 20 },
);
const workflowStream = fc.array(
  fc.oneof(
    fc.record({
      packet: fc.record({
        code: fc.constantFrom(Command.UI_SET_GAUGE_SIZE, Command.UI_SET_GAUGE_VALUE, Command.SYSTEM_STATE_IDLE, Command.CAMERA_STACK_COMPLETE),
        int32Data0: count,
        int32Data1: count,
      }),
    }),
    fc.tuple(fc.constantFrom(0, 1, 2, 3), status).map(
      ([v, st]): Fed => ({
        packet: { code: Command.SYSTEM_STATE_GET, status: st, int32Data0: v },
        request: { code: Command.SYSTEM_STATE_GET },
      }),
    ),
  ),
  { maxLength: 20 },
);
const deviceStream = fc.array(
  fc.oneof(
    fc.record({ packet: fc.record({ code: fc.constant(Command.LED_DISABLE) }) }),
    fc
      .tuple(count, status)
      .map(([v, st]): Fed => ({ packet: { code: Command.CAMERA_EXPOSURE_GET, status: st, int32Data0: v }, request: { code: Command.CAMERA_EXPOSURE_GET } })),
    fc
      .tuple(count, status)
      .map(([v, st]): Fed => ({ packet: { code: Command.FILTER_POSITION_GET, status: st, int32Data0: v }, request: { code: Command.FILTER_POSITION_GET } })),
    fc
      .tuple(index, count, status)
      .map(([i, level, st]): Fed => ({ packet: { code: Command.LED_SET, status: st }, request: { code: Command.LED_SET, int32Data0: i, int32Data1: level } })),
  ),
  { maxLength: 20 },
);

const STREAM_PARTS: ReadonlyArray<ReadonlyArray<keyof InstrumentSnapshot>> = [
  ['stage'],
  ['lasers'],
  ['system', 'workflow'],
  ['led', 'camera', 'filterPosition'],
];

function feed(state: InstrumentState, item: Fed): void {
  // Requests are copied so each mirror gets its own objects, as two clients would.
  state.apply(wire(item.packet), item.request === undefined ? undefined : { ...item.request });
}

describe('snapshots under interleaving', () => {
  it('every part of every intermediate snapshot equals its own stream applied alone', () => {
    fc.assert(
      fc.property(fc.tuple(stageStream, laserStream, workflowStream, deviceStream), fc.array(fc.nat(3), { maxLength: 120 }), (streams, order) => {
        // Per-stream reference: the snapshots one stream produces alone, after 0, 1, 2, ... packets.
        const alone = streams.map((stream) => {
          const s = new InstrumentState();
          const history = [s.snapshot()];
          for (const item of stream) {
            feed(s, item);
            history.push(s.snapshot());
          }
          return history;
        });
        const merged = new InstrumentState();
        const cursor = [0, 0, 0, 0];
        const check = (): void => {
          const now = merged.snapshot();
          STREAM_PARTS.forEach((parts, i) => {
            const reference = alone[i]![cursor[i]!]!;
            for (const part of parts) expect(sameView(now[part], reference[part])).toBe(true);
          });
        };
        // The scheduled order first, then whatever is left, stream by stream.
        const schedule = [...order, ...streams.flatMap((stream, i) => stream.map(() => i))];
        for (const i of schedule) {
          const item = streams[i]![cursor[i]!];
          if (item === undefined) continue;
          feed(merged, item);
          cursor[i]!++;
          check();
        }
        expect(cursor).toEqual(streams.map((s) => s.length));
      }),
    );
  });
});
