import { Command } from '../../../protocol/commands.js';
import type { PacketInit } from '../../../protocol/packet.js';
import type { CheckContext } from './context.js';

/** pass and fail count towards the verdict; info reports a property that is allowed either way. */
export type CheckStatus = 'pass' | 'fail' | 'info';

/** What one check concluded. */
export interface CheckOutcome {
  status: CheckStatus;
  /** Why, in words a person can act on: what was sent, what came back. */
  reason: string;
}

/**
 * How much a check may demand (spec/protocol.md "Conformance levels"): `wire` framing every
 * Flamingo server must get right; `observed` behaviour recorded on the instrument (each check
 * cites its evidence and never fails what the instrument was seen doing); `extension` this
 * project's additions (sequence echo, simulator choices): reported as INFO, never FAIL.
 */
export type CheckLevel = 'wire' | 'observed' | 'extension';

/** One named conformance check. */
export interface ConformanceCheck {
  /** Stable id (kebab-case), used by `--only` and in JSON reports. */
  readonly name: string;
  readonly level: CheckLevel;
  /** For `observed` checks: the evidence, graded (e.g. "RIG §2"). */
  readonly evidence?: string;
  /** What the check proves, in one line. */
  readonly title: string;
  /** Runs the check; throw a CheckFailure (or any error) to fail it. */
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

export const pass = (reason: string): CheckOutcome => ({ status: 'pass', reason });
export const hex = (n: number) => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

export function u32At(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
}

export const systemState: PacketInit = { code: Command.SYSTEM_STATE_GET };
export const stagePosition = (axis: number): PacketInit => ({ code: Command.STAGE_POSITION_GET, int32Data0: axis });
export const laserLevel = (laser: number): PacketInit => ({ code: Command.LASER_LEVEL_GET, int32Data0: laser });

export const mm = (n: number) => n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');

/** Positions agree to within this (mm or degrees): encoders report real positions, not targets. */
export const POSITION_TOLERANCE = 0.005;
