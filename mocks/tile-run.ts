import { Command } from '../protocol/commands.js';
import { STATUS_OK } from '../protocol/constants.js';
import type { PacketInit } from '../protocol/packet.js';
import type { TimerSet } from './timers.js';
import type { SimWorkflowProgress } from './workflow-run.js';

/** What a tile run needs from the instrument. */
export interface TileRunOptions {
  tiles: number;
  /** Real time per tile (instrument time / timeScale). */
  tileMs: number;
  lasers: number[];
  timers: TimerSet;
  broadcast: (init: PacketInit) => void;
  laserLevel: (index: number) => string;
  /** Called just before SYSTEM_STATE_IDLE goes out. */
  finished: () => void;
}

/**
 * A tile workflow as observed on the instrument: illumination off and the laser levels at the
 * start, then one STAGE_MOTION_STOPPED per tile (int32Data0 0: the run's own move, not a
 * single axis; our choice) and NO gauge events, then SYSTEM_STATE_IDLE.
 */
export class TileRun {
  private visited = 0;
  private done = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: TileRunOptions) {}

  snapshot(): SimWorkflowProgress {
    return { planes: this.o.tiles, acquired: this.visited, running: !this.done, durationMs: this.o.tiles * this.o.tileMs };
  }

  start(): void {
    if (this.started || this.done) return;
    this.started = true;
    this.push({ code: Command.LED_DISABLE, int32Data0: 0 });
    for (const laser of this.o.lasers) this.push({ code: Command.LASER_LEVEL_GET, int32Data0: laser, data: this.o.laserLevel(laser) });
    this.next();
  }

  /** End now (CAMERA_WORKFLOW_STOP). */
  stop(): void {
    if (this.done) return;
    this.o.timers.clear(this.timer);
    this.finish();
  }

  dispose(): void {
    this.done = true;
    this.o.timers.clear(this.timer);
  }

  private next(): void {
    this.timer = this.o.timers.timeout(() => {
      this.visited++;
      this.push({ code: Command.STAGE_MOTION_STOPPED, int32Data0: 0 });
      if (this.visited >= this.o.tiles) this.finish();
      else this.next();
    }, Math.max(1, this.o.tileMs));
  }

  private finish(): void {
    this.done = true;
    this.o.finished();
    this.push({ code: Command.SYSTEM_STATE_IDLE });
  }

  private push(init: PacketInit): void {
    this.o.broadcast({ status: STATUS_OK, ...init });
  }
}
