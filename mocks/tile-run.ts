import { Command } from '../protocol/commands.js';
import { AcquisitionRun, type AcquisitionRunOptions, type SimWorkflowProgress } from './acquisition-run.js';

/** What a tile run needs from the instrument. */
export interface TileRunOptions extends AcquisitionRunOptions {
  tiles: number;
  /** Real time per tile (instrument time / timeScale). */
  tileMs: number;
}

/**
 * A tile workflow as observed on the instrument: illumination off and the laser levels at the
 * start, then one STAGE_MOTION_STOPPED per tile (int32Data0 0: the run's own move, not a
 * single axis; our choice) and NO gauge events, then SYSTEM_STATE_IDLE.
 */
export class TileRun extends AcquisitionRun {
  private visited = 0;

  constructor(private readonly o: TileRunOptions) {
    super(o);
  }

  snapshot(): SimWorkflowProgress {
    return { planes: this.o.tiles, acquired: this.visited, running: !this.done, durationMs: this.o.tiles * this.o.tileMs };
  }

  protected begin(): void {
    this.next();
  }

  private next(): void {
    this.timer = this.o.timers.timeout(
      () => {
        this.visited++;
        this.push({ code: Command.STAGE_MOTION_STOPPED, int32Data0: 0 });
        if (this.visited >= this.o.tiles) this.finish();
        else this.next();
      },
      Math.max(1, this.o.tileMs),
    );
  }
}
