import type { Packet } from '../../protocol/packet.js';
import { ArgumentError } from '../errors.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * An async iterator over matching events with a bounded buffer: when the consumer stalls
 * and the buffer is full, the OLDEST event is dropped and counted in `dropped`, so a
 * flood of progress events cannot grow memory. Ends (done) when the client closes or
 * `return()` is called (a `for await` loop's `break` does that).
 */
export class EventStream implements AsyncIterableIterator<Packet> {
  /** Events dropped because the buffer was full. */
  dropped = 0;
  /** Buffer capacity. */
  readonly capacity: number;
  private readonly ring: (Packet | undefined)[];
  private head = 0;
  private count = 0;
  private waiter: ((result: IteratorResult<Packet, undefined>) => void) | null = null;
  private ended = false;
  private readonly onEnd: (stream: EventStream) => void;
  /** Which events this stream wants. */
  readonly accepts: (packet: Packet) => boolean;

  /** @param onDrop told each time the oldest event is dropped (the client's statistics). */
  constructor(
    accepts: (packet: Packet) => boolean,
    capacity: number,
    onEnd: (stream: EventStream) => void,
    private readonly onDrop?: () => void,
  ) {
    this.accepts = accepts;
    this.capacity = capacity;
    this.ring = new Array<Packet | undefined>(capacity);
    this.onEnd = onEnd;
  }

  /** Events buffered and not yet read. */
  get buffered(): number {
    return this.count;
  }

  /** True once ended; no more events are buffered. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Offer an event (the client calls this for each matching event). */
  push(packet: Packet): void {
    if (this.ended) return;
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter({ done: false, value: packet });
      return;
    }
    if (this.count === this.capacity) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.dropped++;
      this.onDrop?.();
    }
    this.ring[(this.head + this.count) % this.capacity] = packet;
    this.count++;
  }

  next(): Promise<IteratorResult<Packet, undefined>> {
    if (this.count > 0) {
      const packet = this.ring[this.head] as Packet;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      return Promise.resolve({ done: false, value: packet });
    }
    if (this.ended) return Promise.resolve(DONE);
    if (this.waiter !== null)
      return Promise.reject(new ArgumentError('EventStream.next() called again before the previous call settled: one reader per stream'));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stop: unsubscribes and drops anything buffered. */
  return(): Promise<IteratorResult<Packet, undefined>> {
    this.end();
    this.ring.fill(undefined);
    this.count = 0;
    return Promise.resolve(DONE);
  }

  /** No more events will come (client closed); what is buffered can still be read. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
