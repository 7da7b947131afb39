import { moveRange, stageAxisList, type StageSettings } from '../protocol/text-format.js';
import type { TimerSet } from './timers.js';

/** Stage axis number on the wire: 1 X, 2 Y, 3 Z (mm), 4 R (degrees). */
export type Axis = 1 | 2 | 3 | 4;

/** What the simulated stage needs of one axis; every field filled (see {@link simAxisLimits}). */
export interface SimAxisLimits {
  min: number;
  max: number;
  home: number;
  defaultVelocity: number;
  maxVelocity: number;
}

// Used where the settings text leaves a value out: one real instrument's limits and default
// velocities (spec/text-format.md "Settings"). The settings hold no maximum velocity: 10 mm/s
// and 360 °/s are the simulator's choice (spec/protocol.md, Simulator choices, Stage).
const FALLBACK: readonly SimAxisLimits[] = [
  { min: 1, max: 15, home: 7.5, defaultVelocity: 1, maxVelocity: 10 },
  { min: 5, max: 25, home: 15, defaultVelocity: 1, maxVelocity: 10 },
  { min: 8, max: 25, home: 16.5, defaultVelocity: 1, maxVelocity: 10 },
  { min: -720, max: 720, home: 0, defaultVelocity: 50, maxVelocity: 360 },
];

/** The simulator's limits from a settings text's `Stage limits`: soft limits (else hard), home, velocities. */
export function simAxisLimits(settings: StageSettings): SimAxisLimits[] {
  return stageAxisList(settings).map((a, i) => {
    const f = FALLBACK[i] as SimAxisLimits;
    const range = moveRange(a);
    const defaultVelocity = a.defaultVelocity !== undefined && a.defaultVelocity > 0 ? a.defaultVelocity : f.defaultVelocity;
    return { min: range.min ?? f.min, max: range.max ?? f.max, home: a.home ?? f.home, defaultVelocity, maxVelocity: f.maxVelocity };
  });
}

/** Read-only view of one axis. */
export interface SimAxisSnapshot {
  axis: Axis;
  /** Position now, interpolated during a move. */
  position: number;
  /** Where the current (or last) move goes. */
  target: number;
  moving: boolean;
  /** Velocity used by the next move (mm/s, or degrees/s for R). */
  velocity: number;
  min: number;
  max: number;
}

/** How a move ended: status 1 reached its target, 0 stopped short (halt). */
export interface MotionStopped {
  axis: Axis;
  status: 0 | 1;
  position: number;
}

interface AxisState {
  settings: SimAxisLimits;
  velocity: number;
  /** Position when the current move started (or the resting position). */
  from: number;
  target: number;
  startedAt: number;
  durationMs: number;
  moving: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** True for 1..4. */
export function isAxis(n: number): n is Axis {
  return n === 1 || n === 2 || n === 3 || n === 4;
}

/**
 * Four stage axes with travel limits and motion over time. A move takes
 * distance / velocity (divided by timeScale) and is interpolated linearly meanwhile.
 *
 * A new target for a moving axis retargets it from where it is now: the axis never came
 * to rest, so no STAGE_MOTION_STOPPED is sent for the superseded move; exactly one is
 * sent when the axis stops (spec/protocol.md §Simulator choices, Stage).
 */
export class StageModel {
  private axes: AxisState[];
  private motionWaiters: (() => void)[] = [];

  constructor(
    settings: SimAxisLimits[],
    private readonly timers: TimerSet,
    private readonly timeScale: number,
    /** Called when a move started here ends by itself (status 1). */
    private readonly onStopped: (event: MotionStopped) => void,
    initial: readonly number[] = [7.5, 15, 16.5, 0],
  ) {
    this.axes = settings.map((s, i) => {
      const start = Math.min(s.max, Math.max(s.min, initial[i] ?? s.home));
      return { settings: s, velocity: s.defaultVelocity, from: start, target: start, startedAt: 0, durationMs: 0, moving: false, timer: undefined };
    });
  }

  private state(axis: Axis): AxisState {
    return this.axes[axis - 1] as AxisState;
  }

  /** Position of an axis now (interpolated while it moves). */
  position(axis: Axis, now = performance.now()): number {
    const a = this.state(axis);
    if (!a.moving) return a.from;
    const f = a.durationMs <= 0 ? 1 : Math.min(1, (now - a.startedAt) / a.durationMs);
    // At the end the position is the target exactly: from + (target − from) × 1 can land an
    // ulp beyond it (−473.299 → 169.296 gave 169.29600000000005, outside the move's range).
    if (f >= 1) return a.target;
    const p = a.from + (a.target - a.from) * f;
    return Math.min(Math.max(p, Math.min(a.from, a.target)), Math.max(a.from, a.target));
  }

  snapshot(axis: Axis): SimAxisSnapshot {
    const a = this.state(axis);
    return { axis, position: this.position(axis), target: a.target, moving: a.moving, velocity: a.velocity, min: a.settings.min, max: a.settings.max };
  }

  get anyMoving(): boolean {
    return this.axes.some((a) => a.moving);
  }

  /** True when `target` is a finite number inside the axis' travel limits. */
  accepts(axis: Axis, target: number): boolean {
    const s = this.state(axis).settings;
    return Number.isFinite(target) && target >= s.min && target <= s.max;
  }

  /** Set the velocity of later moves; refused (false) unless 0 < v ≤ the axis' maximum. */
  setVelocity(axis: Axis, velocity: number): boolean {
    const a = this.state(axis);
    if (!Number.isFinite(velocity) || velocity <= 0 || velocity > a.settings.maxVelocity) return false;
    a.velocity = velocity;
    return true;
  }

  /**
   * Start a move (the caller checked `accepts`). Returns 'zero' when the axis is already
   * at the target: the caller reports that motion-stopped itself, after its reply.
   */
  moveTo(axis: Axis, target: number): 'moving' | 'zero' {
    const a = this.state(axis);
    const now = performance.now();
    const here = this.position(axis, now);
    this.timers.clear(a.timer);
    a.timer = undefined;
    a.from = here;
    a.target = target;
    const distance = Math.abs(target - here);
    if (distance === 0) {
      a.moving = false;
      this.wakeIfIdle();
      return 'zero';
    }
    a.startedAt = now;
    a.durationMs = ((distance / a.velocity) * 1000) / this.timeScale;
    a.moving = true;
    a.timer = this.timers.timeout(() => {
      a.timer = undefined;
      a.from = a.target;
      a.moving = false;
      this.onStopped({ axis, status: 1, position: a.target });
      this.wakeIfIdle();
    }, a.durationMs);
    return 'moving';
  }

  /** Stop every moving axis where it is; returns one status-0 event per axis stopped. */
  halt(): MotionStopped[] {
    const now = performance.now();
    const stopped: MotionStopped[] = [];
    this.axes.forEach((a, i) => {
      if (!a.moving) return;
      const axis = (i + 1) as Axis;
      const here = this.position(axis, now);
      this.timers.clear(a.timer);
      a.timer = undefined;
      a.from = here;
      a.target = here;
      a.moving = false;
      stopped.push({ axis, status: 0, position: here });
    });
    this.wakeIfIdle();
    return stopped;
  }

  /** Home position of an axis (from the settings text). */
  home(axis: Axis): number {
    return this.state(axis).settings.home;
  }

  /** Resolves once no axis moves (at once when none does). */
  whenIdle(): Promise<void> {
    if (!this.anyMoving) return Promise.resolve();
    return new Promise((resolve) => this.motionWaiters.push(resolve));
  }

  /** Replace travel limits (new settings text); moves in progress keep their targets. */
  setLimits(settings: SimAxisLimits[]): void {
    settings.forEach((s, i) => {
      const a = this.axes[i];
      if (a !== undefined) a.settings = s;
    });
  }

  /** Stop timers and release waiters (simulator shutdown). */
  dispose(): void {
    for (const a of this.axes) {
      this.timers.clear(a.timer);
      a.timer = undefined;
    }
    const waiters = this.motionWaiters;
    this.motionWaiters = [];
    for (const w of waiters) w();
  }

  private wakeIfIdle(): void {
    if (this.anyMoving) return;
    const waiters = this.motionWaiters;
    this.motionWaiters = [];
    for (const w of waiters) w();
  }
}
