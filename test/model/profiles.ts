import { Command } from '../../protocol/commands.js';
import type { FaultSpec } from '../../mocks/fault-spec.js';

/** How the client reaches the simulator. */
export type TransportKind = 'memory' | 'tcp';
/** Correlation mode: the simulator echoes sequences (sequenced) or not (lease, like published firmware). */
export type CorrelationKind = 'sequenced' | 'lease';

/** One fault profile of the reliability matrix. */
export interface FaultProfile {
  readonly name: string;
  /** Faults of every simulator connection (each reconnection gets a fresh connection with the same spec). */
  readonly faults: FaultSpec;
  /** Cut the client's own writes into 1..N byte pieces too (memory transport only). */
  readonly clientFragmentMaxBytes?: number;
  /** Reconnect after the simulator hangs up. */
  readonly reconnect: boolean;
  /** The profile loses replies: a request may end in TimeoutError (never in a wrong value). */
  readonly dropsReplies: boolean;
  /** Reply timeout of every request. */
  readonly requestTimeoutMs: number;
  /**
   * How long a step waits for an event it caused (motion stopped, workflow idle). Short where
   * the link drops, because an event sent while it is down is lost and the wait must end.
   */
  readonly eventTimeoutMs: number;
}

/**
 * The profiles of issue 6. Timeouts are generous where no reply is ever lost, so that a
 * loaded 2-core machine cannot turn a slow reply into a false failure; where replies ARE
 * dropped the timeout is short, because every dropped reply costs one timeout.
 */
export const PROFILES: readonly FaultProfile[] = [
  { name: 'none', faults: {}, reconnect: false, dropsReplies: false, requestTimeoutMs: 5000, eventTimeoutMs: 3000 },
  {
    name: 'fragment',
    faults: { fragment: 200 },
    clientFragmentMaxBytes: 200,
    reconnect: false,
    dropsReplies: false,
    requestTimeoutMs: 5000,
    eventTimeoutMs: 3000,
  },
  { name: 'jitter', faults: { delay: { min: 0, max: 4 } }, reconnect: false, dropsReplies: false, requestTimeoutMs: 5000, eventTimeoutMs: 3000 },
  { name: 'garbage', faults: { garbage: { rate: 0.3, maxBytes: 40 } }, reconnect: false, dropsReplies: false, requestTimeoutMs: 5000, eventTimeoutMs: 3000 },
  { name: 'drop', faults: { drop: 0.05 }, reconnect: false, dropsReplies: true, requestTimeoutMs: 500, eventTimeoutMs: 3000 },
  { name: 'reconnect', faults: { disconnect: { min: 12, max: 30 } }, reconnect: true, dropsReplies: false, requestTimeoutMs: 5000, eventTimeoutMs: 300 },
  {
    name: 'flood',
    faults: { flood: { perSecond: 5000, code: Command.UI_IMAGES_SAVED_TO_STORAGE } },
    reconnect: false,
    dropsReplies: false,
    requestTimeoutMs: 5000,
    eventTimeoutMs: 3000,
  },
];

/** One cell of the matrix. */
export interface Cell {
  readonly transport: TransportKind;
  readonly mode: CorrelationKind;
  readonly profile: FaultProfile;
}

/** Both transports: memory isolates the client's logic, TCP adds real socket chunking and backpressure. */
export const TRANSPORTS: readonly TransportKind[] = ['memory', 'tcp'];
/** Both correlation modes, since each fault profile stresses sequenced and lease correlation differently. */
const MODES: readonly CorrelationKind[] = ['sequenced', 'lease'];

/** Every cell: profile × transport × mode. */
export function matrixCells(transports: readonly TransportKind[] = TRANSPORTS): Cell[] {
  return PROFILES.flatMap((profile) => transports.flatMap((transport) => MODES.map((mode) => ({ transport, mode, profile }))));
}

/** `none/memory/sequenced`. */
export function cellName(cell: Cell): string {
  return `${cell.profile.name}/${cell.transport}/${cell.mode}`;
}
