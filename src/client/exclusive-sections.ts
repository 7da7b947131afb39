import { AsyncLocalStorage } from 'node:async_hooks';

/** The section a piece of code runs in: whose it is, how to reach the held link, and whether it still holds it. */
export interface SectionScope<Tx> {
  readonly owner: object;
  readonly tx: Tx;
  /** False once the section's callback has settled (its later calls go through the gate again). */
  readonly active: () => boolean;
}

const scopes = new AsyncLocalStorage<SectionScope<unknown>>();

/**
 * The active `exclusive()` section of `owner` that the calling code runs inside, if any.
 *
 * Why: a section holds the connection until its callback settles, so a call that queued
 * for the connection from INSIDE the callback (`client.stage.moveBy` opens its own section;
 * `state.refresh()` does too; a plain `client.request`) waited for its own section to end,
 * for ever (issue 18). Such calls are recognised by their async context and run inside the
 * section that already holds the link: sections are re-entrant (spec/exclusive.md).
 */
export function currentSection<Tx>(owner: object): SectionScope<Tx> | undefined {
  const scope = scopes.getStore();
  return scope !== undefined && scope.owner === owner && scope.active() ? (scope as SectionScope<Tx>) : undefined;
}

/** Sections of every client in this process whose callback has not settled yet. */
let running = 0;

/**
 * Run `fn` with `scope` as the current section of everything it calls, awaits and schedules.
 *
 * The store is switched off again when the last running section settles. Why: on Node 20 an
 * AsyncLocalStorage that has run once keeps async_hooks' promise hook on for the whole
 * process, and every promise and `await` anywhere (the request path's included) then costs
 * about three times as much (measured: ~250 → ~700 ns per await). Off, with no section
 * running, nothing is lost: currentSection() only ever answers for a section whose callback
 * has not settled, and run() switches the store on again for the next one.
 */
export function runInSection<Tx, T>(scope: SectionScope<Tx>, fn: () => Promise<T>): Promise<T> {
  running++;
  let result: Promise<T>;
  try {
    // Promise.resolve: a callback that returns a plain value (JavaScript callers) still settles the section.
    result = Promise.resolve(scopes.run(scope as SectionScope<unknown>, fn));
  } catch (error) {
    sectionSettled();
    throw error;
  }
  return result.finally(sectionSettled);
}

function sectionSettled(): void {
  running--;
  if (running === 0) scopes.disable();
}

/**
 * Sections waiting for the connection or running, so that close() can settle every one of
 * them at once: a section queued behind one that never ends must not hang after close.
 */
export class SectionRegistry {
  private readonly cancels = new Set<(error: Error) => void>();

  /** Sections waiting or running. */
  get size(): number {
    return this.cancels.size;
  }

  /**
   * Track one section: `start` queues it and receives `cancelled()`, which a queued section
   * checks when its turn comes (a cancelled one must not run its callback any more).
   */
  track<T>(start: (cancelled: () => boolean) => Promise<T>): Promise<T> {
    let cancelled = false;
    return new Promise<T>((resolve, reject) => {
      const cancel = (error: Error): void => {
        cancelled = true;
        reject(error);
      };
      this.cancels.add(cancel);
      start(() => cancelled)
        .then(resolve, reject)
        .finally(() => this.cancels.delete(cancel));
    });
  }

  /** Reject every tracked section with the error `make` gives (the client closed). */
  rejectAll(make: () => Error): void {
    const cancels = [...this.cancels];
    this.cancels.clear();
    for (const cancel of cancels) cancel(make());
  }
}
