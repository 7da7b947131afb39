import { Axis, type AxisNumber } from '../../../protocol/domain.js';
import { ArgumentError } from '../../errors.js';

export { Axis };
export type { AxisNumber };

/** ArgumentError unless `axis` is 1..4 (checked before anything is sent). */
export function checkAxis(axis: number, command: string): asserts axis is AxisNumber {
  if (!Number.isInteger(axis) || axis < 1 || axis > 4) throw new ArgumentError(`axis must be 1 (X), 2 (Y), 3 (Z) or 4 (R), got ${String(axis)}`, command);
}

/** ArgumentError unless `laser` is 1..4. */
export function checkLaser(laser: number, command: string): void {
  if (!Number.isInteger(laser) || laser < 1 || laser > 4) throw new ArgumentError(`laser must be 1..4, got ${String(laser)}`, command);
}

/** ArgumentError unless `value` is a finite number. */
export function checkFinite(name: string, value: number, command: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ArgumentError(`${name} must be a finite number, got ${String(value)}`, command);
}
