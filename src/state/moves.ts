import { Command } from '../../protocol/commands.js';
import type { PacketInit } from '../../protocol/packet.js';
import { AXIS_NUMBERS, asAxis } from './snapshot.js';
import type { AxisNumber } from './types.js';

/**
 * A STAGE_MOTION_STOPPED within this distance (mm or degrees) of a pending move's target
 * belongs to that move. Far below any real step (a micrometre is 1e-3 mm); it only absorbs
 * float noise in a simulated or computed final position.
 */
const SAME_POSITION = 1e-6;

/** A move the client wrote whose acknowledgement has not been applied yet. */
interface PendingMove {
  /** Axes the move drives: one for STAGE_POSITION_SET, all four for STAGE_HOME. */
  readonly axes: readonly AxisNumber[];
  /** undefined for STAGE_HOME, whose targets the protocol does not state. */
  readonly target: number | undefined;
  /** Bit (1 << axis) set for each axis whose move already ended before the acknowledgement. */
  endedBits: number;
}

/**
 * Why this exists: a server may push STAGE_MOTION_STOPPED BEFORE the reply that accepts the
 * move (a zero-length move ends at once). Applying that late acknowledgement as "moving"
 * would leave the axis moving forever, since no further event comes. So the client notes
 * each move as it is written, stops seen in between are attributed to it, and the
 * acknowledgement of a move that already ended does not set `moving`.
 *
 * Memory is bounded: one pending move per axis is remembered for attribution, and the
 * request → move map is weak, so a request whose reply never comes is simply collected.
 */
export class MoveTracker {
  private readonly byRequest = new WeakMap<PacketInit, PendingMove>();
  private readonly latest: (PendingMove | undefined)[] = [undefined, undefined, undefined, undefined, undefined];

  /** Remember a move request as it is written. Other requests are ignored. */
  noteSent(request: PacketInit): void {
    let move: PendingMove;
    if (request.code === Command.STAGE_POSITION_SET || request.code === Command.STAGE_POSITION_SET_SLIDER) {
      const axis = asAxis(request.int32Data0 ?? 0);
      if (axis === undefined) return;
      move = { axes: [axis], target: request.value ?? 0, endedBits: 0 };
    } else if (request.code === Command.STAGE_HOME) {
      move = { axes: AXIS_NUMBERS, target: undefined, endedBits: 0 };
    } else {
      return;
    }
    this.byRequest.set(request, move);
    for (const axis of move.axes) this.latest[axis] = move;
  }

  /**
   * A STAGE_MOTION_STOPPED arrived. It ends the axis's pending move when that move is a
   * homing (any stop counts: the home position is not stated) or when it reached the
   * move's target; a stop short of the target belongs to an earlier move the new one
   * cancelled.
   */
  noteStopped(axis: AxisNumber, reached: boolean, position: number | undefined): void {
    const move = this.latest[axis];
    if (move === undefined) return;
    const isHoming = move.target === undefined;
    const reachedTarget = reached && position !== undefined && move.target !== undefined && Math.abs(position - move.target) <= SAME_POSITION;
    if (isHoming || reachedTarget) {
      move.endedBits |= 1 << axis;
      this.latest[axis] = undefined;
    }
  }

  /**
   * The acknowledgement of `request` is being applied: the axes whose move already ended
   * (as a bit set, bit 1 << axis). Forgets the move. 0 for a request never noted.
   */
  takeAcknowledged(request: PacketInit): number {
    const move = this.byRequest.get(request);
    if (move === undefined) return 0;
    this.byRequest.delete(request);
    for (const axis of move.axes) if (this.latest[axis] === move) this.latest[axis] = undefined;
    return move.endedBits;
  }
}
