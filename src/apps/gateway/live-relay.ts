import { SafeEmitter } from '../../../transports/safe-emitter.js';
import { Deframer } from '../../../protocol/deframer.js';
import { encodeImageFrame, FrameDeframer } from '../../../protocol/image.js';
import type { ImageFrame } from '../../../protocol/image.js';
import { connectTcp } from '../../../transports/tcp.js';
import { listenGatewayPort, type GatewayTlsOptions } from './tls.js';
import type { TcpListener } from '../../../transports/tcp.js';
import type { Transport } from '../../../transports/transport.js';
import { FrameFanout } from '../../../transports/frame-fanout.js';
import type { FrameViewer } from '../../../transports/frame-fanout.js';
import { helloCarriesToken } from './access.js';

/** Options of {@link LiveRelay}. */
export interface LiveRelayOptions {
  /** The instrument's live-image port. */
  upstreamHost: string;
  upstreamPort: number;
  /** Token bytes a viewer must send in a GATEWAY_HELLO packet first, or null. */
  token: Uint8Array | null;
  /** Frames one viewer may have waiting (default 2); older ones are dropped. */
  maxQueuedFrames?: number;
  connectTimeoutMs?: number;
  helloTimeoutMs?: number;
  /** Serve viewers over TLS (the gateway's certificate). */
  tls?: GatewayTlsOptions;
}

/** Events of {@link LiveRelay}. */
export interface LiveRelayEvents {
  /** Human-readable log lines (viewer joined/left, upstream stream opened/ended). */
  log: [line: string];
  /** A viewer was refused (no or wrong token). */
  rejected: [description: string];
  /** A frame went out to the viewers; the number is the relay's own count (the header carries none), and the frame (the dashboard keeps the latest). */
  frame: [frameNumber: number, frame: ImageFrame];
  /** An options-only header (image size 0) went out to the viewers. */
  options: [];
}

/**
 * The gateway's live-image port: connects to the instrument's live-image port when the
 * first viewer arrives (the GUI may hold that port, so never before), relays every frame
 * to each viewer through the shared bounded fan-out (a slow viewer drops old frames, the
 * others are not held back), and disconnects from the instrument when the last viewer
 * leaves. When the instrument's stream ends, the viewers are disconnected too: each frame
 * stream is unframed, so a viewer cannot be resumed in the middle of one. An options-only
 * header (image size 0) is relayed like a frame, in its place, and ends nothing.
 */
export class LiveRelay extends SafeEmitter<LiveRelayEvents> {
  private readonly options: LiveRelayOptions;
  private readonly fanout: FrameFanout;
  private readonly viewerOf = new Map<Transport, FrameViewer>();
  private listener: TcpListener | null = null;
  private upstream: Transport | null = null;
  private connecting = false;
  private closed = false;
  /** Frames relayed so far (pictures only). */
  frames = 0;
  /** Options-only headers relayed so far. */
  optionsHeaders = 0;

  constructor(options: LiveRelayOptions) {
    super();
    this.options = options;
    this.fanout = new FrameFanout(options.maxQueuedFrames ?? 2);
  }

  /** Port listened on, once listening. */
  get port(): number | undefined {
    return this.listener?.port;
  }

  /** Viewers receiving frames now. */
  get viewers(): readonly FrameViewer[] {
    return this.fanout.viewers;
  }

  /** True while connected to the instrument's live-image port. */
  get relaying(): boolean {
    return this.upstream !== null;
  }

  async listen(host: string, port: number): Promise<number> {
    this.listener = await listenGatewayPort({ host, port }, this.options.tls, (transport) => this.accept(transport));
    return this.listener.port;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.upstream?.destroy();
    this.upstream = null;
    this.fanout.destroyAll();
    this.viewerOf.clear();
    const listener = this.listener;
    this.listener = null;
    if (listener !== null) await listener.close();
  }

  /** A viewer connected: with a token, it first has to introduce itself with GATEWAY_HELLO. */
  private accept(transport: Transport): void {
    if (this.closed) {
      transport.destroy();
      return;
    }
    const token = this.options.token;
    if (token === null) {
      transport.attach({ data: () => {}, close: () => this.viewerGone(transport) });
      this.addViewer(transport);
      return;
    }
    let decided = false;
    const refuse = (why: string) => {
      if (decided) return;
      decided = true;
      clearTimeout(timer);
      this.emit('rejected', transport.description);
      this.emit('log', `live viewer ${transport.description} refused: ${why}`);
      transport.destroy();
    };
    const timer = setTimeout(() => refuse('no GATEWAY_HELLO in time'), this.options.helloTimeoutMs ?? 5000);
    const hello = new Deframer({ maxPayloadBytes: 0, onError: () => refuse('the hello claimed a payload') });
    transport.attach({
      data: (chunk) => {
        if (decided) return; // after the hello, whatever a viewer sends is ignored
        const packet = hello.push(chunk)[0];
        if (packet === undefined) {
          if (hello.skippedBytes > 0) refuse('first bytes were not a GATEWAY_HELLO packet');
          return;
        }
        if (!helloCarriesToken(packet, token)) {
          refuse('wrong token');
          return;
        }
        decided = true;
        clearTimeout(timer);
        this.addViewer(transport);
      },
      close: () => {
        if (!decided) {
          decided = true;
          clearTimeout(timer);
        }
        this.viewerGone(transport);
      },
    });
  }

  private addViewer(transport: Transport): void {
    if (transport.isClosed || this.closed) return;
    this.viewerOf.set(transport, this.fanout.add(transport));
    this.emit('log', `live viewer ${transport.description} joined (${this.fanout.size} watching)`);
    this.ensureUpstream();
  }

  private viewerGone(transport: Transport): void {
    const viewer = this.viewerOf.get(transport);
    if (viewer === undefined) return;
    this.viewerOf.delete(transport);
    this.fanout.remove(viewer);
    this.emit('log', `live viewer ${transport.description} left (${viewer.framesSent} frames, ${viewer.framesDropped} dropped)`);
    if (this.fanout.size === 0 && this.upstream !== null) {
      const upstream = this.upstream;
      this.upstream = null;
      upstream.destroy();
      this.emit('log', 'no viewers left: instrument live stream closed');
    }
  }

  private ensureUpstream(): void {
    if (this.upstream !== null || this.connecting || this.closed) return;
    this.connecting = true;
    const { upstreamHost: host, upstreamPort: port } = this.options;
    connectTcp({ host, port, connectTimeoutMs: this.options.connectTimeoutMs ?? 2000 }).then(
      (transport) => {
        this.connecting = false;
        if (this.closed || this.fanout.size === 0) {
          transport.destroy();
          return;
        }
        this.upstream = transport;
        this.emit('log', `instrument live stream ${host}:${port} opened`);
        const deframer = new FrameDeframer();
        transport.attach({
          data: (chunk) => {
            let frames: ImageFrame[];
            try {
              frames = deframer.push(chunk);
            } catch (error) {
              transport.destroy(error as Error);
              return;
            }
            for (const frame of frames) this.relay(frame);
            if (deframer.failure !== null) transport.destroy(deframer.failure);
          },
          close: (error) => this.upstreamEnded(transport, error),
        });
      },
      (error: unknown) => {
        this.connecting = false;
        this.emit('log', `instrument live stream unavailable: ${(error as Error).message}; viewers disconnected`);
        this.fanout.destroyAll();
        this.viewerOf.clear();
      },
    );
  }

  private relay(frame: ImageFrame): void {
    // One encoding shared by every viewer (the fan-out never writes into it).
    this.fanout.offer(encodeImageFrame(frame.header, frame.pixels));
    if (frame.pixels.length === 0) {
      this.optionsHeaders++;
      this.emit('options');
      return;
    }
    this.frames++;
    this.emit('frame', this.frames, frame);
  }

  private upstreamEnded(transport: Transport, error: Error | undefined): void {
    if (this.upstream !== transport) return; // closed on purpose (no viewers left, or close())
    this.upstream = null;
    this.emit('log', `instrument live stream ended${error ? `: ${error.message}` : ''}; viewers disconnected`);
    this.fanout.destroyAll();
    this.viewerOf.clear();
  }
}
