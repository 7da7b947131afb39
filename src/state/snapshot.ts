import { AXIS_NUMBERS, asAxis } from '../../protocol/domain.js';
import type { AxisName, AxisNumber, AxisSnapshot, CameraSnapshot, InstrumentSnapshot, LaserSnapshot, LedSnapshot, WorkflowSnapshot } from './types.js';

/**
 * Immutable-update helpers. Snapshots are never mutated once published: an update copies
 * only the objects on the path to the changed field (structural sharing) and returns the
 * SAME object when nothing differs, so "did anything change" is a reference comparison.
 */

/** Axis number → name, the key in `snapshot.stage`. */
export const AXIS_NAMES: Readonly<Record<AxisNumber, AxisName>> = Object.freeze({ 1: 'x', 2: 'y', 3: 'z', 4: 'r' });
export { AXIS_NUMBERS, asAxis };
/** The laser indices in order. */
export const LASER_INDICES: readonly (1 | 2 | 3 | 4)[] = Object.freeze([1, 2, 3, 4] as const);

/** Narrow an int32Data0 to a laser index, or undefined when it is not 1..4. */
export function asLaser(n: number | undefined): 1 | 2 | 3 | 4 | undefined {
  return n === 1 || n === 2 || n === 3 || n === 4 ? n : undefined;
}

/**
 * `obj` with the fields of `patch`; `obj` itself when every field already has that value.
 * Values are numbers, booleans, strings, undefined or already-frozen objects, so `===`
 * is the right equality (0 and -0 count as the same position).
 */
export function patch<T extends object>(obj: T, changes: Partial<T>): T {
  for (const key in changes) {
    if (changes[key] !== obj[key]) return Object.freeze(copyWith(obj, changes));
  }
  return obj;
}

/**
 * `{ ...obj, ...changes }`, copied key by key: spreading a frozen object (every published
 * part is frozen) takes V8's slow clone path, and this runs for every packet that changes
 * the mirror. Same keys in the same order as the spread.
 */
function copyWith<T extends object>(obj: T, changes: Partial<T>): T {
  const out = {} as T;
  for (const key in obj) out[key] = obj[key];
  for (const key in changes) out[key] = changes[key] as T[typeof key];
  return out;
}

/** A draft of the top-level snapshot: parts may be replaced until the owner freezes it. */
export type SnapshotDraft = { -readonly [K in keyof InstrumentSnapshot]: InstrumentSnapshot[K] };

/**
 * `s` with one top-level part replaced. The first replacement copies the (frozen) published
 * snapshot into an unfrozen draft; later ones in the same packet write into that draft, so a
 * packet that touches two parts still allocates one top-level object. The owner stamps the
 * version and freezes the draft before anyone can see it.
 */
export function withPart<K extends Exclude<keyof InstrumentSnapshot, 'version'>>(
  s: InstrumentSnapshot,
  key: K,
  part: InstrumentSnapshot[K],
): InstrumentSnapshot {
  if (s[key] === part) return s;
  if (!Object.isFrozen(s)) {
    (s as SnapshotDraft)[key] = part;
    return s;
  }
  const draft = copySnapshot(s);
  draft[key] = part;
  return draft;
}

/**
 * An unfrozen copy of a snapshot's top level, field by field in EMPTY_SNAPSHOT's order.
 * Not `{ ...s }`: spreading a frozen object takes V8's slow clone path, and this copy runs
 * for every packet that changes the mirror (a workflow's gauge events); measured at about a
 * third of the spread's cost.
 */
function copySnapshot(s: InstrumentSnapshot): SnapshotDraft {
  return {
    version: s.version,
    connection: s.connection,
    stage: s.stage,
    lasers: s.lasers,
    led: s.led,
    camera: s.camera,
    illumination: s.illumination,
    filterPosition: s.filterPosition,
    system: s.system,
    workflow: s.workflow,
  };
}

/** `s` with one axis patched. */
export function patchAxis(s: InstrumentSnapshot, axis: AxisNumber, changes: Partial<AxisSnapshot>): InstrumentSnapshot {
  const name = AXIS_NAMES[axis];
  const current = s.stage[name];
  const next = patch(current, changes);
  if (next === current) return s;
  return withPart(s, 'stage', Object.freeze({ ...s.stage, [name]: next }));
}

/** `s` with one laser patched. */
export function patchLaser(s: InstrumentSnapshot, laser: 1 | 2 | 3 | 4, changes: Partial<LaserSnapshot>): InstrumentSnapshot {
  const current = s.lasers[laser];
  const next = patch(current, changes);
  if (next === current) return s;
  return withPart(s, 'lasers', Object.freeze({ ...s.lasers, [laser]: next }));
}

/** `s` with the LED patched. */
export function patchLed(s: InstrumentSnapshot, changes: Partial<LedSnapshot>): InstrumentSnapshot {
  return withPart(s, 'led', patch(s.led, changes));
}

/** `s` with the camera patched. */
export function patchCamera(s: InstrumentSnapshot, changes: Partial<CameraSnapshot>): InstrumentSnapshot {
  return withPart(s, 'camera', patch(s.camera, changes));
}

/** `s` with the workflow patched. */
export function patchWorkflow(s: InstrumentSnapshot, changes: Partial<WorkflowSnapshot>): InstrumentSnapshot {
  return withPart(s, 'workflow', patch(s.workflow, changes));
}

const UNKNOWN_AXIS: AxisSnapshot = Object.freeze({ position: undefined, moving: undefined, target: undefined, reached: undefined });
const UNKNOWN_LASER: LaserSnapshot = Object.freeze({ level: undefined, enabled: undefined });

/** The mirror before anything was observed: every field undefined. Shared by every fresh mirror (it is frozen). */
export const EMPTY_SNAPSHOT: InstrumentSnapshot = Object.freeze({
  version: 0,
  connection: Object.freeze({ state: undefined, mode: undefined }),
  stage: Object.freeze({ x: UNKNOWN_AXIS, y: UNKNOWN_AXIS, z: UNKNOWN_AXIS, r: UNKNOWN_AXIS }),
  lasers: Object.freeze({ 1: UNKNOWN_LASER, 2: UNKNOWN_LASER, 3: UNKNOWN_LASER, 4: UNKNOWN_LASER }),
  led: Object.freeze({ index: undefined, level: undefined, enabled: undefined }),
  camera: Object.freeze({ exposureUs: undefined, width: undefined, height: undefined, pixelSizeMm: undefined, live: undefined }),
  illumination: Object.freeze({ left: undefined, right: undefined }),
  filterPosition: undefined,
  system: undefined,
  workflow: Object.freeze({
    running: undefined,
    gaugeSize: undefined,
    gaugeValue: undefined,
    imagesSaved: undefined,
    stackComplete: undefined,
  }),
});
