import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import type { Packet } from '../../../protocol/packet.js';
import type { FlamingoClient } from '../client.js';
import { ArgumentError, ProtocolError } from '../../errors.js';
import { TextFormatError } from '../../../protocol/text-format.js';
import { AXIS_KEYS, moveBounds, parseStageLimits, type AxisKey, type StageLimits } from './stage-limits.js';

/** Targets of a multi-axis move: any of x, y, z (mm) and r (degrees). */
export type StageTargets = Partial<Record<AxisKey, number>>;
/** Positions read back after a multi-axis move, for the axes that were moved. */
export type StagePositions = Partial<Record<AxisKey, number>>;

/** Options of {@link StageHelper.moveToMany}. */
export interface MoveManyOptions {
  /** Wait for every axis's STAGE_MOTION_STOPPED this long (default 120000 ms). */
  motionTimeoutMs?: number;
  /** Read-back tolerance for x, y, z in mm (default 0.001). */
  toleranceMm?: number;
  /** Read-back tolerance for r in degrees (default 0.01: the instrument reads 14.994 for 15). */
  toleranceDeg?: number;
  signal?: AbortSignal;
}

/** Limits, multi-axis moves and home, on top of the client's exclusive sections. */
export class StageMoves {
  private cached: StageLimits | undefined;

  constructor(private readonly client: FlamingoClient) {}

  /** Stage limits from the instrument's settings text; read once and cached, `refresh` re-reads. */
  async limits(options: { refresh?: boolean } = {}): Promise<StageLimits> {
    if (this.cached === undefined || options.refresh === true) this.cached = parseStageLimits(await this.client.settings());
    return this.cached;
  }

  /**
   * Move several axes, in one exclusive section: every target is checked against the soft
   * limits first (ArgumentError, nothing moves), then one STAGE_POSITION_SET per axis in
   * x, y, z, r order, each acknowledged, then a wait for every axis's STAGE_MOTION_STOPPED,
   * then each position is read back and compared, because the instrument may report a
   * multi-axis move before the last axis stopped. Resolves with the positions read back.
   */
  async moveToMany(targets: StageTargets, options: MoveManyOptions = {}): Promise<StagePositions> {
    const axes = checkTargets(targets);
    const limits = await this.limits();
    for (const key of axes) {
      const target = targets[key] as number;
      const { min, max } = moveBounds(limits[key]);
      if (target < min || target > max) {
        throw new ArgumentError(`${key} target ${target} is outside the soft limits ${min}..${max}`, 'STAGE_POSITION_SET');
      }
    }
    return this.client.exclusive(async (tx) => {
      const cancel = new AbortController();
      const signal = options.signal === undefined ? cancel.signal : AbortSignal.any([cancel.signal, options.signal]);
      // Armed before the first move: a short move can stop before its ack is handled.
      const stops = axes.map((key) => {
        const axis = AXIS_KEYS.indexOf(key) + 1;
        const wait = tx.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === axis, {
          timeoutMs: options.motionTimeoutMs ?? 120_000,
          signal,
        });
        wait.catch(() => undefined);
        return wait;
      });
      const stopped: Packet[] = [];
      try {
        for (const key of axes) {
          const axis = AXIS_KEYS.indexOf(key) + 1;
          const ack = await tx.request(
            Command.STAGE_POSITION_SET,
            { int32Data0: axis, value: targets[key] as number },
            options.signal ? { signal: options.signal } : {},
          );
          if (ack.status !== STATUS_OK)
            throw new ProtocolError(`move of ${key} to ${targets[key]} refused (status ${ack.status})`, ack, { command: 'STAGE_POSITION_SET' });
        }
        for (const wait of stops) stopped.push(await wait);
      } finally {
        cancel.abort();
      }
      const positions: StagePositions = {};
      for (const [i, key] of axes.entries()) {
        const axis = AXIS_KEYS.indexOf(key) + 1;
        const read = await tx.request(Command.STAGE_POSITION_GET, { int32Data0: axis }, { expectOk: true });
        const target = targets[key] as number;
        const tolerance = key === 'r' ? (options.toleranceDeg ?? 0.01) : (options.toleranceMm ?? 0.001);
        if (Math.abs(read.value - target) > tolerance) {
          throw new ProtocolError(`${key} is at ${read.value}, not at ${target}`, stopped[i] ?? read, { command: 'STAGE_MOTION_STOPPED' });
        }
        positions[key] = read.value;
      }
      return positions;
    });
  }

  /** Move every axis to the settings' Home values, as the instrument's own GUI does (STAGE_HOME is not used). */
  async home(options: MoveManyOptions = {}): Promise<StagePositions> {
    const limits = await this.limits();
    const targets: StageTargets = {};
    for (const key of AXIS_KEYS) {
      const home = limits[key].home;
      if (home === undefined) throw new TextFormatError(`the settings text has no Home ${key}-axis`, 1);
      targets[key] = home;
    }
    return this.moveToMany(targets, options);
  }
}

/** The axes given, in protocol order; ArgumentError for unknown keys, non-finite targets or none at all. */
function checkTargets(targets: StageTargets): AxisKey[] {
  if (typeof targets !== 'object' || targets === null) throw new ArgumentError('targets must be { x?, y?, z?, r? }', 'STAGE_POSITION_SET');
  for (const key of Object.keys(targets)) {
    if (!(AXIS_KEYS as readonly string[]).includes(key)) throw new ArgumentError(`unknown axis '${key}' (x, y, z or r)`, 'STAGE_POSITION_SET');
  }
  const axes = AXIS_KEYS.filter((key) => targets[key] !== undefined);
  if (axes.length === 0) throw new ArgumentError('moveToMany needs at least one of x, y, z, r', 'STAGE_POSITION_SET');
  for (const key of axes) {
    const v = targets[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${key} must be a finite number, got ${String(v)}`, 'STAGE_POSITION_SET');
  }
  return axes;
}
