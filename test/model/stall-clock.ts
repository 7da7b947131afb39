/** Beat of the clock: short against the event budgets (300 ms in the reconnect profile). */
const BEAT_MS = 5;
/** A beat later than this is a stall; below it is ordinary timer jitter. */
const LATE_MS = 2 * BEAT_MS;

/**
 * Time the event loop lost to stalls: the process not scheduled on a loaded machine (the
 * soak shares two cores with benchmarks), a long garbage collection, fast-check's own work.
 * After such a stall Node runs due timers before it reads the sockets, so a wait whose
 * event already sits in the socket can time out: a budget missed by the machine, not by the
 * client. The model tells the two apart with {@link StallClock.lostSince}: a step whose
 * budget was eaten by stalls is excused, a step that waited on the client (e.g. a request
 * queued behind an unanswered one) is not.
 */
export class StallClock {
  private lost = 0;
  private lastBeat = performance.now();
  private timer: NodeJS.Timeout | undefined;

  /** Start beating (stop() before counting the process' timers). */
  start(): void {
    this.lastBeat = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lost += late(now - this.lastBeat);
      this.lastBeat = now;
    }, BEAT_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Milliseconds lost so far, the stall going on now included (its beat may not have run yet). */
  get lostMs(): number {
    return this.lost + late(performance.now() - this.lastBeat);
  }

  /** Milliseconds lost since `mark` (an earlier {@link lostMs}). */
  lostSince(mark: number): number {
    return this.lostMs - mark;
  }
}

function late(gapMs: number): number {
  return Math.max(0, gapMs - LATE_MS);
}
