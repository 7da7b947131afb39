import { EventEmitter } from 'eventemitter3';

/** One registration as eventemitter3 stores it. */
interface StoredListener {
  fn: (...args: unknown[]) => void;
  context: unknown;
  once: boolean;
}

const prefix = EventEmitter.prefixed;

/** What {@link reportListenerError} needs of an emitter. */
export interface ErrorReporter {
  listenerCount(event: 'error'): number;
  emit(event: 'error', error: Error): boolean;
}

/**
 * The package's one rule for an exception thrown by a listener (docs/ARCHITECTURE.md,
 * rule 3), applied on a later tick so that it never unwinds the caller (a reader in the
 * middle of a chunk): emitted as `'error'` on `emitter` when someone listens for `'error'`
 * then, otherwise thrown, so that it surfaces as an uncaught exception instead of
 * vanishing (eventemitter3 drops an `'error'` nobody listens for). An exception thrown by
 * an `'error'` listener itself (`fromErrorListener`) is always thrown: re-emitting it would loop.
 */
export function reportListenerError(emitter: ErrorReporter, error: unknown, fromErrorListener = false): void {
  const err = error instanceof Error ? error : new Error(String(error));
  process.nextTick(() => {
    if (!fromErrorListener && emitter.listenerCount('error') > 0) emitter.emit('error', err);
    else throw err;
  });
}

/**
 * A typed eventemitter3 emitter whose `emit` isolates listeners: a listener that throws
 * neither unwinds the emitter's caller (the dispatcher, in the middle of a chunk) nor
 * stops the other listeners of the same event. The exception is reported by
 * {@link reportListenerError}: `'error'` on the next tick when someone listens for it,
 * otherwise an uncaught exception.
 *
 * eventemitter3 offers no per-listener hook, so `emit` walks its registrations the way
 * eventemitter3's own emit does (v5 layout: one record, or an array replaced, never
 * mutated, on removal). test/client-dispatcher.test.ts pins that behaviour.
 */
export class SafeEmitter<Events extends EventEmitter.ValidEventTypes> extends EventEmitter<Events> {
  override emit<T extends EventEmitter.EventNames<Events>>(event: T, ...args: EventEmitter.EventArgs<Events, T>): boolean {
    const key = prefix ? `${prefix as string}${String(event)}` : event;
    const stored = (this as unknown as { _events: Record<string | symbol, StoredListener | StoredListener[] | undefined> })._events[key as string];
    if (stored === undefined) return false;
    if (!Array.isArray(stored)) {
      if (stored.once) this.removeListener(event, stored.fn as never, undefined, true);
      this.call(event, stored, args);
      return true;
    }
    const length = stored.length;
    for (let i = 0; i < length; i++) {
      const listener = stored[i] as StoredListener;
      if (listener.once) this.removeListener(event, listener.fn as never, undefined, true);
      this.call(event, listener, args);
    }
    return true;
  }

  private call(event: unknown, listener: StoredListener, args: unknown[]): void {
    try {
      if (args.length === 1) listener.fn.call(listener.context, args[0]);
      else listener.fn.apply(listener.context, args);
    } catch (error) {
      reportListenerError(this as unknown as ErrorReporter, error, event === 'error');
    }
  }
}
