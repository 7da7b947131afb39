import { EventEmitter } from 'eventemitter3';
import { encodeImageFrame } from '../protocol/image.js';
import { listenTcp, type TcpListener } from '../transports/tcp.js';
import type { Transport } from '../transports/transport.js';
import { FrameFanout, type LiveViewerStats } from '../transports/frame-fanout.js';
import { renderPattern } from './image-pattern.js';

/** Stage axis numbers as the protocol uses them (STAGE_POSITION_GET int32Data0). */
const AXIS_X = 1;
const AXIS_Y = 2;
const AXIS_Z = 3;

/**
 * What {@link LiveImageServer.attachTo} needs from a simulator: the live-view switch as a
 * `'liveView'` event and the stage position. Typed structurally so this file does not
 * depend on the simulator's module.
 */
export interface LiveViewSource {
  on(event: 'liveView', fn: (on: boolean) => void): unknown;
  off?(event: 'liveView', fn: (on: boolean) => void): unknown;
  stagePosition(axis: number): number;
}

/** Options of {@link LiveImageServer}. */
export interface LiveImageServerOptions {
  /** Picture size in pixels (default 256 × 256). */
  width?: number;
  height?: number;
  /** Time between frames while live view is on (default 50 ms: 20 frames/s). */
  frameIntervalMs?: number;
  /** Exposure reported in every header, µs (default 10 000). */
  exposureUs?: number;
  /** Seed of the pixel noise (default 1): equal seeds give equal pictures. */
  seed?: number;
  /** Stage position of an axis (1 X, 2 Y, 3 Z in mm); default: the middle of the travel. */
  positionOf?: (axis: number) => number;
  /**
   * Frames one viewer may have waiting behind the one being written (default 2). When a
   * viewer reads slower than frames come, the oldest waiting frame is dropped: a live view
   * wants the newest picture, and memory per viewer stays bounded.
   */
  maxQueuedFrames?: number;
  /** Milliseconds clock for the header's timestamp (default: time since the server was made). */
  clock?: () => number;
}

/** Events of {@link LiveImageServer}. */
export interface LiveImageServerEvents {
  /** A viewer connected. */
  viewer: [LiveViewerStats];
  /** A viewer disconnected (its final counters). */
  viewerClosed: [LiveViewerStats];
  /** A frame went out to the viewers connected at that moment. */
  frame: [frameNumber: number];
  /** Live view switched on or off. */
  live: [on: boolean];
}

/**
 * The simulated camera's live-image port (the command port + 1): while live view is on it
 * sends every connected viewer a synthetic 16-bit frame each `frameIntervalMs`, in the
 * wire format of protocol/image.ts. The picture shows a spot that follows the stage.
 */
export class LiveImageServer extends EventEmitter<LiveImageServerEvents> {
  readonly width: number;
  readonly height: number;
  readonly frameIntervalMs: number;
  readonly exposureUs: number;
  readonly seed: number;
  readonly maxQueuedFrames: number;
  private positionOf: (axis: number) => number;
  private readonly clock: () => number;
  private readonly fanout: FrameFanout;
  private listener: TcpListener | null = null;
  private timer: NodeJS.Timeout | null = null;
  private liveOn = false;
  private nextFrameNumber = 1;
  private readonly scratch: Uint8Array;
  private detachers: (() => void)[] = [];
  private closed = false;

  constructor(options: LiveImageServerOptions = {}) {
    super();
    this.width = options.width ?? 256;
    this.height = options.height ?? 256;
    this.frameIntervalMs = options.frameIntervalMs ?? 50;
    this.exposureUs = options.exposureUs ?? 10_000;
    this.seed = options.seed ?? 1;
    this.maxQueuedFrames = options.maxQueuedFrames ?? 2;
    this.positionOf = options.positionOf ?? ((axis) => (axis === AXIS_X ? 8 : axis === AXIS_Y ? 15 : 16.5));
    if (options.clock !== undefined) this.clock = options.clock;
    else {
      const start = performance.now();
      this.clock = () => performance.now() - start;
    }
    if (!Number.isInteger(this.width) || !Number.isInteger(this.height) || this.width < 1 || this.height < 1) {
      throw new RangeError(`frame size must be positive integers, got ${this.width} x ${this.height}`);
    }
    this.fanout = new FrameFanout(this.maxQueuedFrames);
    this.scratch = new Uint8Array(this.width * this.height * 2);
  }

  /** Start listening (default 127.0.0.1, port 0 = any free port); resolves with the address. */
  async listen(options: { host?: string; port?: number } = {}): Promise<{ host: string; port: number }> {
    if (this.closed) throw new Error('LiveImageServer is closed');
    if (this.listener !== null) throw new Error(`LiveImageServer already listens on port ${this.listener.port}`);
    this.listener = await listenTcp({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, (transport) =>
      this.accept(transport),
    );
    return { host: this.listener.host, port: this.listener.port };
  }

  /** The port listened on, or undefined before listen(). */
  get port(): number | undefined {
    return this.listener?.port;
  }

  /** Is live view on? */
  get live(): boolean {
    return this.liveOn;
  }

  /** Counters of the viewers connected now. */
  get viewers(): readonly LiveViewerStats[] {
    return this.fanout.viewers;
  }

  /** Number of the next frame to be sent (the first frame is 1; numbers never repeat). */
  get frameNumber(): number {
    return this.nextFrameNumber;
  }

  /** Switch live view on (frames start at once, then every frameIntervalMs) or off. */
  setLive(on: boolean): void {
    if (this.closed || on === this.liveOn) return;
    this.liveOn = on;
    if (on) {
      this.broadcastFrame();
      this.timer = setInterval(() => this.broadcastFrame(), this.frameIntervalMs);
    } else if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    this.emit('live', on);
  }

  /**
   * Follow a simulator: live view on and off with its `'liveView'` event, positions from its
   * stage. Returns a function that stops following (close() also does).
   */
  attachTo(source: LiveViewSource): () => void {
    const onLiveView = (on: boolean) => this.setLive(on);
    source.on('liveView', onLiveView);
    this.positionOf = (axis) => source.stagePosition(axis);
    const detach = () => {
      source.off?.('liveView', onLiveView);
      this.detachers = this.detachers.filter((d) => d !== detach);
    };
    this.detachers.push(detach);
    return detach;
  }

  /**
   * Render one frame from the current stage position and offer it to every viewer now
   * (whether or not live view is on). Returns its frame number.
   */
  broadcastFrame(): number {
    const frameNumber = this.nextFrameNumber;
    this.nextFrameNumber = (this.nextFrameNumber + 1) >>> 0 || 1;
    const rendered = renderPattern({
      width: this.width,
      height: this.height,
      position: { x: this.positionOf(AXIS_X), y: this.positionOf(AXIS_Y), z: this.positionOf(AXIS_Z) },
      frameNumber,
      seed: this.seed,
      into: this.scratch,
    });
    const bytes = encodeImageFrame(
      {
        width: this.width,
        height: this.height,
        scaleMin: rendered.min,
        scaleMax: rendered.max,
        timestampMs: Math.floor(this.clock()) >>> 0,
        frameNumber,
        exposureUs: this.exposureUs,
        reserved0: 0,
        reserved1: 0,
      },
      rendered.pixels,
    );
    // One encoded frame is shared by every viewer: nothing writes into it after this point.
    this.fanout.offer(bytes);
    this.emit('frame', frameNumber);
    return frameNumber;
  }

  /** Stop live view, stop following any simulator, disconnect every viewer, stop listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.setLive(false);
    this.closed = true;
    for (const detach of [...this.detachers]) detach();
    this.fanout.destroyAll();
    const listener = this.listener;
    this.listener = null;
    if (listener !== null) await listener.close();
  }

  private accept(transport: Transport): void {
    if (this.closed) {
      transport.destroy();
      return;
    }
    const viewer = this.fanout.add(transport);
    transport.attach({
      // Viewers have nothing to say on this port; what they send is read and ignored.
      data: () => {},
      close: () => {
        if (this.fanout.remove(viewer)) this.emit('viewerClosed', viewer);
      },
    });
    if (!transport.isClosed) this.emit('viewer', viewer);
  }
}
