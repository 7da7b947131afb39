import { describe, expect, it } from 'vitest';
import {
  Command,
  Deframer,
  EMPTY_SNAPSHOT,
  WirePacket,
  claimPacket,
  encodePacket,
  FlamingoError,
  InstrumentState,
  REFRESH_GROUPS,
  refreshPlan,
  type InstrumentSnapshot,
  type Packet,
  type PacketInit,
  type StateChangeCause,
} from 'flamingo-protocol';
import { isDeeplyFrozen, wire } from '../model/state-model.js';
import { PACKET_FIELDS_IN_WIRE_ORDER } from '../support/packets.js';

const UNKNOWN_AXIS = { position: undefined, moving: undefined, target: undefined, reached: undefined };
const UNKNOWN_LASER = { level: undefined, enabled: undefined };

/** A mirror with a recorder of every change event. */
function mirror(): { state: InstrumentState; changes: Array<[InstrumentSnapshot, InstrumentSnapshot, StateChangeCause]> } {
  const state = new InstrumentState();
  const changes: Array<[InstrumentSnapshot, InstrumentSnapshot, StateChangeCause]> = [];
  state.on('change', (next, prev, cause) => changes.push([next, prev, cause]));
  return { state, changes };
}

function reply(state: InstrumentState, request: PacketInit, fields: PacketInit = {}): boolean {
  return state.apply(wire({ status: 1, ...fields, code: request.code }), request);
}

function push(state: InstrumentState, init: PacketInit): boolean {
  return state.apply(wire(init));
}

describe('InstrumentState: nothing is guessed', () => {
  it('starts with every field undefined, version 0, deeply frozen', () => {
    const state = new InstrumentState();
    const s = state.snapshot();
    expect(s).toStrictEqual({
      version: 0,
      connection: { state: undefined, mode: undefined },
      stage: { x: UNKNOWN_AXIS, y: UNKNOWN_AXIS, z: UNKNOWN_AXIS, r: UNKNOWN_AXIS },
      lasers: { 1: UNKNOWN_LASER, 2: UNKNOWN_LASER, 3: UNKNOWN_LASER, 4: UNKNOWN_LASER },
      led: { index: undefined, level: undefined, enabled: undefined },
      camera: { exposureUs: undefined, width: undefined, height: undefined, pixelSizeMm: undefined, live: undefined },
      illumination: { left: undefined, right: undefined },
      filterPosition: undefined,
      system: undefined,
      workflow: { running: undefined, gaugeSize: undefined, gaugeValue: undefined, imagesSaved: undefined, stackComplete: undefined },
    });
    expect(s).toBe(EMPTY_SNAPSHOT);
    expect(isDeeplyFrozen(s)).toBe(true);
  });

  it('updates only the observed field: a Y position leaves X, Z, R and moving undefined', () => {
    const { state } = mirror();
    expect(reply(state, { code: Command.STAGE_POSITION_GET, int32Data0: 2 }, { int32Data0: 2, value: 12.5 })).toBe(true);
    const s = state.snapshot();
    expect(s.stage).toStrictEqual({ x: UNKNOWN_AXIS, y: { ...UNKNOWN_AXIS, position: 12.5 }, z: UNKNOWN_AXIS, r: UNKNOWN_AXIS });
    expect(s.lasers).toBe(EMPTY_SNAPSHOT.lasers);
    expect(s.workflow).toBe(EMPTY_SNAPSHOT.workflow);
    expect(s.version).toBe(1);
  });

  it('snapshots are frozen at every depth: writes throw in strict mode', () => {
    const { state } = mirror();
    reply(state, { code: Command.STAGE_POSITION_GET, int32Data0: 1 }, { value: 3 });
    push(state, { code: Command.CAMERA_STACK_COMPLETE, int32Data0: 5, int32Data1: 5, value: 1200 });
    // biome-ignore lint/suspicious/noExplicitAny: the test writes through the frozen snapshot, which its types forbid on purpose
    const s = state.snapshot() as unknown as Record<string, any>;
    expect(() => {
      s.system = 'idle';
    }).toThrow(TypeError);
    expect(() => {
      s.stage.x.position = 99;
    }).toThrow(TypeError);
    expect(() => {
      s.lasers[1].level = 50;
    }).toThrow(TypeError);
    expect(() => {
      s.workflow.stackComplete.acquired = 0;
    }).toThrow(TypeError);
    expect(() => {
      delete s.stage.x;
    }).toThrow(TypeError);
    expect(state.snapshot().stage.x.position).toBe(3);
    expect(isDeeplyFrozen(state.snapshot())).toBe(true);
  });
});

describe('InstrumentState: stage', () => {
  it('an accepted move runs toward its target, and STAGE_MOTION_STOPPED ends it with the final position', () => {
    const { state, changes } = mirror();
    const move = { code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 7.25 };
    state.noteRequestSent(move);
    expect(reply(state, move, { int32Data0: 1 })).toBe(true);
    expect(state.snapshot().stage.x).toStrictEqual({ position: undefined, moving: true, target: 7.25, reached: undefined });
    expect(push(state, { code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 1, value: 7.25 })).toBe(true);
    expect(state.snapshot().stage.x).toStrictEqual({ position: 7.25, moving: false, target: 7.25, reached: true });
    expect(changes).toHaveLength(2);
  });

  it('a halt (status 0) is a fact, not a failure: position and reached=false are recorded', () => {
    const { state } = mirror();
    const move = { code: Command.STAGE_POSITION_SET, int32Data0: 3, value: 20 };
    state.noteRequestSent(move);
    reply(state, move);
    push(state, { code: Command.STAGE_MOTION_STOPPED, status: 0, int32Data0: 3, value: 11.5 });
    expect(state.snapshot().stage.z).toStrictEqual({ position: 11.5, moving: false, target: 20, reached: false });
  });

  it('a refused move (status 0) changes nothing and fires nothing', () => {
    const { state, changes } = mirror();
    const move = { code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 99 };
    state.noteRequestSent(move);
    expect(reply(state, move, { status: 0 })).toBe(false);
    expect(state.snapshot()).toBe(EMPTY_SNAPSHOT);
    expect(changes).toHaveLength(0);
  });

  it('STAGE_MOTION_STOPPED before the acknowledgement (zero-length move) does not leave the axis moving', () => {
    const { state } = mirror();
    const move = { code: Command.STAGE_POSITION_SET, int32Data0: 2, value: 10 };
    state.noteRequestSent(move);
    push(state, { code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 2, value: 10 });
    expect(reply(state, move)).toBe(true); // records the target only
    expect(state.snapshot().stage.y).toStrictEqual({ position: 10, moving: false, target: 10, reached: true });
  });

  it('a stop short of the new target before its acknowledgement belongs to the cancelled move', () => {
    const { state } = mirror();
    const first = { code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 14 };
    state.noteRequestSent(first);
    reply(state, first);
    const second = { code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 2 };
    state.noteRequestSent(second);
    push(state, { code: Command.STAGE_MOTION_STOPPED, status: 0, int32Data0: 1, value: 6 });
    reply(state, second);
    expect(state.snapshot().stage.x).toStrictEqual({ position: 6, moving: true, target: 2, reached: undefined });
  });

  it('STAGE_HOME accepted: every axis moving toward an unstated target', () => {
    const { state } = mirror();
    const home = { code: Command.STAGE_HOME };
    state.noteRequestSent(home);
    push(state, { code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 4, value: 0 });
    expect(reply(state, home)).toBe(true);
    const { x, y, z, r } = state.snapshot().stage;
    for (const axis of [x, y, z]) expect(axis).toStrictEqual({ position: undefined, moving: true, target: undefined, reached: undefined });
    // R had already arrived before the acknowledgement.
    expect(r).toStrictEqual({ position: 0, moving: false, target: undefined, reached: true });
  });

  it('ignores bad axes, non-finite positions, failed reads, and acknowledgements without their request', () => {
    const { state, changes } = mirror();
    expect(push(state, { code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 5, value: 1 })).toBe(false);
    expect(reply(state, { code: Command.STAGE_POSITION_GET, int32Data0: 1 }, { value: Number.NaN })).toBe(false);
    expect(reply(state, { code: Command.STAGE_POSITION_GET, int32Data0: 1 }, { status: 0, value: 4 })).toBe(false);
    expect(push(state, { code: Command.STAGE_POSITION_SET, status: 1, int32Data0: 1 })).toBe(false);
    // A late position reply describes itself (axis echoed): it still counts.
    expect(push(state, { code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 4, value: -90 })).toBe(true);
    expect(state.snapshot().stage.r.position).toBe(-90);
    expect(changes).toHaveLength(1);
  });

  it('the request names the axis of a reply, not the echo', () => {
    const { state } = mirror();
    reply(state, { code: Command.STAGE_POSITION_GET, int32Data0: 3 }, { int32Data0: 0, value: 9 });
    expect(state.snapshot().stage.z.position).toBe(9);
  });
});

describe('InstrumentState: lasers, LED, camera, filter', () => {
  it('levels come from replies, unsolicited pushes and accepted sets; error text and failures change nothing', () => {
    const { state, changes } = mirror();
    expect(reply(state, { code: Command.LASER_LEVEL_GET, int32Data0: 1 }, { int32Data0: 1, data: '5.00' })).toBe(true);
    expect(push(state, { code: Command.LASER_LEVEL_GET, status: 1, int32Data0: 3, data: '11.49' })).toBe(true);
    expect(reply(state, { code: Command.LASER_LEVEL_SET, int32Data0: 2, data: '20.50' }, { int32Data0: 2 })).toBe(true);
    expect(reply(state, { code: Command.LASER_LEVEL_GET, int32Data0: 4 }, { status: 0, data: 'getLevel error' })).toBe(false);
    expect(reply(state, { code: Command.LASER_LEVEL_SET, int32Data0: 1, data: '50.00' }, { status: 0 })).toBe(false);
    expect(push(state, { code: Command.LASER_LEVEL_GET, status: 1, int32Data0: 9, data: '1.00' })).toBe(false);
    expect(reply(state, { code: Command.LASER_LEVEL_GET, int32Data0: 1 }, { data: '5.00' })).toBe(false); // same again
    const { lasers } = state.snapshot();
    expect([lasers[1].level, lasers[2].level, lasers[3].level, lasers[4].level]).toEqual([5, 20.5, 11.49, undefined]);
    expect(changes).toHaveLength(3);
  });

  it('preview enable/disable from acknowledgements; LASER_ALL_DISABLE (never acknowledged) when written', () => {
    const { state, changes } = mirror();
    reply(state, { code: Command.LASER_PREVIEW_ENABLE, int32Data0: 2 });
    expect(state.snapshot().lasers[2].enabled).toBe(true);
    const all = { code: Command.LASER_ALL_DISABLE };
    expect(state.noteRequestSent(all)).toBe(true);
    const { lasers } = state.snapshot();
    expect([lasers[1].enabled, lasers[2].enabled, lasers[3].enabled, lasers[4].enabled]).toEqual([false, false, false, false]);
    expect(changes[1]![2]).toStrictEqual({ kind: 'sent', request: all });
    expect(state.noteRequestSent({ code: Command.LASER_ALL_DISABLE })).toBe(false); // already off
    expect(state.noteRequestSent({ code: Command.STAGE_POSITION_GET, int32Data0: 1 })).toBe(false);
    expect(changes).toHaveLength(2);
  });

  it('LED: set and enable from acknowledgements; the workflow push turns it off and keeps the index', () => {
    const { state } = mirror();
    reply(state, { code: Command.LED_SET, int32Data0: 1, int32Data1: 40000 });
    reply(state, { code: Command.LED_ENABLE, int32Data0: 1 });
    expect(state.snapshot().led).toStrictEqual({ index: 1, level: 40000, enabled: true });
    push(state, { code: Command.LED_DISABLE, status: 1, int32Data0: 0 });
    expect(state.snapshot().led).toStrictEqual({ index: 1, level: 40000, enabled: false });
    expect(reply(state, { code: Command.LED_ENABLE, int32Data0: 2 }, { status: 0 })).toBe(false);
  });

  it('camera and filter from GET replies and accepted sets', () => {
    const { state } = mirror();
    reply(state, { code: Command.CAMERA_EXPOSURE_GET }, { int32Data0: 9002 });
    reply(state, { code: Command.CAMERA_IMAGE_SIZE_GET }, { int32Data0: 2048, int32Data1: 2048 });
    reply(state, { code: Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET }, { value: 0.000325 });
    reply(state, { code: Command.FILTER_POSITION_GET }, { int32Data0: 3 });
    expect(state.snapshot().camera).toStrictEqual({ exposureUs: 9002, width: 2048, height: 2048, pixelSizeMm: 0.000325, live: undefined });
    reply(state, { code: Command.CAMERA_EXPOSURE_SET, int32Data0: 5000 });
    reply(state, { code: Command.FILTER_POSITION_SET, int32Data0: 5 }, { int32Data0: 0 });
    expect(state.snapshot().camera.exposureUs).toBe(5000);
    expect(state.snapshot().filterPosition).toBe(5);
  });
});

describe('InstrumentState: system and workflow', () => {
  it('follows a whole workflow as the simulator pushes it, with exact change counts', () => {
    const { state, changes } = mirror();
    reply(state, { code: Command.SYSTEM_STATE_GET }, { int32Data0: 0 });
    expect(state.snapshot().system).toBe('idle');
    expect(state.snapshot().workflow.running).toBe(false);
    expect(reply(state, { code: Command.CAMERA_WORKFLOW_START })).toBe(true);
    expect(state.snapshot().system).toBe('busy');
    push(state, { code: Command.UI_SET_GAUGE_SIZE, int32Data0: 3 });
    for (const v of [1, 2, 2, 3]) push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: v });
    push(state, { code: Command.LASER_LEVEL_GET, status: 1, int32Data0: 2, data: '10.67' });
    push(state, { code: Command.LED_DISABLE, status: 1 });
    push(state, { code: Command.CAMERA_STACK_COMPLETE, status: 1, int32Data0: 3, int32Data1: 3, int32Data2: 0, value: 1500 });
    push(state, { code: Command.UI_IMAGES_SAVED_TO_STORAGE, status: 1, int32Data0: 3 });
    push(state, { code: Command.SYSTEM_STATE_IDLE, status: 1 });
    const s = state.snapshot();
    expect(s.system).toBe('idle');
    expect(s.workflow).toStrictEqual({
      running: false,
      gaugeSize: 3,
      gaugeValue: 3,
      imagesSaved: 3,
      stackComplete: { acquired: 3, expected: 3, errors: 0, durationUs: 1500 },
    });
    // idle reply, start, size, values 1, 2, 3 (the repeated 2 is a no-op), laser, LED, stack, saved, idle
    expect(changes).toHaveLength(11);
    expect(s.version).toBe(11);

    // The next run starts clean: its first gauge push clears the last run's figures.
    push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 1 });
    expect(state.snapshot().workflow).toStrictEqual({
      running: true,
      gaugeSize: undefined,
      gaugeValue: 1,
      imagesSaved: undefined,
      stackComplete: undefined,
    });
    expect(state.snapshot().system).toBe('busy');
  });

  it('a start acknowledged after the first progress push does not wipe that run', () => {
    const { state } = mirror();
    push(state, { code: Command.UI_SET_GAUGE_SIZE, int32Data0: 8 });
    expect(reply(state, { code: Command.CAMERA_WORKFLOW_START })).toBe(false);
    expect(state.snapshot().workflow.gaugeSize).toBe(8);
  });

  it('SYSTEM_STATE_GET: 0xA002 idle, any other state code busy, whatever the status (a busy status is not recorded)', () => {
    const { state } = mirror();
    reply(state, { code: Command.SYSTEM_STATE_GET }, { int32Data0: 0xa004 });
    expect(state.snapshot().system).toBe('busy');
    expect(state.snapshot().workflow.running).toBeUndefined(); // busy is not necessarily a workflow
    expect(reply(state, { code: Command.SYSTEM_STATE_GET }, { status: 0, int32Data0: 7 })).toBe(false);
    reply(state, { code: Command.SYSTEM_STATE_GET }, { int32Data0: 0xa002 });
    expect(state.snapshot().system).toBe('idle');
  });

  it('CAMERA_STACK_COMPLETE answering a request is the ROI command, not a stack report', () => {
    const { state, changes } = mirror();
    expect(reply(state, { code: Command.CAMERA_STACK_COMPLETE }, { int32Data0: 4, int32Data1: 4 })).toBe(false);
    expect(changes).toHaveLength(0);
  });

  it('unknown codes change nothing', () => {
    const { state, changes } = mirror();
    expect(push(state, { code: 0xbeef, status: 1, int32Data0: 1, value: 1 })).toBe(false);
    expect(changes).toHaveLength(0);
  });
});

describe('InstrumentState: connection', () => {
  it('records state and mode; omitted mode is kept; the same state again is a no-op', () => {
    const { state, changes } = mirror();
    expect(state.setConnection('connecting')).toBe(true);
    expect(state.setConnection('connected', 'lease')).toBe(true);
    expect(state.setConnection('connected', 'lease')).toBe(false);
    expect(state.setConnection('reconnecting')).toBe(true);
    expect(state.snapshot().connection).toStrictEqual({ state: 'reconnecting', mode: 'lease' });
    expect(changes.map((c) => c[2])).toStrictEqual([
      { kind: 'connection', state: 'connecting', mode: undefined },
      { kind: 'connection', state: 'connected', mode: 'lease' },
      { kind: 'connection', state: 'reconnecting', mode: 'lease' },
    ]);
  });
});

describe('InstrumentState: each reply is applied once', () => {
  it('applying the same reply object again is a no-op, so it cannot overwrite a newer event', () => {
    const { state, changes } = mirror();
    const request = { code: Command.STAGE_POSITION_GET, int32Data0: 1 };
    const answer = wire({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 1, value: 4 });
    expect(state.apply(answer, request)).toBe(true);
    push(state, { code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 1, value: 6 });
    expect(state.apply(answer, request)).toBe(false);
    expect(state.snapshot().stage.x.position).toBe(6);
    expect(changes).toHaveLength(2);
  });

  it('holds for packets as the decoder makes them (their latch), for every mirror that sees the same object', () => {
    const a = mirror();
    const b = mirror();
    const request = { code: Command.STAGE_POSITION_GET, int32Data0: 1 };
    const [answer] = new Deframer().push(encodePacket({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 1, value: 4 }));
    const decoded = answer as Packet;
    expect(decoded).toBeInstanceOf(WirePacket);
    // a latches the packet first; b must fall back to its own record and still apply it exactly once.
    expect(a.state.apply(decoded, request)).toBe(true);
    expect(b.state.apply(decoded, request)).toBe(true);
    for (const m of [a, b]) push(m.state, { code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 1, value: 6 });
    expect(b.state.apply(decoded, request)).toBe(false);
    expect(a.state.apply(decoded, request)).toBe(false);
    for (const m of [a, b]) {
      expect(m.state.snapshot().stage.x.position).toBe(6);
      expect(m.changes).toHaveLength(2);
    }
  });
});

describe('claimPacket (protocol/wire-packet.ts)', () => {
  it('first, again, and unmarked for a plain object or another claimant; the latch is invisible', () => {
    const [decoded] = new Deframer().push(encodePacket({ code: 7, status: 1, value: 2.5 }));
    const packet = decoded as Packet;
    const one = {};
    const two = {};
    expect(claimPacket(packet, one)).toBe('first');
    expect(claimPacket(packet, one)).toBe('again');
    expect(claimPacket(packet, two)).toBe('unmarked');
    expect(claimPacket({ ...packet }, one)).toBe('unmarked');
    expect(Object.keys(packet)).toEqual([...PACKET_FIELDS_IN_WIRE_ORDER]);
    expect(packet).toEqual({ ...packet });
    expect(JSON.parse(JSON.stringify(packet)).value).toBe(2.5);
  });
});

describe('InstrumentState: listeners', () => {
  it('a throwing listener neither stops the mirror nor the other listeners; the error comes next tick', async () => {
    const state = new InstrumentState();
    const boom = new Error('listener bug');
    const seen: number[] = [];
    state.on('change', () => {
      throw boom;
    });
    state.on('change', (next) => seen.push(next.version));
    const errors: unknown[] = [];
    const errored = new Promise<void>((resolve) =>
      state.on('error', (e) => {
        errors.push(e);
        if (errors.length === 2) resolve();
      }),
    );
    expect(push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 1 })).toBe(true);
    expect(errors).toHaveLength(0); // not synchronously: apply() is not unwound
    expect(push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 2 })).toBe(true);
    expect(seen).toEqual([1, 2]);
    expect(state.snapshot().workflow.gaugeValue).toBe(2);
    await errored;
    expect(errors).toEqual([boom, boom]);
  });

  it('once, off and listeners() behave as eventemitter3 documents despite the isolation wrapper', () => {
    const state = new InstrumentState();
    const calls: string[] = [];
    const onceListener = (): void => {
      calls.push('once');
    };
    const always = (): void => {
      calls.push('always');
    };
    state.once('change', onceListener);
    state.on('change', always);
    expect(state.listeners('change')).toEqual([onceListener, always]);
    push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 1 });
    push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 2 });
    state.off('change', always);
    push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 3 });
    expect(calls).toEqual(['once', 'always', 'always']);
    expect(state.listenerCount('change')).toBe(0);
  });

  it('a change published from inside a listener is delivered after the current one, in order, to everyone', () => {
    const state = new InstrumentState();
    const log: string[] = [];
    state.on('change', (next, prev) => {
      log.push(`a:${prev.version}->${next.version}`);
      if (next.version === 1) state.noteRequestSent({ code: Command.LASER_ALL_DISABLE });
    });
    state.on('change', (next, prev) => {
      log.push(`b:${prev.version}->${next.version}`);
    });
    push(state, { code: Command.UI_SET_GAUGE_VALUE, int32Data0: 1 });
    expect(log).toEqual(['a:0->1', 'b:0->1', 'a:1->2', 'b:1->2']);
    expect(state.snapshot().version).toBe(2);
  });
});

describe('refresh', () => {
  it('refreshPlan lists every readable field, in a fixed order', () => {
    expect(refreshPlan().map((r) => [r.code, r.fields])).toStrictEqual([
      [Command.SYSTEM_STATE_GET, {}],
      [Command.STAGE_POSITION_GET, { int32Data0: 1 }],
      [Command.STAGE_POSITION_GET, { int32Data0: 2 }],
      [Command.STAGE_POSITION_GET, { int32Data0: 3 }],
      [Command.STAGE_POSITION_GET, { int32Data0: 4 }],
      [Command.LASER_LEVEL_GET, { int32Data0: 1 }],
      [Command.LASER_LEVEL_GET, { int32Data0: 2 }],
      [Command.LASER_LEVEL_GET, { int32Data0: 3 }],
      [Command.LASER_LEVEL_GET, { int32Data0: 4 }],
      [Command.CAMERA_EXPOSURE_GET, {}],
      [Command.CAMERA_IMAGE_SIZE_GET, {}],
      [Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, {}],
      [Command.FILTER_POSITION_GET, {}],
    ]);
    expect(refreshPlan()).toBe(refreshPlan(REFRESH_GROUPS));
    expect(Object.isFrozen(refreshPlan())).toBe(true);
    expect(refreshPlan(['stage']).map((r) => r.reads)).toEqual(['stage.x.position', 'stage.y.position', 'stage.z.position', 'stage.r.position']);
  });

  it('refreshWith applies every reply, records failures and goes on', async () => {
    const { state, changes } = mirror();
    const sent: PacketInit[] = [];
    const answer = async (request: PacketInit & { code: number }): Promise<Packet> => {
      sent.push(request);
      switch (request.code) {
        case Command.STAGE_POSITION_GET:
          return wire({ code: request.code, status: 1, int32Data0: request.int32Data0, value: 10 + (request.int32Data0 ?? 0) });
        case Command.LASER_LEVEL_GET:
          if (request.int32Data0 === 4) return wire({ code: request.code, status: 0, int32Data0: 4, data: 'getLevel error' });
          return wire({ code: request.code, status: 1, int32Data0: request.int32Data0, data: '2.50' });
        case Command.SYSTEM_STATE_GET:
          return wire({ code: request.code, status: 1, int32Data0: 0 });
        default:
          throw new Error(`no ${request.code}`);
      }
    };
    const report = await state.refreshWith(answer, ['system', 'stage', 'lasers', 'filter']);
    expect(sent.map((r) => [r.code, r.int32Data0])).toEqual([
      [Command.SYSTEM_STATE_GET, undefined],
      ...[1, 2, 3, 4].map((a) => [Command.STAGE_POSITION_GET, a]),
      ...[1, 2, 3, 4].map((l) => [Command.LASER_LEVEL_GET, l]),
      [Command.FILTER_POSITION_GET, undefined],
    ]);
    expect(report.requested).toBe(10);
    expect(report.read).toBe(8);
    expect(report.failed.map((f) => [f.request.reads, f.status, (f.error as Error | undefined)?.message])).toEqual([
      ['lasers[4].level', 0, undefined],
      ['filterPosition', undefined, `no ${Command.FILTER_POSITION_GET}`],
    ]);
    const s = state.snapshot();
    expect([s.stage.x.position, s.stage.y.position, s.stage.z.position, s.stage.r.position]).toEqual([11, 12, 13, 14]);
    expect([s.lasers[1].level, s.lasers[2].level, s.lasers[3].level, s.lasers[4].level]).toEqual([2.5, 2.5, 2.5, undefined]);
    expect(s.system).toBe('idle');
    expect(changes).toHaveLength(8); // one per changing reply
  });

  it('refresh() runs the pass inside the exclusive runner, and rejects without one', async () => {
    await expect(new InstrumentState().refresh()).rejects.toSatisfy((e) => e instanceof FlamingoError && e.code === 'ARGUMENT');
    let passes = 0;
    const state = new InstrumentState({
      exclusive: async (pass) => {
        passes++;
        return pass(async (request) => wire({ code: request.code, status: 1, int32Data0: request.int32Data0 ?? 0, value: 1 }));
      },
    });
    const report = await state.refresh(['stage']);
    expect(passes).toBe(1);
    expect(report).toStrictEqual({ requested: 4, read: 4, failed: [] });
    expect(state.snapshot().stage.r.position).toBe(1);
  });
});
