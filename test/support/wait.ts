/**
 * Waiting helpers for tests whose condition has no event to wait on (bytes a transport
 * reader has collected, for instance): poll once per event-loop turn, and fail with a
 * message instead of hanging until vitest's own timeout.
 */

/** Resolves once `predicate()` holds; rejects after `timeoutMs`. Checked on every event-loop turn. */
export function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    let immediate: NodeJS.Immediate | undefined;
    const timer = setTimeout(() => {
      if (immediate !== undefined) clearImmediate(immediate);
      reject(new Error(`${what} did not hold within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = (): void => {
      if (predicate()) {
        clearTimeout(timer);
        resolve();
      } else immediate = setImmediate(check);
    };
    check();
  });
}

/**
 * Lets `n` event-loop turns pass. Only for bounded negative checks ("nothing happens
 * within n turns", e.g. a write stays blocked while the reader is paused) and for letting
 * already-queued I/O callbacks run; never to wait for something that is expected to happen.
 */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}
