import { timerDelay } from '../../protocol/options-schema.js';

/**
 * Something with a deadline (ms on the `performance.now()` clock) that can be told it passed.
 * The `timer*` fields are the links of the one deadline-timer list it is on; only the
 * timer writes them (a class that implements this declares them `= null`, so that every
 * instance has the same shape).
 */
export interface Expiring {
  readonly deadline: number;
  expire(): void;
  /** @internal */
  timerOwner?: DeadlineTimer | null;
  /** @internal */
  timerPrev?: Expiring | null;
  /** @internal */
  timerNext?: Expiring | null;
}

/** Marks an entry whose deadline passed while fire() tells the passed entries in turn. */
const FIRING: DeadlineTimer = Object.create(null) as DeadlineTimer;

/**
 * One timer for many reply deadlines. A setTimeout per request costs a timer-list insert
 * and removal on the request path; here a request only joins and leaves a list. The timer
 * is armed for the earliest deadline and re-armed only when an earlier one arrives, which
 * with equal timeouts (the usual case) never happens between firings. When nothing is
 * waiting the timer is unref'd, so it never keeps a process alive or outlives its work.
 *
 * The list is intrusive (the links live in the entries): joining and leaving allocate
 * nothing, where a Set's hash table was rebuilt every few dozen requests under a steady
 * churn of adds and deletes (profiled with bench/client.ts).
 */
export class DeadlineTimer {
  private head: Expiring | null = null;
  private tail: Expiring | null = null;
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  private firesAt = Infinity;

  /** Entries waiting. */
  get size(): number {
    return this.count;
  }

  add(entry: Expiring): void {
    if (entry.timerOwner === this) return;
    if (entry.timerOwner !== null && entry.timerOwner !== undefined && entry.timerOwner !== FIRING)
      throw new Error('an entry can wait on one deadline timer only');
    entry.timerOwner = this;
    entry.timerNext = null;
    entry.timerPrev = this.tail;
    if (this.tail === null) this.head = entry;
    else this.tail.timerNext = entry;
    this.tail = entry;
    this.count++;
    if (entry.deadline < this.firesAt) this.arm(entry.deadline);
    else if (this.count === 1) this.timer?.ref();
  }

  delete(entry: Expiring): void {
    // Passed, its expiry not yet told (fire() runs the passed ones in turn): it is not told.
    if (entry.timerOwner === FIRING) {
      entry.timerOwner = null;
      return;
    }
    if (entry.timerOwner !== this) return;
    this.unlink(entry);
    if (this.count === 0) this.timer?.unref();
  }

  private unlink(entry: Expiring): void {
    const prev = entry.timerPrev ?? null;
    const next = entry.timerNext ?? null;
    if (prev === null) this.head = next;
    else prev.timerNext = next;
    if (next === null) this.tail = prev;
    else next.timerPrev = prev;
    entry.timerOwner = null;
    entry.timerPrev = null;
    entry.timerNext = null;
    this.count--;
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
    // Unlink every passed entry first, then tell each: an expiry may add or delete others
    // (it settles a request, which may start the next one), which must not disturb the walk.
    const passed: Expiring[] = [];
    for (let entry = this.head; entry !== null; ) {
      const following: Expiring | null = entry.timerNext ?? null;
      if (entry.deadline <= now) {
        this.unlink(entry);
        entry.timerOwner = FIRING;
        passed.push(entry);
      } else if (entry.deadline < next) next = entry.deadline;
      entry = following;
    }
    let failure: { error: unknown } | null = null;
    for (const entry of passed) {
      // Deleted by an earlier expiry of this pass (its request settled meanwhile): not told.
      if (entry.timerOwner !== FIRING) continue;
      entry.timerOwner = null;
      // One expiry that throws must not cost the others theirs, nor the re-arm below.
      try {
        entry.expire();
      } catch (error) {
        failure ??= { error };
      }
    }
    // An entry added while expiring (an expiry that starts another request) may have armed
    // the timer for a later deadline than one still waiting: re-arm for the earliest.
    if (next < this.firesAt) this.arm(next);
    // Thrown as before (an uncaught exception of a timer callback), once every entry is told.
    if (failure !== null) throw failure.error;
  };
}

/** The reply deadlines of every client in this process. */
export const replyDeadlines = new DeadlineTimer();

/** The queue deadlines (waiting for a turn) of every client in this process. */
export const queueDeadlines = new DeadlineTimer();
