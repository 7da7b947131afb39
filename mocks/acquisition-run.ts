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

/** What every run needs from the instrument. */
export interface AcquisitionRunOptions {
  /** Lasers the workflow uses: their levels are pushed (LASER_LEVEL_GET) at the start. */
  lasers: number[];
  timers: TimerSet;
  broadcast: (init: PacketInit) => void;
  laserLevel: (index: number) => string;
  /** Called just before SYSTEM_STATE_IDLE goes out: the system is idle from then on. */
  finished: () => void;
}

/**
 * What every workflow run shares (spec/protocol.md "Simulator choices", Workflows): it
 * starts as the instrument was seen to, with LED_DISABLE and a LASER_LEVEL_GET push per
 * laser used (the run sets its illumination), ends with SYSTEM_STATE_IDLE to every client,
 * and a stop ends it at once. Subclasses play what comes between (`begin`) and what goes
 * out just before the idle push (`beforeIdle`).
 */
export abstract class AcquisitionRun {
  protected started = false;
  protected done = false;
  protected timer: NodeJS.Timeout | undefined;

  constructor(private readonly base: AcquisitionRunOptions) {}

  abstract snapshot(): SimWorkflowProgress;

  start(): void {
    if (this.started || this.done) return;
    this.started = true;
    this.onStart();
    this.push({ code: Command.LED_DISABLE, int32Data0: 0 });
    for (const laser of this.base.lasers) this.push({ code: Command.LASER_LEVEL_GET, int32Data0: laser, data: this.base.laserLevel(laser) });
    this.begin();
  }

  /** End now (CAMERA_WORKFLOW_STOP): the end sequence reports what was done so far. */
  stop(): void {
    if (this.done) return;
    this.base.timers.clear(this.timer);
    this.finish();
  }

  dispose(): void {
    this.done = true;
    this.base.timers.clear(this.timer);
  }

  /** Called as the run starts, before its first push. */
  protected onStart(): void {}

  /** What the run does after the opening pushes. */
  protected abstract begin(): void;

  /** Pushes that go out as the run ends, before the system is idle. */
  protected beforeIdle(): void {}

  protected finish(): void {
    this.done = true;
    this.beforeIdle();
    this.base.finished();
    this.push({ code: Command.SYSTEM_STATE_IDLE });
  }

  protected push(init: PacketInit): void {
    this.base.broadcast({ status: STATUS_OK, ...init });
  }
}
