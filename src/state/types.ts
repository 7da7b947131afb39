import type { AxisNumber, CorrelationMode, SystemState } from '../../protocol/domain.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';

/**
 * Shapes of the instrument mirror. Every object reachable from a snapshot is frozen, and a
 * field the mirror has never observed is `undefined`: the mirror reports what the
 * instrument said, never a default. spec/state.md lists which packet updates which field.
 */

export type { AxisNumber, CorrelationMode, SystemState };
/** Stage axis name used as the key in {@link StageSnapshot}. */
export type AxisName = 'x' | 'y' | 'z' | 'r';
/** Laser index as the protocol uses it in int32Data0. */
export type LaserIndex = 1 | 2 | 3 | 4;

/** Link state of the client that feeds the mirror. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** One stage axis. Units: mm for x, y, z; degrees for r. */
export interface AxisSnapshot {
  /** Last position the instrument reported (STAGE_POSITION_GET reply or STAGE_MOTION_STOPPED). */
  readonly position: number | undefined;
  /** A move is running: true from an accepted STAGE_POSITION_SET / STAGE_HOME until STAGE_MOTION_STOPPED. */
  readonly moving: boolean | undefined;
  /** Target of the running move, or of the last move once it stopped; undefined for a homing move. */
  readonly target: number | undefined;
  /** Outcome of the last move that ended: true reached its target, false stopped short. Cleared when a new move starts. */
  readonly reached: boolean | undefined;
}

/** The four stage axes by name. */
export interface StageSnapshot {
  readonly x: AxisSnapshot;
  readonly y: AxisSnapshot;
  readonly z: AxisSnapshot;
  readonly r: AxisSnapshot;
}

/** One laser line. */
export interface LaserSnapshot {
  /** Power in percent, from the level text ("5.00") of a LASER_LEVEL_GET reply or push, or an accepted LASER_LEVEL_SET. */
  readonly level: number | undefined;
  /** Preview emission on (LASER_PREVIEW_ENABLE / _DISABLE accepted; LASER_ALL_DISABLE written). */
  readonly enabled: boolean | undefined;
}

/** The four laser lines by index. */
export interface LasersSnapshot {
  readonly 1: LaserSnapshot;
  readonly 2: LaserSnapshot;
  readonly 3: LaserSnapshot;
  readonly 4: LaserSnapshot;
}

/** The transmitted-light LED. The instrument has one LED selection; `index` is the LED last addressed. */
export interface LedSnapshot {
  readonly index: number | undefined;
  /** DAC level 0..65535 from an accepted LED_SET. */
  readonly level: number | undefined;
  readonly enabled: boolean | undefined;
}

/** Camera settings the protocol can read back. */
export interface CameraSnapshot {
  readonly exposureUs: number | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** Field of view of one pixel, mm. */
  readonly pixelSizeMm: number | undefined;
  /** Live view runs: an accepted CAMERA_LIVE_VIEW_START / _STOP (or such a frame pushed for another client). */
  readonly live: boolean | undefined;
}

/** The two light-sheet illumination paths: on after ILLUMINATION_*_ENABLE, off after _DISABLE. */
export interface IlluminationSnapshot {
  readonly left: boolean | undefined;
  readonly right: boolean | undefined;
}

/** Counts of the last CAMERA_STACK_COMPLETE push. */
export interface StackCompleteSnapshot {
  readonly acquired: number;
  readonly expected: number;
  readonly errors: number;
  /** The event's value field, microseconds; undefined when it is not a finite number. */
  readonly durationUs: number | undefined;
}

/**
 * Progress of the current workflow, or of the last one once it ended. A new run (an
 * accepted CAMERA_WORKFLOW_START, or the first progress push while `running` is not true)
 * clears the previous run's figures, so they never mix.
 */
export interface WorkflowSnapshot {
  readonly running: boolean | undefined;
  readonly gaugeSize: number | undefined;
  readonly gaugeValue: number | undefined;
  readonly imagesSaved: number | undefined;
  readonly stackComplete: StackCompleteSnapshot | undefined;
}

/** Link state and correlation mode, set by the client through `setConnection`. */
export interface ConnectionSnapshot {
  readonly state: ConnectionState | undefined;
  readonly mode: CorrelationMode | undefined;
}

/** One consistent, deeply frozen view of the instrument after a whole number of packets. */
export interface InstrumentSnapshot {
  /** 0 for the empty mirror; +1 on every change. */
  readonly version: number;
  readonly connection: ConnectionSnapshot;
  readonly stage: StageSnapshot;
  readonly lasers: LasersSnapshot;
  readonly led: LedSnapshot;
  readonly camera: CameraSnapshot;
  readonly illumination: IlluminationSnapshot;
  /** Filter wheel position. */
  readonly filterPosition: number | undefined;
  readonly system: SystemState | undefined;
  readonly workflow: WorkflowSnapshot;
}

/** A change caused by a request being written rather than by a received packet (LASER_ALL_DISABLE, never acknowledged). */
export interface SentRequestCause {
  readonly kind: 'sent';
  readonly request: PacketInit;
}

/** A change of link state or mode reported by the client. */
export interface ConnectionCause {
  readonly kind: 'connection';
  readonly state: ConnectionState;
  readonly mode: CorrelationMode | undefined;
}

/** What caused a change: the received packet (the usual case), a written request, or the link. */
export type StateChangeCause = Packet | SentRequestCause | ConnectionCause;

/** True when the cause is a received packet. */
export function isPacketCause(cause: StateChangeCause): cause is Packet {
  return !('kind' in cause);
}

/** Events of {@link InstrumentState}. */
export interface InstrumentStateEvents {
  /** Once per packet (or request, or link change) that changed anything; never for a no-op. */
  change: [next: InstrumentSnapshot, prev: InstrumentSnapshot, cause: StateChangeCause];
  /** A `change` listener threw; re-emitted on the next tick so the mirror keeps going. */
  error: [error: unknown];
}
