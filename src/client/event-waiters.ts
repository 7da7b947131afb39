import { commandName } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { AbortError, TimeoutError } from '../errors.js';
import { onAbort } from '../abort-listeners.js';
import { resolveCode } from './fields.js';
import type { CommandRef } from './fields.js';

/** A code, a name, or a predicate that selects events. */
export type EventSelector = CommandRef | ((packet: Packet) => boolean);

/** Options of {@link FlamingoClient.waitFor}. */
export interface WaitOptions {
  /** Give up after this long (TimeoutError); default: wait until the client closes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A selector resolved once: its test, and the name errors use. */
export interface SelectedEvents {
  accepts: (packet: Packet) => boolean;
  name: string;
}

/** Resolve a selector; throws ArgumentError (via resolveCode) for an unknown name or bad code. */
export function selectEvents(selector: EventSelector): SelectedEvents {
  if (typeof selector === 'function') return { accepts: selector, name: 'a matching event' };
  const code = resolveCode(selector);
  return { accepts: (packet) => packet.code === code, name: commandName(code) };
}

interface Waiter extends SelectedEvents {
  resolve: (packet: Packet) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
  signal: AbortSignal | undefined;
  /** Unsubscribes from the signal. */
  onAbort: (() => void) | null;
}

/**
 * The one-shot `waitFor` waits of a client. A wait is armed when {@link add} returns, before
 * the caller writes anything, so an event that arrives in the same chunk as the reply that
 * caused it (a short move's STAGE_MOTION_STOPPED) is offered to it. Each packet goes to
 * every waiter that accepts it; a predicate that throws fails its own wait only.
 */
export class EventWaiters {
  private list: Waiter[] = [];

  /** Waits not yet settled. */
  get size(): number {
    return this.list.length;
  }

  /** Arm a wait for the next packet `selected` accepts, with an optional timeout and signal. */
  add(selected: SelectedEvents, options: WaitOptions): Promise<Packet> {
    return new Promise<Packet>((resolve, reject) => {
      const waiter: Waiter = { ...selected, resolve, reject, timer: null, signal: options.signal, onAbort: null };
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        waiter.timer = setTimeout(() => this.drop(waiter, new TimeoutError(`waitFor ${selected.name}`, ms)), ms);
      }
      if (options.signal !== undefined) {
        const signal = options.signal;
        waiter.onAbort = onAbort(signal, () => this.drop(waiter, new AbortError(`waitFor ${selected.name}`, { cause: signal.reason })));
      }
      this.list.push(waiter);
    });
  }

  /** Offer an event to every wait; the ones that accept it resolve with it. */
  offer(packet: Packet): void {
    const waiters = this.list;
    let kept: Waiter[] | null = null;
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i] as Waiter;
      let matched: boolean;
      try {
        matched = waiter.accepts(packet);
      } catch (error) {
        // A throwing predicate fails its own wait, not the dispatcher.
        disarm(waiter);
        waiter.reject(error as Error);
        kept ??= waiters.slice(0, i);
        continue;
      }
      if (matched) {
        disarm(waiter);
        waiter.resolve(packet);
        kept ??= waiters.slice(0, i);
      } else if (kept !== null) kept.push(waiter);
    }
    if (kept !== null) this.list = kept;
  }

  /** Reject every wait (the client closed), each with the error `errorFor` makes from its name. */
  rejectAll(errorFor: (name: string) => Error): void {
    const waiters = this.list;
    this.list = [];
    for (const waiter of waiters) {
      disarm(waiter);
      waiter.reject(errorFor(waiter.name));
    }
  }

  private drop(waiter: Waiter, error: Error): void {
    const index = this.list.indexOf(waiter);
    if (index < 0) return;
    this.list.splice(index, 1);
    disarm(waiter);
    waiter.reject(error);
  }
}

function disarm(waiter: Waiter): void {
  if (waiter.timer !== null) clearTimeout(waiter.timer);
  if (waiter.onAbort !== null) waiter.onAbort(); // unsubscribe
}
