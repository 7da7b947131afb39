import fc from 'fast-check';
import { dataText } from '../../protocol/codec.js';
import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { buildWorkflowText } from '../../protocol/workflow-text.js';
import { LASER_SET_ATTEMPTS } from '../../src/client/helpers/lasers.js';
import { AbortError, ProtocolError, TimeoutError } from '../../src/errors.js';
import { InvariantError, type Rig } from './rig.js';

/**
 * The model: what an app can know about the microscope from what it asked for. A value
 * is `undefined` when a request that may have changed it failed (a dropped ack, a lost
 * link): the instrument may or may not have executed it, and the next read tells.
 */
export interface Model {
  /** Index 1..4 (X, Y, Z, R); index 0 unused. */
  axes: AxisModel[];
  /** Index 1..4; percent as the instrument stores it (two decimals). */
  lasers: (number | undefined)[];
}

/** What the model knows of one stage axis: its resting position and any move still awaiting its stop event. */
interface AxisModel {
  /** Where the axis rests, exactly, or undefined when unknown. */
  position: number | undefined;
  /** A move was written whose STAGE_MOTION_STOPPED has not been consumed: stop events seen before it. */
  pendingFrom: number | null;
}

/** Travel limits from the default settings text (spec/protocol.md "Simulator choices", Stage). */
const LIMITS: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 15],
  [5, 25],
  [8, 25],
  [-720, 720],
];

/** The simulator's documented start state: X 7.5, Y 15, Z 16.5, R 0; every laser at 5.00 %. */
export function initialModel(): Model {
  return {
    axes: [0, 7.5, 15, 16.5, 0].map((position) => ({ position, pendingFrom: null })),
    lasers: [undefined, 5, 5, 5, 5],
  };
}

export type Cmd = fc.AsyncCommand<Model, Rig, false>;

/**
 * Base of every matrix command. Each one applies in every model state: the model records
 * what became unknown (a lost ack, a dropped link) instead of ruling steps out, so fast-check
 * never skips a drawn command.
 */
export abstract class AppCommand implements Cmd {
  check(): boolean {
    return true;
  }
  abstract run(model: Model, rig: Rig): Promise<void>;
  abstract toString(): string;
}

export const axisArb = fc.integer({ min: 1, max: 4 });
/** A target inside the axis' limits, in µm (or milli-degrees) steps, as apps send them. */
const moveArb = axisArb.chain((axis) => {
  const [min, max] = LIMITS[axis] as readonly [number, number];
  return fc.tuple(
    fc.constant(axis),
    fc.integer({ min: min * 1000, max: max * 1000 }).map((n) => n / 1000),
  );
});

export function fail(message: string): never {
  throw new InvariantError(message);
}

export function axisOf(model: Model, axis: number): AxisModel {
  return model.axes[axis] as AxisModel;
}

/** Run one step: time it, then wait for the client to settle and check the step invariants. */
export async function step(rig: Rig, label: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now();
  rig.beginStep();
  await body();
  await rig.afterStep(label, started);
}

/**
 * Make an axis' model exact again: consume the STAGE_MOTION_STOPPED of a move still
 * pending (after STAGE_WAIT_FOR_MOTION, whose reply the simulator sends only after that
 * event), or, when the event was lost with a dropped link, read the position once.
 * Returns false when the axis stays unknown (the link kept failing).
 */
async function settleAxis(rig: Rig, model: Model, axis: number): Promise<boolean> {
  const a = axisOf(model, axis);
  for (let attempt = 0; attempt < 5 && (a.pendingFrom !== null || a.position === undefined); attempt++) {
    if (a.pendingFrom !== null) {
      const stops = rig.stops[axis] as Packet[];
      if (stops.length <= a.pendingFrom) {
        const waited = await rig.settle('STAGE_WAIT_FOR_MOTION', rig.client.request(Command.STAGE_WAIT_FOR_MOTION));
        if (!waited.ok) {
          rig.allowError('STAGE_WAIT_FOR_MOTION', waited.error);
          continue;
        }
      }
      const event = stops[a.pendingFrom];
      if (stops.length > a.pendingFrom + 1) fail(`axis ${axis}: ${stops.length - a.pendingFrom} STAGE_MOTION_STOPPED for one move`);
      a.pendingFrom = null;
      // No event although the motion is over: the move never ran, or its event went to a dropped link.
      a.position = event === undefined ? undefined : event.value;
      continue;
    }
    const read = await rig.settle('STAGE_POSITION_GET', rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: axis }));
    if (!read.ok) {
      rig.allowError('STAGE_POSITION_GET (settle)', read.error);
      continue;
    }
    checkPositionReply(read.value, axis, undefined);
    a.position = read.value.value;
  }
  return a.pendingFrom === null && a.position !== undefined;
}

export function checkPositionReply(reply: Packet, axis: number, expected: number | undefined): void {
  if (reply.code !== Command.STAGE_POSITION_GET || reply.int32Data0 !== axis || reply.status !== 1) {
    fail(`GET axis ${axis} resolved with code 0x${reply.code.toString(16)} axis ${reply.int32Data0} status ${reply.status}`);
  }
  const [min, max] = LIMITS[axis] as readonly [number, number];
  // Unknown position: the axis may still be moving, and a moving axis reads 0.000
  // (spec/commands.json, STAGE_POSITION_GET "whileMoving").
  if (expected !== undefined ? !Object.is(reply.value, expected) : !((reply.value >= min && reply.value <= max) || reply.value === 0)) {
    fail(`GET axis ${axis} resolved with ${reply.value}, expected ${expected ?? `${min}..${max}`}`);
  }
}

function checkLaserReply(reply: Packet, laser: number, expected: number | undefined): void {
  if (reply.code !== Command.LASER_LEVEL_GET || reply.int32Data0 !== laser) {
    fail(`GET laser ${laser} resolved with code 0x${reply.code.toString(16)} laser ${reply.int32Data0}`);
  }
  const text = dataText(reply);
  if (laser > 4) {
    if (reply.status !== 0 || text !== 'getLevel error') fail(`GET bad laser ${laser}: status ${reply.status} "${text}"`);
    return;
  }
  if (reply.status !== 1 || (expected !== undefined && text !== expected.toFixed(2)) || (expected === undefined && !/^\d+\.\d\d$/.test(text))) {
    fail(`GET laser ${laser} resolved with status ${reply.status} "${text}", expected ${expected?.toFixed(2) ?? 'a level'}`);
  }
}

/** One read of a batch issued at once. */
export type Read = { kind: 'axis'; axis: number } | { kind: 'position'; axis: number } | { kind: 'laser'; laser: number } | { kind: 'state' };

const readArb: fc.Arbitrary<Read> = fc.oneof(
  axisArb.map((axis) => ({ kind: 'axis' as const, axis })),
  axisArb.map((axis) => ({ kind: 'position' as const, axis })),
  fc.integer({ min: 1, max: 6 }).map((laser) => ({ kind: 'laser' as const, laser })),
  fc.constant({ kind: 'state' as const }),
);

/** Concurrent GETs on several axes, lasers (some bad indexes) and the system state: no cross-talk. */
export class ConcurrentReads extends AppCommand {
  constructor(readonly reads: Read[]) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const client = rig.client;
      const calls = this.reads.map((r): Promise<unknown> => {
        switch (r.kind) {
          case 'axis':
            return client.request(Command.STAGE_POSITION_GET, { int32Data0: r.axis });
          case 'position':
            return client.stage.position(r.axis);
          case 'laser':
            return client.request(Command.LASER_LEVEL_GET, { int32Data0: r.laser });
          case 'state':
            return client.system.state();
          default:
            throw new Error(`unknown read ${JSON.stringify(r satisfies never)}`);
        }
      });
      const results = await Promise.all(calls.map((c, i) => rig.settle(`read ${i}`, c)));
      results.forEach((result, i) => {
        const r = this.reads[i] as Read;
        if (!result.ok) {
          rig.allowError(`read ${JSON.stringify(r)}`, result.error);
          return;
        }
        if (r.kind === 'axis' || r.kind === 'position') {
          const a = axisOf(model, r.axis);
          const expected = a.pendingFrom === null ? a.position : undefined;
          if (r.kind === 'axis') checkPositionReply(result.value as Packet, r.axis, expected);
          else if (expected !== undefined && !Object.is(result.value, expected))
            fail(`stage.position(${r.axis}) = ${String(result.value)}, expected ${expected}`);
        } else if (r.kind === 'laser') {
          checkLaserReply(result.value as Packet, r.laser, model.lasers[r.laser]);
        } else if (!rig.workflowMaybeRunning && result.value !== 'idle') {
          fail(`system.state() = ${String(result.value)} with no workflow running`);
        }
      });
    });
  }
  toString(): string {
    return `reads(${this.reads.map((r) => ('axis' in r ? `${r.kind}${r.axis}` : r.kind === 'laser' ? `laser${r.laser}` : 'state')).join(',')})`;
  }
}

/** stage.moveTo: resolves with the target exactly, after the axis' own STAGE_MOTION_STOPPED. */
export class MoveTo extends AppCommand {
  constructor(
    readonly axis: number,
    readonly target: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const before = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      rig.issue(Command.STAGE_POSITION_SET);
      // The helper reads the position back when the event's value is 0 (R axis at 0°).
      if (this.target === 0) rig.issue(Command.STAGE_POSITION_GET);
      const result = await rig.settle('stage.moveTo', rig.client.stage.moveTo(this.axis, this.target, { motionTimeoutMs: rig.profile.eventTimeoutMs }));
      if (result.ok) {
        const r = result.value;
        if (r.axis !== this.axis || !r.reached || !Object.is(r.position, this.target)) fail(`moveTo(${this.axis}, ${this.target}) = ${JSON.stringify(r)}`);
        a.position = this.target;
        if ((rig.stops[this.axis] as Packet[]).length !== before + 1)
          fail(`moveTo(${this.axis}): ${(rig.stops[this.axis] as Packet[]).length - before} stop events`);
        return;
      }
      rig.allowError(this.toString(), result.error, disconnects);
      a.pendingFrom = before;
      a.position = undefined;
    });
  }
  toString(): string {
    return `moveTo(${this.axis}, ${this.target})`;
  }
}

/** lasers.setLevel then lasers.level and a raw GET: the level reads back exactly. */
export class LaserSetGet extends AppCommand {
  constructor(
    readonly laser: number,
    readonly hundredths: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const percent = this.hundredths / 100;
      rig.issue(Command.LASER_LEVEL_SET);
      const disconnects = rig.disconnects;
      const set = await rig.settle('lasers.setLevel', rig.client.lasers.setLevel(this.laser, percent));
      // setLevel writes the set again after each link lost before its read-back (spec/protocol.md "Our choices").
      rig.issue(Command.LASER_LEVEL_SET, Math.min(rig.disconnects - disconnects, LASER_SET_ATTEMPTS - 1));
      // The instrument holds what the read-back reports (it quantises), not what was asked.
      if (set.ok) model.lasers[this.laser] = set.value;
      else {
        rig.allowError(this.toString(), set.error);
        model.lasers[this.laser] = undefined;
      }
      const [level, raw] = await Promise.all([
        rig.settle('lasers.level', rig.client.lasers.level(this.laser)),
        rig.settle('LASER_LEVEL_GET', rig.client.request(Command.LASER_LEVEL_GET, { int32Data0: this.laser })),
      ]);
      const expected = model.lasers[this.laser];
      if (level.ok) {
        if (expected !== undefined && level.value !== expected) fail(`lasers.level(${this.laser}) = ${level.value}, expected ${expected}`);
        model.lasers[this.laser] = level.value;
      } else rig.allowError('lasers.level', level.error);
      if (raw.ok) checkLaserReply(raw.value, this.laser, model.lasers[this.laser]);
      else rig.allowError('LASER_LEVEL_GET', raw.error);
    });
  }
  toString(): string {
    return `laser(${this.laser}, ${(this.hundredths / 100).toFixed(2)})`;
  }
}

/** client.settings(): the whole text from the trailing payload, byte for byte. */
export class ReadSettings extends AppCommand {
  async run(_model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      rig.issue(Command.COMMON_SCOPE_SETTINGS);
      const result = await rig.settle('settings()', rig.client.settings());
      if (!result.ok) rig.allowError('settings()', result.error);
      else if (result.value !== rig.sim.settingsText) fail(`settings() returned ${result.value.length} chars, not the simulator's text`);
    });
  }
  toString(): string {
    return 'settings()';
  }
}

/**
 * A tiny workflow through workflow.start: exact stack counts. A laser is switched on only
 * in sequenced mode: in lease mode its end-of-run LASER_LEVEL_GET push is the documented
 * ambiguous case (spec/protocol.md §5.3), which the model does not claim to decide.
 */
export class RunWorkflow extends AppCommand {
  constructor(
    readonly planes: number,
    readonly laser: { index: number; hundredths: number } | null,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (rig.sim.snapshot().systemState !== 0) return; // an earlier failed run still goes on
      const laser = rig.cell.mode === 'sequenced' ? this.laser : null;
      const text = buildWorkflowText({
        numberOfPlanes: this.planes,
        lasers:
          laser === null
            ? [{ index: 1, name: '405 nm', power: 1, on: false }]
            : [{ index: laser.index, name: 'laser', power: laser.hundredths / 100, on: true }],
      });
      rig.issue(Command.CAMERA_WORKFLOW_START);
      rig.workflowMaybeRunning = true;
      const disconnects = rig.disconnects;
      const result = await rig.settle(
        'workflow.start',
        rig.client.workflow.start(text, { timeoutMs: rig.profile.eventTimeoutMs, startTimeoutMs: rig.profile.eventTimeoutMs }),
      );
      if (laser !== null) model.lasers[laser.index] = laser.hundredths / 100;
      if (!result.ok) {
        rig.allowError(this.toString(), result.error, disconnects);
        if (laser !== null) model.lasers[laser.index] = undefined;
        return;
      }
      rig.workflowMaybeRunning = false;
      const r = result.value;
      // No stack-complete on the instrument (nor the simulator by default): counts come from the last gauge value.
      if (r.countsFrom !== 'gauge' || r.acquired !== this.planes || r.expected !== this.planes || r.errors !== 0) {
        fail(`workflow of ${this.planes} planes: ${JSON.stringify(r)}`);
      }
    });
  }
  toString(): string {
    return `workflow(${this.planes}${this.laser === null ? '' : `, laser ${this.laser.index} ${(this.laser.hundredths / 100).toFixed(2)}`})`;
  }
}

/** A move written without waiting, HALT right behind it: one stop event, and the GET agrees with it exactly. */
export class MoveThenHalt extends AppCommand {
  constructor(
    readonly axis: number,
    readonly target: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const from = a.position as number;
      const stopIndex = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      a.pendingFrom = stopIndex;
      rig.issue(Command.STAGE_POSITION_SET);
      rig.issue(Command.STAGE_HALT);
      const move = rig.client.request(Command.STAGE_POSITION_SET, { int32Data0: this.axis, value: this.target });
      const halt = rig.client.stage.halt();
      const [moved, halted] = await Promise.all([rig.settle('move', move), rig.settle('stage.halt', halt)]);
      if (moved.ok) {
        const ack = moved.value;
        if (ack.code !== Command.STAGE_POSITION_SET || ack.int32Data0 !== this.axis || ack.status !== 1) fail(`move ack ${JSON.stringify(ack)}`);
      } else rig.allowError('move', moved.error);
      if (!halted.ok) rig.allowError('stage.halt', halted.error);
      if (!(await settleAxis(rig, model, this.axis))) return;
      const stop = (rig.stops[this.axis] as Packet[])[stopIndex];
      const position = a.position as number;
      // An acknowledged move always ends in one STAGE_MOTION_STOPPED, unless the simulator
      // sent it while the link was down (reconnect profile).
      if (moved.ok && stop === undefined && rig.disconnects === disconnects)
        fail(`axis ${this.axis}: acknowledged move to ${this.target} sent no STAGE_MOTION_STOPPED`);
      if (moved.ok && stop !== undefined) {
        // Reached (status 1, exactly the target) or halted on the way (status 0, between).
        const lo = Math.min(from, this.target);
        const hi = Math.max(from, this.target);
        if (stop.status === 1 ? !Object.is(stop.value, this.target) : !(stop.value >= lo && stop.value <= hi)) {
          fail(`axis ${this.axis} stopped with status ${stop.status} at ${stop.value} moving ${from} → ${this.target}`);
        }
      }
      const read = await rig.settle('GET after halt', rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }));
      if (read.ok) checkPositionReply(read.value, this.axis, position);
      else rig.allowError('GET after halt', read.error);
    });
  }
  toString(): string {
    return `moveThenHalt(${this.axis}, ${this.target})`;
  }
}

/** stage.halt() with nothing (or something) moving: status 1. */
export class Halt extends AppCommand {
  async run(_model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      rig.issue(Command.STAGE_HALT);
      const result = await rig.settle('stage.halt', rig.client.stage.halt());
      if (!result.ok) rig.allowError('stage.halt', result.error);
    });
  }
  toString(): string {
    return 'halt()';
  }
}

/** waitFor armed before a raw zero-length move: the event for that axis, status 1, the exact position. */
export class WaitForMotion extends AppCommand {
  constructor(readonly axis: number) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const here = a.position as number;
      a.pendingFrom = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      const stopped = rig.client.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === this.axis, {
        timeoutMs: rig.profile.eventTimeoutMs,
      });
      // Observed below; handled now so a rejection while the ack is awaited is not "unhandled".
      // Stop events recorded when the waiter gave up: an event already there was missed.
      let stopsAtTimeout = -1;
      stopped.catch(() => {
        stopsAtTimeout = (rig.stops[this.axis] as Packet[]).length;
      });
      rig.issue(Command.STAGE_POSITION_SET);
      const ack = await rig.settle('zero move', rig.client.request(Command.STAGE_POSITION_SET, { int32Data0: this.axis, value: here }));
      if (!ack.ok) {
        // The move may still have run: its event may come, or the waitFor times out.
        rig.allowError('zero move', ack.error);
        return;
      }
      const event = await rig.settle('waitFor', stopped);
      if (!event.ok) {
        if (event.error instanceof TimeoutError && rig.disconnects === disconnects) {
          // The event budget also covers the ack's round trip, which a loaded machine can
          // exceed: allowed only when the event had not come yet and does come (it follows
          // the ack on the stream, so it is there once a later reply is).
          if (stopsAtTimeout > a.pendingFrom) fail(`waitFor motion of axis ${this.axis} timed out with its event already received`);
          const from = a.pendingFrom;
          await settleAxis(rig, model, this.axis);
          if ((rig.stops[this.axis] as Packet[]).length <= from && rig.disconnects === disconnects)
            fail(`zero move of axis ${this.axis}: STAGE_MOTION_STOPPED never came`);
          return;
        }
        rig.allowError(`waitFor motion of axis ${this.axis}`, event.error, disconnects);
        return;
      }
      const p = event.value;
      if (p.status !== 1 || p.int32Data0 !== this.axis || !Object.is(p.value, here))
        fail(`zero move of axis ${this.axis} at ${here}: event ${JSON.stringify({ status: p.status, axis: p.int32Data0, value: p.value })}`);
      a.pendingFrom = null;
      a.position = here;
    });
  }
  toString(): string {
    return `waitForMotion(${this.axis})`;
  }
}

/** waitFor an event that cannot come (no workflow runs): TimeoutError, nothing else. */
export class WaitForNothing extends AppCommand {
  async run(_model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (rig.workflowMaybeRunning) return;
      const result = await rig.settle('waitFor idle', rig.client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 3 }));
      if (result.ok) fail(`waitFor(SYSTEM_STATE_IDLE) resolved with no workflow running: 0x${result.value.code.toString(16)}`);
      if (!(result.error instanceof TimeoutError)) fail(`waitFor(SYSTEM_STATE_IDLE) rejected with ${result.error.name}, not TimeoutError`);
    });
  }
  toString(): string {
    return 'waitForNothing()';
  }
}

/** When the AbortSignal fires relative to the request. */
export type AbortWhen = 'before' | 'sync' | 'microtask' | 'immediate';

/** A GET aborted at some point: AbortError or the exact reply, never another packet. */
export class AbortedRead extends AppCommand {
  constructor(
    readonly axis: number,
    readonly when: AbortWhen,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const controller = new AbortController();
      if (this.when === 'before') controller.abort();
      const request = rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { signal: controller.signal });
      if (this.when === 'sync') controller.abort();
      else if (this.when === 'microtask') queueMicrotask(() => controller.abort());
      else if (this.when === 'immediate') setImmediate(() => controller.abort());
      const result = await rig.settle('aborted GET', request);
      if (result.ok) {
        const a = axisOf(model, this.axis);
        if (this.when === 'before' || this.when === 'sync') fail(`GET aborted ${this.when} resolved`);
        checkPositionReply(result.value, this.axis, a.pendingFrom === null ? a.position : undefined);
      } else if (result.error instanceof AbortError) {
        rig.recordLate(result.error, 'STAGE_POSITION_GET');
      } else rig.allowError('aborted GET', result.error);
    });
  }
  toString(): string {
    return `abortedRead(${this.axis}, ${this.when})`;
  }
}

/** A tiny timeoutMs against a reply delayed on purpose: TimeoutError, and the late reply never answers anyone else. */
export class TimedOutRead extends AppCommand {
  constructor(readonly axis: number) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const id = rig.currentConnectionId;
      if (id === undefined || !rig.client.isConnected) return;
      rig.sim.setFaults(id, { ...rig.profile.faults, delay: { min: 40, max: 40 } });
      const result = await rig.settle('timed-out GET', rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { timeoutMs: 2 }));
      if (rig.currentConnectionId === id) rig.sim.setFaults(id, rig.profile.faults);
      if (result.ok) {
        // Only possible when the link dropped and the request went out again on a new connection without the delay.
        if (!rig.profile.reconnect) fail(`GET with timeoutMs 2 against a 40 ms reply delay resolved`);
        const a = axisOf(model, this.axis);
        checkPositionReply(result.value, this.axis, a.pendingFrom === null ? a.position : undefined);
      } else if (result.error instanceof TimeoutError) {
        rig.recordLate(result.error, 'STAGE_POSITION_GET');
      } else rig.allowError('timed-out GET', result.error);
    });
  }
  toString(): string {
    return `timedOutRead(${this.axis})`;
  }
}

/**
 * stage.moveBy (read, move, wait inside one exclusive section) with a read of another axis
 * issued right behind it: the read waits for the section and is exact; the move starts
 * from the model's position exactly, or is refused (ProtocolError) outside the limits.
 */
export class MoveBy extends AppCommand {
  constructor(
    readonly axis: number,
    readonly delta: number,
    readonly otherAxis: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis)) || !(await settleAxis(rig, model, this.otherAxis))) return;
      const a = axisOf(model, this.axis);
      const from = a.position as number;
      const target = from + this.delta;
      const [min, max] = LIMITS[this.axis] as readonly [number, number];
      const inside = target >= min && target <= max;
      const before = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      rig.issue(Command.STAGE_POSITION_SET);
      if (target === 0) rig.issue(Command.STAGE_POSITION_GET);
      const move = rig.client.stage.moveBy(this.axis, this.delta, { motionTimeoutMs: rig.profile.eventTimeoutMs });
      const read = rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.otherAxis });
      const [moved, other] = await Promise.all([rig.settle('stage.moveBy', move), rig.settle('GET other axis', read)]);
      if (moved.ok) {
        const r = moved.value;
        if (!inside) fail(`moveBy(${this.axis}, ${this.delta}) from ${from} to ${target} outside ${min}..${max} resolved`);
        if (!Object.is(r.from, from) || !Object.is(r.target, target) || !Object.is(r.position, target) || !r.reached) {
          fail(`moveBy(${this.axis}, ${this.delta}) from ${from}: ${JSON.stringify(r)}`);
        }
        a.position = target;
      } else if (moved.error instanceof ProtocolError && !inside && moved.error.reply.code === Command.STAGE_POSITION_SET && moved.error.reply.status === 0) {
        // Refused: no motion, no event; the axis stays where it was.
        if ((rig.stops[this.axis] as Packet[]).length !== before) fail(`refused moveBy(${this.axis}) produced a stop event`);
      } else {
        rig.allowError(this.toString(), moved.error, disconnects);
        a.pendingFrom = before;
        a.position = undefined;
      }
      // The other axis' read: exact. On the moved axis itself it reads the position before
      // or after the whole section (never one in between), depending on which got the link first.
      const o = axisOf(model, this.otherAxis);
      if (!other.ok) rig.allowError('GET other axis', other.error);
      else if (this.otherAxis !== this.axis || !moved.ok) checkPositionReply(other.value, this.otherAxis, o.pendingFrom === null ? o.position : undefined);
      else if (!Object.is(other.value.value, from)) checkPositionReply(other.value, this.otherAxis, target);
    });
  }
  toString(): string {
    return `moveBy(${this.axis}, ${this.delta}, read ${this.otherAxis})`;
  }
}

/** stage.moveTo aborted at some point: the exact result, or AbortError and the axis re-learnt. */
export class AbortedMove extends AppCommand {
  constructor(
    readonly axis: number,
    readonly target: number,
    readonly when: AbortWhen,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const before = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      const controller = new AbortController();
      if (this.when === 'before') controller.abort();
      rig.issue(Command.STAGE_POSITION_SET);
      if (this.target === 0) rig.issue(Command.STAGE_POSITION_GET);
      const move = rig.client.stage.moveTo(this.axis, this.target, { motionTimeoutMs: rig.profile.eventTimeoutMs, signal: controller.signal });
      if (this.when === 'sync') controller.abort();
      else if (this.when === 'microtask') queueMicrotask(() => controller.abort());
      else if (this.when === 'immediate') setImmediate(() => controller.abort());
      const result = await rig.settle('aborted moveTo', move);
      if (result.ok) {
        if (this.when === 'before' || this.when === 'sync') fail(`moveTo aborted ${this.when} resolved`);
        if (!Object.is(result.value.position, this.target)) fail(`aborted moveTo(${this.axis}, ${this.target}) resolved at ${result.value.position}`);
        a.position = this.target;
        return;
      }
      if (result.error instanceof AbortError) rig.recordLate(result.error, 'STAGE_POSITION_SET');
      else rig.allowError(this.toString(), result.error, disconnects);
      // Written or not, moving or not: the next use of the axis finds out.
      a.pendingFrom = before;
      a.position = undefined;
    });
  }
  toString(): string {
    return `abortedMove(${this.axis}, ${this.target}, ${this.when})`;
  }
}

/** Every command apps issue, with the weights a run draws them by. */
export function commandArbitraries(): fc.Arbitrary<Cmd>[] {
  return [
    // Mostly a handful at once; sometimes more than the sequencer's window (32) of them.
    fc
      .oneof(
        { weight: 5, arbitrary: fc.array(readArb, { minLength: 1, maxLength: 8 }) },
        { weight: 1, arbitrary: fc.array(readArb, { minLength: 20, maxLength: 40 }) },
      )
      .map((reads) => new ConcurrentReads(reads)),
    moveArb.map(([axis, target]) => new MoveTo(axis, target)),
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 10_000 })).map(([laser, h]) => new LaserSetGet(laser, h)),
    fc.constant(new ReadSettings()),
    fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.option(fc.record({ index: fc.integer({ min: 1, max: 4 }), hundredths: fc.integer({ min: 0, max: 10_000 }) })))
      .map(([planes, laser]) => new RunWorkflow(planes, laser)),
    moveArb.map(([axis, target]) => new MoveThenHalt(axis, target)),
    fc.constant(new Halt()),
    axisArb.map((axis) => new WaitForMotion(axis)),
    fc.constant(new WaitForNothing()),
    fc.tuple(axisArb, fc.constantFrom<AbortWhen>('before', 'sync', 'microtask', 'immediate')).map(([axis, when]) => new AbortedRead(axis, when)),
    axisArb.map((axis) => new TimedOutRead(axis)),
    fc.tuple(axisArb, fc.integer({ min: -20_000, max: 20_000 }), axisArb).map(([axis, micro, other]) => new MoveBy(axis, micro / 1000, other)),
    fc
      .tuple(moveArb, fc.constantFrom<AbortWhen>('before', 'sync', 'microtask', 'immediate'))
      .map(([[axis, target], when]) => new AbortedMove(axis, target, when)),
  ];
}
