import { Command } from '../../protocol/commands.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';

/** Groups of readable state; `refreshPlan` re-reads the groups asked for (all by default). */
export type RefreshGroup = 'system' | 'stage' | 'lasers' | 'camera' | 'filter';

/** Every group, in the order a refresh reads them. */
export const REFRESH_GROUPS: readonly RefreshGroup[] = Object.freeze(['system', 'stage', 'lasers', 'camera', 'filter'] as const);

/** One request of a refresh pass. Send it with TRIGGER_CALL_BACK (`client.request`); the reply updates `reads`. */
export interface RefreshRequest {
  readonly group: RefreshGroup;
  readonly code: number;
  /** Header fields of the request besides the code (e.g. the axis in int32Data0). */
  readonly fields: Readonly<PacketInit>;
  /** The snapshot field(s) the reply updates, e.g. `stage.x.position`. */
  readonly reads: string;
}

/** Sends one request and resolves with its reply (the client's `request`, inside the exclusive lease). */
export type RefreshRequestFn = (request: PacketInit & { readonly code: number }) => Promise<Packet>;

/** Outcome of a refresh pass. */
export interface RefreshReport {
  /** Requests sent. */
  readonly requested: number;
  /** Replies with status 1 (applied to the mirror). */
  readonly read: number;
  /** Requests that did not read anything: rejected (`error`) or answered with a failure `status`. */
  readonly failed: ReadonlyArray<{ readonly request: RefreshRequest; readonly status?: number; readonly error?: unknown }>;
}

function item(group: RefreshGroup, code: number, fields: PacketInit, reads: string): RefreshRequest {
  return Object.freeze({ group, code, fields: Object.freeze(fields), reads });
}

const AXES = [
  [1, 'x'],
  [2, 'y'],
  [3, 'z'],
  [4, 'r'],
] as const;

// One frozen table: the plan is data, and refreshPlan() only filters it.
const FULL_PLAN: readonly RefreshRequest[] = Object.freeze([
  // System state first: it says whether a workflow is running before anything else is read.
  item('system', Command.SYSTEM_STATE_GET, {}, 'system, workflow.running (when idle)'),
  ...AXES.map(([axis, name]) => item('stage', Command.STAGE_POSITION_GET, { int32Data0: axis }, `stage.${name}.position`)),
  ...[1, 2, 3, 4].map((laser) => item('lasers', Command.LASER_LEVEL_GET, { int32Data0: laser }, `lasers[${laser}].level`)),
  item('camera', Command.CAMERA_EXPOSURE_GET, {}, 'camera.exposureUs'),
  item('camera', Command.CAMERA_IMAGE_SIZE_GET, {}, 'camera.width, camera.height'),
  item('camera', Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, {}, 'camera.pixelSizeMm'),
  item('filter', Command.FILTER_POSITION_GET, {}, 'filterPosition'),
]);

/**
 * The requests that re-read everything the protocol lets a client read back, in order.
 * Pure: the same frozen list for the same groups. LED state, laser preview and stage
 * motion have no read command: they are known only from acknowledgements and events.
 */
export function refreshPlan(groups: readonly RefreshGroup[] = REFRESH_GROUPS): readonly RefreshRequest[] {
  if (groups === REFRESH_GROUPS) return FULL_PLAN;
  return Object.freeze(FULL_PLAN.filter((r) => groups.includes(r.group)));
}
