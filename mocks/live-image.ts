import { SafeEmitter } from '../transports/safe-emitter.js';
import { encodeImageFrame, IMAGE_OPTION_IMAGE_DATA } from '../protocol/image.js';
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
  /** Size the live-port frames have now (the camera crop, scaled); absent: the server's own size. */
  liveFrameSize?(): { width: number; height: number };
}

/** Options of {@link LiveImageServer}. */
export interface LiveImageServerOptions {
  /** Picture size in pixels (default 256 × 256). */
  width?: number;
  height?: number;
  /** Time between frames while live view is on (default 50 ms: 20 frames/s). */
  frameIntervalMs?: number;
  /** Camera index written in every header's deviceIndex (0–3, default 0). */
  deviceIndex?: number;
  /**
   * Send an options-only header (image size 0) to the viewers when live view starts, before
   * the first frame (default true). Our choice; the instrument's timing of it is not recorded.
   */
  optionsOnStart?: boolean;
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
}

/** Events of {@link LiveImageServer}. */
export interface LiveImageServerEvents {
  /** A listener of this emitter threw (reported on a later tick; docs/ARCHITECTURE.md rule 3). */
  error: [Error];
  /** A viewer connected. */
  viewer: [LiveViewerStats];
  /** A viewer disconnected (its final counters). */
  viewerClosed: [LiveViewerStats];
  /** A frame went out to the viewers connected at that moment (the server's own count). */
  frame: [frameNumber: number];
  /** An options-only header went out to the viewers connected at that moment. */
  options: [];
  /** Live view switched on or off. */
  live: [on: boolean];
}

/**
 * The simulated camera's live-image port (the command port + 1): while live view is on it
 * sends every connected viewer a synthetic 16-bit frame each `frameIntervalMs`, in the
 * wire format of protocol/image.ts. The picture shows a spot that follows the stage.
 *
 * Header fields (spec/protocol.md §9, "Simulator choices"): deviceIndex as configured,
 * optionsSettings1 = IMAGE_DATA on frames and 0 on options-only headers, optionsSettings2 = 0,
 * and the frame's number in imageIndexStart and imageIndexStop (the instrument's use of the
 * range during live view is not recorded; the simulator's numbers let tests tell frames apart).
 */
export class LiveImageServer extends SafeEmitter<LiveImageServerEvents> {
  /** Size of the next frame: the constructor's, or what an attached simulator's crop gives (attachTo). */
  width: number;
  height: number;
  readonly frameIntervalMs: number;
  readonly deviceIndex: number;
  readonly optionsOnStart: boolean;
  readonly seed: number;
  readonly maxQueuedFrames: number;
  private positionOf: (axis: number) => number;
  private readonly fanout: FrameFanout;
  private listener: TcpListener | null = null;
  private timer: NodeJS.Timeout | null = null;
  private liveOn = false;
  private nextFrameNumber = 1;
  private scratch: Uint8Array;
  private sizeOf: (() => { width: number; height: number }) | null = null;
  private detachers: (() => void)[] = [];
  private closed = false;

  constructor(options: LiveImageServerOptions = {}) {
    super();
    this.width = options.width ?? 256;
    this.height = options.height ?? 256;
    this.frameIntervalMs = options.frameIntervalMs ?? 50;
    this.deviceIndex = options.deviceIndex ?? 0;
    this.optionsOnStart = options.optionsOnStart ?? true;
    this.seed = options.seed ?? 1;
    this.maxQueuedFrames = options.maxQueuedFrames ?? 2;
    this.positionOf = options.positionOf ?? ((axis) => (axis === AXIS_X ? 8 : axis === AXIS_Y ? 15 : 16.5));
    if (!Number.isInteger(this.width) || !Number.isInteger(this.height) || this.width < 1 || this.height < 1) {
      throw new RangeError(`frame size must be positive integers, got ${this.width} x ${this.height}`);
    }
    if (!Number.isInteger(this.deviceIndex) || this.deviceIndex < 0 || this.deviceIndex > 3) {
      throw new RangeError(`deviceIndex must be a camera index 0-3, got ${this.deviceIndex}`);
    }
    this.fanout = new FrameFanout(this.maxQueuedFrames);
    this.scratch = new Uint8Array(this.width * this.height * 2);
  }

  /** Start listening (default 127.0.0.1, port 0 = any free port); resolves with the address. */
  async listen(options: { host?: string; port?: number } = {}): Promise<{ host: string; port: number }> {
    if (this.closed) throw new Error('LiveImageServer is closed');
    if (this.listener !== null) throw new Error(`LiveImageServer already listens on port ${this.listener.port}`);
    this.listener = await listenTcp({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, (transport) => this.accept(transport));
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

  /**
   * Switch live view on (an options-only header first unless `optionsOnStart` is false, then
   * frames at once and every frameIntervalMs) or off.
   */
  setLive(on: boolean): void {
    if (this.closed || on === this.liveOn) return;
    this.liveOn = on;
    if (on) {
      if (this.optionsOnStart) this.broadcastOptions();
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
    if (source.liveFrameSize !== undefined) this.sizeOf = () => (source.liveFrameSize as () => { width: number; height: number })();
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
    this.followSize();
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
        deviceIndex: this.deviceIndex,
        optionsSettings1: IMAGE_OPTION_IMAGE_DATA,
        optionsSettings2: 0,
        imageIndexStart: frameNumber | 0,
        imageIndexStop: frameNumber | 0,
      },
      rendered.pixels,
    );
    // One encoded frame is shared by every viewer: nothing writes into it after this point.
    this.fanout.offer(bytes);
    this.emit('frame', frameNumber);
    return frameNumber;
  }

  /** Take the attached simulator's frame size (it follows the camera crop); a new size gets a new buffer. */
  private followSize(): void {
    if (this.sizeOf === null) return;
    const { width, height } = this.sizeOf();
    if (width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    this.scratch = new Uint8Array(width * height * 2);
  }

  /**
   * Offer every viewer an options-only header now: image size 0, no pixels, the camera's
   * width and height and the full 16-bit display scale (0..65535).
   */
  broadcastOptions(): void {
    this.followSize();
    const bytes = encodeImageFrame(
      {
        width: this.width,
        height: this.height,
        scaleMin: 0,
        scaleMax: 0xffff,
        deviceIndex: this.deviceIndex,
        optionsSettings1: 0,
        optionsSettings2: 0,
        imageIndexStart: 0,
        imageIndexStop: 0,
      },
      new Uint8Array(0),
    );
    this.fanout.offer(bytes);
    this.emit('options');
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
