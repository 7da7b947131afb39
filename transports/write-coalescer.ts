/** Writes up to this size are copied into the coalescing buffer; larger ones go out as they are. */
const COPY_LIMIT = 4096;
/** Size of each coalescing buffer. */
const SLAB_BYTES = 64 * 1024;

/**
 * Hands the first write of a tick to `sink` (a socket's write) at once and gathers the
 * tick's later small writes into one contiguous buffer, handed to the sink once on
 * process.nextTick, i.e. after the current callback and its promise reactions have run.
 *
 * Why: a burst of pipelined requests (the 32 that the replies of one read release) written
 * one `socket.write` each cost a Buffer view, a stream queue entry and, uncorked, a syscall
 * per request; corked, a 32-entry writev. Copying 128-byte headers into one buffer costs
 * less than any of that (bench/client.ts), and the kernel gets two plain writes per burst.
 *
 * Order is kept: a large write first flushes what was gathered, then goes out itself. The
 * buffer regions handed to `sink` are never written again (a new buffer is taken when one
 * is full), because the socket may still hold them in its queue.
 */
export class WriteCoalescer {
  private slab: Uint8Array = Buffer.allocUnsafe(SLAB_BYTES);
  /** Start of the bytes gathered since the last flush, and their end. */
  private start = 0;
  private end = 0;
  private scheduled = false;

  constructor(private readonly sink: (bytes: Uint8Array) => boolean) {}

  /** Bytes gathered and not yet handed to the sink. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /**
   * Take `bytes`: copied for the flush at the end of the tick when small, else handed to
   * the sink at once (after what was gathered). Returns the sink's answer for a write made
   * now, else true (the caller compares its buffered total with the high-water mark).
   */
  write(bytes: Uint8Array): boolean {
    if (!this.scheduled) {
      // The first write of a tick goes out at once: it wakes the peer now, so the peer's
      // wake-up overlaps with the rest of this tick's work instead of following it. Gathering
      // every write of a tick (the first included) made the two sides take turns, each idle
      // while the other worked: on a quiet machine each turn paid a core's wake-up, and 32 in
      // flight fell to 0.71-0.74x a raw loop; first-at-once measured 1.03-1.09x (bench/client.ts).
      this.scheduled = true;
      process.nextTick(this.flushAtEndOfTick);
      return this.sink(bytes);
    }
    const length = bytes.length;
    if (length > COPY_LIMIT) {
      this.flush();
      return this.sink(bytes);
    }
    if (SLAB_BYTES - this.end < length) {
      this.flush();
      this.slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.start = 0;
      this.end = 0;
    }
    this.slab.set(bytes, this.end);
    this.end += length;
    return true;
  }

  /** Hand what was gathered to the sink now (before a large write, a close, or at the end of the tick). */
  flush(): void {
    if (this.end === this.start) return;
    const gathered = this.slab.subarray(this.start, this.end);
    this.start = this.end;
    this.sink(gathered);
  }

  private readonly flushAtEndOfTick = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
