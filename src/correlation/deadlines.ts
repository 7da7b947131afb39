import { timerDelay } from '../options-schema.js';

/** Something with a deadline (ms on the `performance.now()` clock) that can be told it passed. */
export interface Expiring {
  readonly deadline: number;
  expire(): void;
}

/**
 * One timer for many reply deadlines. A setTimeout per request costs a timer-list insert
 * and removal on the request path; here a request only joins and leaves a Set. The timer
 * is armed for the earliest deadline and re-armed only when an earlier one arrives, which
 * with equal timeouts (the usual case) never happens between firings. When nothing is
 * waiting the timer is unref'd, so it never keeps a process alive or outlives its work.
 */
export class DeadlineTimer {
  private readonly entries = new Set<Expiring>();
  private timer: NodeJS.Timeout | null = null;
  private firesAt = Infinity;

  /** Entries waiting. */
  get size(): number {
    return this.entries.size;
  }

  add(entry: Expiring): void {
    this.entries.add(entry);
    if (entry.deadline < this.firesAt) this.arm(entry.deadline);
    else if (this.entries.size === 1) this.timer?.ref();
  }

  delete(entry: Expiring): void {
    if (this.entries.delete(entry) && this.entries.size === 0) this.timer?.unref();
  }

  private arm(deadline: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.firesAt = deadline;
    // Clamped: a Node timer cannot wait longer than 2^31−1 ms (it would fire at once, every
    // millisecond, with a TimeoutOverflowWarning). A far deadline just re-arms when it fires.
    this.timer = setTimeout(this.fire, timerDelay(deadline - performance.now()));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.firesAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const entry of this.entries) {
      if (entry.deadline <= now) {
        this.entries.delete(entry);
        entry.expire();
      } else if (entry.deadline < next) next = entry.deadline;
    }
    // An entry added while expiring (an expiry that starts another request) may have armed
    // the timer for a later deadline than one still waiting: re-arm for the earliest.
    if (next < this.firesAt) this.arm(next);
  };
}

/** The reply deadlines of every client in this process. */
export const replyDeadlines = new DeadlineTimer();

/** The queue deadlines (waiting for a turn) of every client in this process. */
export const queueDeadlines = new DeadlineTimer();
