import { InvariantError } from './invariant-error.js';

/** A promise's outcome, as a value. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * Resolve with `promise`'s outcome, or fail the run when it does not settle within
 * `deadlineMs` ("every promise settles").
 */
export async function settleWithin<T>(label: string, promise: Promise<T>, deadlineMs: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvariantError(`${label} never settled (${deadlineMs} ms)`)), deadlineMs);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ ok: true as const, value }),
        (error: Error) => ({ ok: false as const, error }),
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Event-driven waits: whatever may change a condition calls `notify`, and each waiter checks its own. */
export class ConditionWaits {
  private readonly wakers = new Set<() => void>();
  readonly notify = (): void => {
    for (const wake of [...this.wakers]) wake();
  };

  /** Wait until `condition` holds; InvariantError after `timeoutMs`. */
  until(label: string, condition: () => boolean, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        this.wakers.delete(wake);
        clearTimeout(timer);
        clearInterval(recheck);
        if (error === undefined) resolve();
        else reject(error);
      };
      const wake = () => {
        if (condition()) done();
      };
      const timer = setTimeout(() => done(new InvariantError(`timed out (${timeoutMs} ms) waiting for ${label}`)), timeoutMs);
      // Request timeouts settle without any I/O that would wake us: re-check now and then too.
      const recheck = setInterval(wake, 10);
      this.wakers.add(wake);
    });
  }
}
