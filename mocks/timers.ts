/**
 * Every timer the simulator starts goes through one TimerSet, so close() can cancel all of
 * them at once and a test process exits on its own.
 */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  /** True once clearAll() ran: no new timer starts. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** setTimeout that forgets itself when it fires; undefined after clearAll(). */
  timeout(fn: () => void, ms: number): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
    return t;
  }

  /** setInterval; undefined after clearAll(). */
  interval(fn: () => void, ms: number): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const t = setInterval(fn, Math.max(1, ms));
    this.timers.add(t);
    return t;
  }

  clear(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Resolves after `ms`, or at once when clearAll() runs (callers check their own closed flag). */
  sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        this.clear(t);
        resolve();
      };
      const t = this.timeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Cancel everything, wake every sleeper, refuse new timers. */
  clearAll(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake();
  }
}
