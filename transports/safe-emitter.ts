import { EventEmitter } from 'eventemitter3';

/** One registration as eventemitter3 stores it. */
interface StoredListener {
  fn: (...args: unknown[]) => void;
  context: unknown;
  once: boolean;
}

const prefix = EventEmitter.prefixed;

/**
 * A typed eventemitter3 emitter whose `emit` isolates listeners: a listener that throws
 * neither unwinds the emitter's caller (the dispatcher, in the middle of a chunk) nor
 * stops the other listeners of the same event. The exception is re-emitted as `'error'`
 * on the next tick (docs/ARCHITECTURE.md, rule 3); an exception thrown by an `'error'` listener
 * itself is dropped, since re-emitting it would loop.
 *
 * eventemitter3 offers no per-listener hook, so `emit` walks its registrations the way
 * eventemitter3's own emit does (v5 layout: one record, or an array replaced, never
 * mutated, on removal). test/client-dispatcher.test.ts pins that behaviour.
 */
export class SafeEmitter<Events extends EventEmitter.ValidEventTypes> extends EventEmitter<Events> {
  override emit<T extends EventEmitter.EventNames<Events>>(event: T, ...args: EventEmitter.EventArgs<Events, T>): boolean {
    const key = prefix ? `${prefix as string}${String(event)}` : event;
    const stored = (this as unknown as { _events: Record<string | symbol, StoredListener | StoredListener[] | undefined> })._events[
      key as string
    ];
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
      if (event === 'error') return;
      process.nextTick(() => (this.emit as unknown as (e: string, a: unknown) => boolean)('error', error));
    }
  }
}
