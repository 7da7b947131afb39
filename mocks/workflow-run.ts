import { Command } from '../protocol/commands.js';
import { STATUS_OK } from '../protocol/constants.js';
import type { PacketInit } from '../protocol/packet.js';
import type { TimerSet } from './timers.js';

/** Progress of a running (or just stopped) workflow. */
export interface SimWorkflowProgress {
  planes: number;
  acquired: number;
  running: boolean;
  /** Real-time duration of the whole stack (instrument time / timeScale). */
  durationMs: number;
}

/** What a run needs from the instrument. */
export interface WorkflowRunOptions {
  planes: number;
  durationMs: number;
  timeScale: number;
  /** Lasers the workflow uses: their levels are pushed (LASER_LEVEL_GET) at the end. */
  lasers: number[];
  timers: TimerSet;
  broadcast: (init: PacketInit) => void;
  laserLevel: (index: number) => string;
  /** Called just before SYSTEM_STATE_IDLE goes out: the system is idle from then on. */
  finished: () => void;
  /** Push a stale SYSTEM_STATE_IDLE right after the start, as the instrument has been seen to (default true). */
  staleIdlePush?: boolean;
  /** Push CAMERA_STACK_COMPLETE at the end (never observed on the instrument; default false). */
  stackComplete?: boolean;
}

/** Longest gap between progress ticks; shorter stacks tick once per plane. */
const MAX_TICK_MS = 50;

/**
 * One acquisition as the instrument plays it (spec/protocol.md "Workflow run"): LED_DISABLE
 * and LASER_LEVEL_GET pushes first (the run sets its illumination), a stale
 * SYSTEM_STATE_IDLE (option), UI_SET_GAUGE_SIZE, then UI_SET_GAUGE_VALUE 1..planes
 * (int32Data1 = planes expected) spread over the duration, then CAMERA_STACK_COMPLETE
 * (option, never observed), UI_IMAGES_SAVED_TO_STORAGE and SYSTEM_STATE_IDLE.
 */
export class WorkflowRun {
  private acquired = 0;
  private startedAt = 0;
  private started = false;
  private done = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: WorkflowRunOptions) {}

  snapshot(): SimWorkflowProgress {
    return { planes: this.o.planes, acquired: this.acquired, running: !this.done, durationMs: this.o.durationMs };
  }

  start(): void {
    if (this.started || this.done) return;
    this.started = true;
    this.startedAt = performance.now();
    this.push({ code: Command.LED_DISABLE, int32Data0: 0 });
    for (const laser of this.o.lasers) this.push({ code: Command.LASER_LEVEL_GET, int32Data0: laser, data: this.o.laserLevel(laser) });
    if (this.o.staleIdlePush !== false) this.push({ code: Command.SYSTEM_STATE_IDLE });
    this.push({ code: Command.UI_SET_GAUGE_SIZE, int32Data0: this.o.planes });
    this.schedule();
  }

  /** End now (CAMERA_WORKFLOW_STOP): the end sequence reports the planes acquired so far. */
  stop(): void {
    if (this.done) return;
    this.o.timers.clear(this.timer);
    this.finish();
  }

  dispose(): void {
    this.done = true;
    this.o.timers.clear(this.timer);
  }

  private schedule(): void {
    const tick = Math.min(MAX_TICK_MS, Math.max(1, this.o.durationMs / this.o.planes));
    this.timer = this.o.timers.timeout(() => this.progress(), tick);
  }

  private progress(): void {
    const elapsed = performance.now() - this.startedAt;
    const due = this.o.durationMs <= 0 ? this.o.planes : Math.min(this.o.planes, Math.floor((elapsed / this.o.durationMs) * this.o.planes));
    while (this.acquired < due) {
      this.acquired++;
      this.push({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: this.acquired, int32Data1: this.o.planes });
    }
    if (this.acquired >= this.o.planes) this.finish();
    else this.schedule();
  }

  private finish(): void {
    this.done = true;
    const elapsedUs = this.started ? Math.round((performance.now() - this.startedAt) * this.o.timeScale * 1000) : 0;
    if (this.o.stackComplete === true) {
      this.push({ code: Command.CAMERA_STACK_COMPLETE, int32Data0: this.acquired, int32Data1: this.o.planes, int32Data2: 0, value: elapsedUs });
    }
    this.push({ code: Command.UI_IMAGES_SAVED_TO_STORAGE, int32Data0: this.acquired });
    this.o.finished();
    this.push({ code: Command.SYSTEM_STATE_IDLE });
  }

  private push(init: PacketInit): void {
    this.o.broadcast({ status: STATUS_OK, ...init });
  }
}
