import type { Packet } from '../../protocol/packet.js';
import { EVENT_STREAM_OPTIONS_SCHEMA } from './options-schema.js';
import { validateOptions } from '../../protocol/options-schema.js';
import type { DispatcherEvents } from '../dispatch/dispatcher.js';
import type { SemanticEvents } from '../state/semantic-events.js';
import { AbortError, ConnectionClosedError } from '../errors.js';
import { EventStream } from './event-stream.js';
import { EventWaiters, selectEvents } from './event-waiters.js';
import type { EventSelector, SelectedEvents, WaitOptions } from './event-waiters.js';
import { checkTimeout } from './fields.js';
import type { EventStreamOptions } from './options.js';

/** Every event a client emits. */
export type ClientEvents = DispatcherEvents &
  SemanticEvents & {
    /** The client is finished (close(), a lost link without reconnect, or reconnect gave up). Once. */
    close: [error: Error | undefined];
    /** The link was lost; requests whose bytes had started out were rejected with maybeExecuted: true (spec/correlation.md). */
    disconnect: [info: { error: Error | undefined }];
    /** A reconnect attempt is scheduled. */
    reconnecting: [info: { attempt: number; delayMs: number }];
    /** The link is back; waiting requests are being written. */
    reconnected: [info: { attempt: number }];
  };

/**
 * Where a client's events go besides its listeners: one-shot `waitFor` waiters and
 * bounded `events()` streams. The dispatcher offers it every event before listeners see it,
 * so a waiter armed before a request is written cannot miss an event that arrives in the
 * same chunk as the reply.
 */
export class EventHub {
  private readonly waiters = new EventWaiters();
  private readonly streams = new Set<EventStream>();
  private ended = false;

  /**
   * @param onSelectorError told when an event stream's selector throws (the rest go on).
   * @param onDrop told when a stream drops its oldest event for a slow consumer.
   */
  constructor(
    private readonly onSelectorError: (error: unknown) => void,
    private readonly onDrop?: () => void,
  ) {}

  /** Every event passes here before listeners: waitFor waiters, then event streams. */
  readonly observe = (packet: Packet): void => {
    if (this.waiters.size > 0) this.waiters.offer(packet);
    if (this.streams.size > 0) {
      for (const stream of this.streams) {
        let wanted: boolean;
        try {
          wanted = stream.accepts(packet);
        } catch (error) {
          this.onSelectorError(error);
          continue;
        }
        if (wanted) stream.push(packet);
      }
    }
  };

  /** The next event that matches `selector`; see FlamingoClient.waitFor. */
  waitFor(selector: EventSelector, options: WaitOptions): Promise<Packet> {
    let selected: SelectedEvents;
    try {
      selected = selectEvents(selector);
      checkTimeout('timeoutMs', options.timeoutMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.ended) return Promise.reject(new ConnectionClosedError('the client is closed', false, { command: selected.name }));
    if (options.signal?.aborted) return Promise.reject(new AbortError(`waitFor ${selected.name}`, { cause: options.signal.reason }));
    return this.waiters.add(selected, options);
  }

  /** An event stream; see FlamingoClient.events. */
  events(selector: EventSelector | undefined, options: EventStreamOptions): EventStream {
    validateOptions(EVENT_STREAM_OPTIONS_SCHEMA, options, 'events()');
    const bufferSize = options.bufferSize ?? 1000;
    const accepts = selector === undefined ? () => true : selectEvents(selector).accepts;
    const stream = new EventStream(accepts, bufferSize, (s) => this.streams.delete(s), this.onDrop);
    if (this.ended) stream.end();
    else this.streams.add(stream);
    return stream;
  }

  /** The client is finished: every waiter rejects, every stream ends, later calls fail at once. */
  end(cause: Error | undefined): void {
    this.ended = true;
    this.waiters.rejectAll((name) => new ConnectionClosedError(`waitFor ${name}: the client is closed`, false, { cause }));
    for (const stream of [...this.streams]) stream.end();
  }
}
