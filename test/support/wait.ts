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

/**
 * Resolves with the value of the next event `subscribe` listens for; rejects after `timeoutMs`
 * (`what` names the event in that error). `subscribe` registers the listener it is given on the
 * emitter, e.g. `nextEvent<string>((deliver) => proxy.once('captureStopped', deliver), 'captureStopped')`,
 * so the emitter's own event map checks that the event carries a `T`. (A helper taking the
 * emitter and the event's name could not: TypeScript cannot infer an eventemitter3 emitter's
 * event map through its generic `once`.)
 */
export function nextEvent<T>(subscribe: (deliver: (value: T) => void) => void, what: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
