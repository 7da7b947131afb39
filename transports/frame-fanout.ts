import type { Transport } from './transport.js';

/** Counters of one connected live-image viewer. */
export interface LiveViewerStats {
  readonly description: string;
  /** Frames fully handed to the transport. */
  readonly framesSent: number;
  /** Frames dropped because the viewer was not keeping up. */
  readonly framesDropped: number;
  /** Frames waiting now (never more than the fan-out's maxQueuedFrames). */
  readonly framesQueued: number;
  /** The most frames that ever waited at once. */
  readonly maxFramesQueued: number;
}

/**
 * One viewer of a live-image stream and its bounded output queue: a frame is written at
 * once when nothing is being written, else it waits behind the frame being written, and
 * when `maxQueued` frames already wait the OLDEST waiting one is dropped (a live view
 * wants the newest picture; memory per viewer stays bounded).
 */
export class FrameViewer implements LiveViewerStats {
  framesSent = 0;
  framesDropped = 0;
  maxFramesQueued = 0;
  private readonly queue: Uint8Array[] = [];
  private writing = false;

  constructor(
    readonly transport: Transport,
    private readonly maxQueued: number,
  ) {}

  get description(): string {
    return this.transport.description;
  }

  get framesQueued(): number {
    return this.queue.length;
  }

  /** Send an encoded frame (header + pixels), or queue it, dropping the oldest waiting one. */
  offer(frame: Uint8Array): void {
    if (this.transport.isClosed) return;
    if (!this.writing) {
      this.write(frame);
      return;
    }
    if (this.maxQueued === 0) {
      this.framesDropped++;
      return;
    }
    if (this.queue.length === this.maxQueued) {
      this.queue.shift();
      this.framesDropped++;
    }
    this.queue.push(frame);
    if (this.queue.length > this.maxFramesQueued) this.maxFramesQueued = this.queue.length;
  }

  private write(frame: Uint8Array): void {
    this.writing = true;
    // write() resolves only once the socket is below its high-water mark again: that is the
    // backpressure that makes a slow viewer's frames wait in (and drop from) the queue.
    this.transport.write(frame).then(
      () => {
        this.framesSent++;
        const next = this.queue.shift();
        if (next !== undefined && !this.transport.isClosed) this.write(next);
        else this.writing = false;
      },
      () => {
        // The viewer went away mid-frame; its close handler removes it.
        this.writing = false;
        this.queue.length = 0;
      },
    );
  }
}

/**
 * The viewers of one live-image stream: every frame offered goes to each of them through
 * its own bounded queue, so a slow viewer drops frames without holding the others back.
 * Used by the simulator's LiveImageServer and by the gateway's live relay.
 */
export class FrameFanout {
  private readonly set = new Set<FrameViewer>();

  /** @param maxQueuedFrames frames one viewer may have waiting behind the one being written. */
  constructor(readonly maxQueuedFrames: number) {
    if (!Number.isInteger(maxQueuedFrames) || maxQueuedFrames < 0) {
      throw new RangeError(`maxQueuedFrames must be a non-negative integer, got ${maxQueuedFrames}`);
    }
  }

  /** Viewers connected now. */
  get size(): number {
    return this.set.size;
  }

  /** Counters of the viewers connected now. */
  get viewers(): readonly FrameViewer[] {
    return [...this.set];
  }

  /** Add a viewer writing to `transport` (the caller owns reading from it and its close). */
  add(transport: Transport): FrameViewer {
    const viewer = new FrameViewer(transport, this.maxQueuedFrames);
    this.set.add(viewer);
    return viewer;
  }

  /** Forget a viewer; true when it was there. */
  remove(viewer: FrameViewer): boolean {
    return this.set.delete(viewer);
  }

  /** Offer one encoded frame to every viewer. The bytes are shared: nobody may write into them afterwards. */
  offer(frame: Uint8Array): void {
    for (const viewer of this.set) viewer.offer(frame);
  }

  /** Destroy every viewer's transport and forget them all. */
  destroyAll(): void {
    for (const viewer of this.set) viewer.transport.destroy();
    this.set.clear();
  }
}
