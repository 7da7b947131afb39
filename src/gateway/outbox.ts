import type { Transport } from '../../transports/transport.js';

/**
 * The bounded outgoing queue of one downstream connection. Bytes are handed to the
 * transport at once (its own buffer is the queue, so nothing is copied); what the
 * transport has not yet accepted below its high-water mark is the backlog. When a reader
 * stalls, the backlog grows, and past `limitBytes` the owner is told to cut the reader
 * off, rather than holding everyone else back or growing memory without bound.
 */
export class Outbox {
  private backlog = 0;
  // Sizes of writes not yet accepted, oldest first (a transport settles writes in order).
  private readonly sizes: number[] = [];
  private overflowed = false;

  constructor(
    private readonly transport: Transport,
    private readonly limitBytes: number,
    private readonly onOverflow: (backlogBytes: number) => void,
  ) {}

  /** Bytes handed over but not yet accepted by the transport. */
  get backlogBytes(): number {
    return this.backlog;
  }

  /**
   * Queue bytes for the peer; false when they were not queued (closed, or this write would
   * exceed the limit: then `onOverflow` runs once and nothing more is accepted).
   */
  push(bytes: Uint8Array): boolean {
    if (this.overflowed || this.transport.isClosed) return false;
    if (this.backlog + bytes.length > this.limitBytes) {
      this.overflowed = true;
      this.onOverflow(this.backlog + bytes.length);
      return false;
    }
    this.backlog += bytes.length;
    this.sizes.push(bytes.length);
    this.transport.write(bytes).then(this.settled, this.settled);
    return true;
  }

  private readonly settled = (): void => {
    this.backlog -= this.sizes.shift() ?? 0;
  };
}
