/**
 * One 'abort' listener per AbortSignal, however many requests and waits share it.
 *
 * Why: apps pass one signal to many calls (a "cancel everything" button). A listener per
 * call put more than ten on one signal and Node printed MaxListenersExceededWarning
 * (issue 18); each call now joins a set and the signal carries a single listener, which
 * is removed as soon as the last call has settled.
 */
const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

function dispatch(this: AbortSignal): void {
  const set = subscribers.get(this);
  subscribers.delete(this);
  if (set === undefined) return;
  for (const callback of set) callback();
}

/** Call `callback` once when `signal` aborts; the returned function unsubscribes (idempotent). */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let set = subscribers.get(signal);
  if (set === undefined) {
    set = new Set();
    subscribers.set(signal, set);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  // A wrapper, so the same callback subscribed twice is two subscriptions.
  const entry = (): void => callback();
  set.add(entry);
  return () => {
    const current = subscribers.get(signal);
    if (current === undefined || !current.delete(entry) || current.size > 0) return;
    subscribers.delete(signal);
    signal.removeEventListener('abort', dispatch);
  };
}
