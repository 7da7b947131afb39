import { joinBytes } from '../../../protocol/bytes.js';
import { WRITE_ACCEPTED } from '../../../transports/transport.js';
import type { Transport } from '../../../transports/transport.js';

/**
 * The bounded outgoing queue of one downstream connection. One write is outstanding at a
 * time: while the transport has not accepted it (its buffer is over the high-water mark),
 * later packets wait here and go out together as one write once it has. When a reader
 * stalls, what waits here grows, and past `limitBytes` the owner is told to cut the reader
 * off, rather than holding the other clients back or growing memory without bound.
 */
export class Outbox {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private writing = false;
  private overflowed = false;

  constructor(
    private readonly transport: Transport,
    private readonly limitBytes: number,
    private readonly onOverflow: (backlogBytes: number) => void,
  ) {}

  /** Bytes waiting behind the outstanding write. */
  get backlogBytes(): number {
    return this.queuedBytes;
  }

  /**
   * Queue bytes for the peer (they are not copied and must not change afterwards); false
   * when they were not queued: closed, or this packet would pass the limit (then
   * `onOverflow` runs once and nothing more is accepted).
   */
  push(bytes: Uint8Array): boolean {
    if (this.overflowed || this.transport.isClosed) return false;
    if (!this.writing) {
      this.write(bytes);
      return true;
    }
    if (this.queuedBytes + bytes.length > this.limitBytes) {
      this.overflowed = true;
      this.queue = [];
      this.onOverflow(this.queuedBytes + bytes.length);
      this.queuedBytes = 0;
      return false;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    return true;
  }

  private write(bytes: Uint8Array): void {
    const written = this.transport.write(bytes);
    // Accepted at once (the usual case): nothing can have queued meanwhile, so the outbox is
    // idle again without a promise reaction per packet.
    if (written === WRITE_ACCEPTED) return;
    this.writing = true;
    written.then(this.accepted, this.failed);
  }

  private readonly accepted = (): void => {
    const queue = this.queue;
    if (queue.length === 0 || this.overflowed) {
      this.writing = false;
      return;
    }
    let chunk: Uint8Array;
    if (queue.length === 1) chunk = queue[0] as Uint8Array;
    else {
      // Everything that piled up goes out as one write: one syscall instead of many.
      chunk = joinBytes(queue, this.queuedBytes);
    }
    this.queue = [];
    this.queuedBytes = 0;
    this.write(chunk);
  };

  private readonly failed = (): void => {
    // The connection is gone; its close handler ends the session.
    this.writing = false;
    this.queue = [];
    this.queuedBytes = 0;
  };
}
