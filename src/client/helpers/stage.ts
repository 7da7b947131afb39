import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import type { Packet } from '../../../protocol/packet.js';
import type { ExclusiveTx, FlamingoClient } from '../client.js';
import { ProtocolError } from '../../errors.js';
import type { StageLimits } from './stage-limits.js';
import { StageMoves, type MoveManyOptions, type StagePositions, type StageTargets } from './stage-many.js';
import { checkTimeout } from '../fields.js';
import { checkAxis, checkFinite } from './validate.js';
import type { AxisNumber } from './validate.js';

/** Outcome of {@link StageHelper.moveTo}. */
export interface MoveResult {
  axis: AxisNumber;
  /** Final position (mm, or degrees for R), from STAGE_MOTION_STOPPED (read back if the server left it 0). */
  position: number;
  /** Always true when the promise resolves: a move that stopped short rejects. */
  reached: boolean;
}

/** Options of {@link StageHelper.moveTo}. */
export interface MoveOptions {
  /** How long to wait for STAGE_MOTION_STOPPED after the ack (default 120000 ms: full R travel at 50°/s is ~29 s). */
  motionTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Outcome of {@link StageHelper.moveBy}. */
export interface MoveByResult extends MoveResult {
  /** Position read at the start, inside the same exclusive section as the move. */
  from: number;
  /** `from + delta`: the target the move was sent to. */
  target: number;
}

/** What a move needs: the client itself, or an `exclusive()` section's tx. */
type Requester = Pick<ExclusiveTx, 'request' | 'waitFor'>;

/** Stage moves and positions, built on request and waitFor only. */
export class StageHelper {
  private readonly many: StageMoves;

  constructor(private readonly client: FlamingoClient) {
    this.many = new StageMoves(client);
  }

  /** Soft and hard limits, home, unload and default velocity per axis, from the settings text (cached; `refresh: true` re-reads). */
  limits(options: { refresh?: boolean } = {}): Promise<StageLimits> {
    return this.many.limits(options);
  }

  /** Move several axes and confirm by reading back: see {@link StageMoves.moveToMany}. */
  moveToMany(targets: StageTargets, options: MoveManyOptions = {}): Promise<StagePositions> {
    return this.many.moveToMany(targets, options);
  }

  /** Move to the settings' Home values (STAGE_HOME is never used, as in the instrument's GUI). */
  home(options: MoveManyOptions = {}): Promise<StagePositions> {
    return this.many.home(options);
  }

  /**
   * Move one axis to `target` and resolve when it stopped there. The wait for that axis's
   * STAGE_MOTION_STOPPED is armed BEFORE the move is sent: a short move can end (and its
   * event arrive in the same chunk as the ack) before the ack is processed — the race the
   * public client had to fix with "arm, then move, then wait".
   * Rejects with ProtocolError when the move is refused (status 0: outside travel limits)
   * or stops short of the target (status 0 in the event, e.g. a halt).
   */
  async moveTo(axis: number, target: number, options: MoveOptions = {}): Promise<MoveResult> {
    checkAxis(axis, 'STAGE_POSITION_SET');
    // Before anything is sent: a bad timeout found by the wait would fail a move already written.
    checkTimeout('motionTimeoutMs', options.motionTimeoutMs, 'STAGE_POSITION_SET');
    checkFinite('target', target, 'STAGE_POSITION_SET');
    return this.move(this.client, axis, target, options);
  }

  /**
   * Move one axis by `delta` from where it is: read the position, move to position + delta,
   * wait for STAGE_MOTION_STOPPED, all inside ONE `exclusive()` section. Why: as two calls
   * (position(), then moveTo()) a second caller's relative move can run between the read
   * and the write, and one of the two deltas is lost. Concurrent moveBy calls on one client
   * therefore run one after another and add up.
   *
   * The section holds this client's whole connection for the duration of the motion:
   * other requests and sends of this client (a halt() included) wait until it ends. Abort
   * `options.signal` to end the wait early (the axis keeps moving), then halt().
   * Across separate connections nothing is serialised by this helper: see spec/state.md
   * "Compound operations".
   * Rejects like {@link moveTo}, and with ProtocolError when the position cannot be read.
   */
  async moveBy(axis: number, delta: number, options: MoveOptions = {}): Promise<MoveByResult> {
    checkAxis(axis, 'STAGE_POSITION_SET');
    // Before anything is sent: a bad timeout found by the wait would fail a move already written.
    checkTimeout('motionTimeoutMs', options.motionTimeoutMs, 'STAGE_POSITION_SET');
    checkFinite('delta', delta, 'STAGE_POSITION_SET');
    return this.client.exclusive(async (tx) => {
      const read = await tx.request(
        Command.STAGE_POSITION_GET,
        { int32Data0: axis },
        options.signal === undefined ? { expectOk: true } : { expectOk: true, signal: options.signal },
      );
      const from = read.value;
      const target = from + delta;
      const moved = await this.move(tx, axis, target, options);
      return { ...moved, from, target };
    });
  }

  /** Arm the wait for the axis's stop, send the move, await the stop (shared by moveTo and moveBy). */
  private async move(via: Requester, axis: AxisNumber, target: number, options: MoveOptions): Promise<MoveResult> {
    const cancel = new AbortController();
    const stopped = via.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === axis, {
      timeoutMs: options.motionTimeoutMs ?? 120_000,
      signal: options.signal === undefined ? cancel.signal : AbortSignal.any([cancel.signal, options.signal]),
    });
    // Observed below; this keeps a rejection after an early return from going unhandled.
    stopped.catch(() => undefined);
    let event: Packet;
    try {
      const ack = await via.request(
        Command.STAGE_POSITION_SET,
        { int32Data0: axis, value: target },
        options.signal === undefined ? {} : { signal: options.signal },
      );
      if (ack.status !== STATUS_OK) {
        throw new ProtocolError(`move of axis ${axis} to ${target} refused (status ${ack.status})`, ack, { command: 'STAGE_POSITION_SET' });
      }
      event = await stopped;
    } finally {
      cancel.abort();
    }
    // Some servers leave the event's value at 0: read the position once instead.
    const position = event.value === 0 ? (await via.request(Command.STAGE_POSITION_GET, { int32Data0: axis }, { expectOk: true })).value : event.value;
    if (event.status !== STATUS_OK) {
      throw new ProtocolError(`axis ${axis} stopped at ${position} before reaching ${target}`, event, { command: 'STAGE_MOTION_STOPPED' });
    }
    return { axis, position, reached: true };
  }

  /** Current position of an axis (STAGE_POSITION_GET); ProtocolError on a failure status. */
  async position(axis: number): Promise<number> {
    checkAxis(axis, 'STAGE_POSITION_GET');
    const reply = await this.client.request(Command.STAGE_POSITION_GET, { int32Data0: axis }, { expectOk: true });
    return reply.value;
  }

  /** Stop every moving axis (STAGE_HALT); each sends STAGE_MOTION_STOPPED with status 0. */
  async halt(): Promise<void> {
    await this.client.request(Command.STAGE_HALT, undefined, { expectOk: true });
  }
}
