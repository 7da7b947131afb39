import createDebug from 'debug';
import type { FrameError } from '../../protocol/errors.js';
import type { PacketInit } from '../../protocol/packet.js';
import { connectTcp } from '../../transports/tcp.js';
import type { Transport } from '../../transports/transport.js';
import { Claim, type Match } from '../correlation/claim.js';
import type { PendingRequest } from '../correlation/pending.js';
import type { Wire, WriteResult } from '../correlation/wire.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import type { EventSink } from '../dispatch/dispatcher.js';
import { ConnectionClosedError } from '../errors.js';
import type { InstrumentState } from '../state/instrument-state.js';
import type { Packet } from '../../protocol/packet.js';
import type { ResolvedOptions } from './options.js';
import { backoffDelay } from './reconnect.js';
import type { ClientStats } from './stats.js';
import { PacketWriter } from './upload.js';
import type { UploadProgressListener, WriteOwner } from './upload.js';

/** Routing log of the link's life (`DEBUG=flamingo:client`); every call is guarded by `enabled`. */
const log = createDebug('flamingo:client');

/** How long a written request waited for its turn (0 when it was written in the tick it was made). */
function turnWait(request: PendingRequest): number {
  return request.queuedAt === 0 ? 0 : request.writtenAt - request.queuedAt;
}

/** What a {@link Link} needs of the client that owns it. */
export interface LinkHost {
  /** Where counters and latencies go, or null when the client keeps no statistics. */
  readonly stats: ClientStats | null;
  /** Where the dispatcher emits events (the client, so listeners survive reconnects). */
  readonly emitter: EventSink;
  readonly mirror: InstrumentState;
  readonly finished: boolean;
  correlate(packet: Packet): Match;
  observe(packet: Packet): void;
  /** The link is up (first connect or reconnect): waiting requests may be written. */
  onUp(): void;
  /** The link was lost: settle what it carried ('disconnect' is emitted next; reconnect or finish follows). */
  onLost(cause: Error): void;
  /** No reconnect (off, or given up): the client is finished with `error`. */
  finish(error: Error | undefined): void;
  /** An error nobody awaits (a failed refresh, a throwing progress listener). */
  reportLater(error: unknown): void;
}

/**
 * The client's connection: opens the transport (TCP, a given transport, or a factory),
 * runs the one reader (Dispatcher) and the packet writer on it, and after a loss
 * reconnects with backoff when the policy says so. One link object for the client's life;
 * the transport under it is replaced on each reconnect.
 */
export class Link {
  private dispatcher: Dispatcher | null = null;
  /** Writes the current transport's packets whole, payloads in chunks (replaced with it). */
  private writer: PacketWriter | null = null;
  private linkUp = false;
  private usedTransport = false;
  private upWaiters: ((up: boolean) => void)[] = [];
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private refreshRunning = false;
  private refreshAgain = false;
  /**
   * The transport last lost, until the next one opens. A TCP peer's FIN closes the
   * transport before its socket is released, so close() still waits for it: "resolves
   * once the connection is closed" holds after a loss too.
   */
  private lostTransport: Transport | null = null;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly host: LinkHost,
  ) {}

  /** True while a transport is connected and read. */
  get up(): boolean {
    return this.linkUp;
  }

  /** The current transport's peer, e.g. `127.0.0.1:53717`. */
  get description(): string {
    return this.dispatcher?.transport.description ?? 'not connected';
  }

  /** Write a header and its payload whole on the current transport; `sent` is told to the mirror just before. */
  write(bytes: Uint8Array, sent?: PacketInit, payload?: Uint8Array, onProgress?: UploadProgressListener, owner?: WriteOwner): WriteResult {
    const writer = this.writer;
    if (writer === null || this.dispatcher === null || !this.linkUp) return Promise.reject(new ConnectionClosedError('the connection is down', false));
    this.host.stats?.noteSent(sent?.code ?? 0);
    return writer.write(bytes, sent, payload, onProgress, owner);
  }

  /** The wire correlation writes through: the current transport, behind the exclusive gate `gateClosed` reports. */
  wire(gateClosed: () => boolean): Wire {
    const link = this;
    const stats = this.host.stats;
    return {
      get up() {
        return link.linkUp;
      },
      get gateClosed() {
        return gateClosed();
      },
      write: (bytes, request) =>
        request === undefined ? this.write(bytes) : this.write(bytes, request.init, request.payload, request.onUploadProgress, request),
      ...(stats === null
        ? {}
        : {
            timedOut: (request: PendingRequest) => {
              stats.counters.timeouts++;
              stats.recordTurnWait(turnWait(request));
            },
            fenced: () => {
              stats.counters.fences++;
            },
          }),
      whenUp: () => this.whenUp(),
    };
  }

  /** Resolves true when the link is up (at once if it is), false when the client is finished. */
  whenUp(): Promise<boolean> {
    if (this.linkUp) return Promise.resolve(true);
    if (this.host.finished) return Promise.resolve(false);
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  /** Connect a transport and start reading it. */
  async open(): Promise<void> {
    const transport = await this.createTransport();
    if (this.host.finished) {
      transport.destroy();
      throw new ConnectionClosedError('the client was closed while connecting', false);
    }
    if (transport.isClosed) throw new ConnectionClosedError(`${transport.description} is already closed`, false);
    const host = this.host;
    const stats = host.stats;
    const dispatcher: Dispatcher = new Dispatcher(transport, {
      emitter: host.emitter,
      correlate:
        stats === null
          ? (packet) => host.correlate(packet)
          : (packet) => {
              const claim = host.correlate(packet);
              if (claim === Claim.None) stats.counters.events++;
              else if (claim === Claim.Unmatched) stats.counters.unmatched++;
              return claim;
            },
      ...(stats === null
        ? {}
        : {
            // Once per chunk that completed a packet, not per packet: a clock read costs more than the rest.
            // The dispatcher resolves the request right after this: its round trip ends here.
            // One clock read per reply; the turn wait comes from reads correlation made anyway.
            onReply: (_packet: Packet, request: PendingRequest) => {
              if (request.writtenAt > 0) {
                stats.recordTurnWait(turnWait(request));
                stats.recordRoundTrip(request.code, performance.now() - request.writtenAt);
              }
            },
            onPackets: () => stats.notePacket(),
            onResync: (info: { skippedBytes: number }) => {
              stats.counters.resyncs++;
              stats.counters.skippedBytes += info.skippedBytes;
            },
          }),
      observe: (packet) => host.observe(packet),
      onClose: (error) => this.closed(dispatcher, error),
      onFrameError: (error: FrameError) => this.drop(error, dispatcher),
      mirror: host.mirror,
      ...(this.options.maxPayloadBytes !== undefined ? { maxPayloadBytes: this.options.maxPayloadBytes } : {}),
    });
    this.dispatcher = dispatcher;
    this.lostTransport = null;
    this.writer = new PacketWriter(transport, {
      chunkBytes: this.options.uploadChunkBytes,
      beforeWrite: (sent) => {
        host.mirror.noteRequestSent(sent);
      },
      onListenerError: (error) => host.reportLater(error),
    });
    this.linkUp = true;
    if (log.enabled) log('connected to %s', transport.description);
    dispatcher.start();
    if (!this.linkUp) return; // closed while delivering early bytes
    this.wakeUpWaiters(true);
    host.onUp();
  }

  /**
   * Drop the current transport (unresponsive server, framing error); reconnect or finish
   * follows. With `only`, nothing happens unless that dispatcher is still the current one.
   */
  drop(error: Error, only?: Dispatcher): void {
    const dispatcher = this.dispatcher;
    if (dispatcher === null || (only !== undefined && dispatcher !== only)) return;
    if (only === undefined) this.host.emitter.emit('error', error);
    dispatcher.transport.destroy(error);
  }

  /**
   * The client is finished: no more reconnects, `whenUp` waiters get false. Returns the
   * transport still open, for the caller to close once it has settled what it carried.
   */
  stop(): Transport | null {
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const dispatcher = this.dispatcher;
    this.linkUp = false;
    this.dispatcher = null;
    this.wakeUpWaiters(false);
    const lost = this.lostTransport;
    this.lostTransport = null;
    return dispatcher?.transport ?? lost;
  }

  private wakeUpWaiters(up: boolean): void {
    const waiters = this.upWaiters;
    this.upWaiters = [];
    for (const w of waiters) w(up);
  }

  private async createTransport(): Promise<Transport> {
    const given = this.options.transport;
    if (typeof given === 'function') return given();
    if (given !== undefined) {
      if (this.usedTransport) throw new ConnectionClosedError('a transport object cannot be reopened; pass a factory to reconnect', false);
      this.usedTransport = true;
      return given;
    }
    return connectTcp({ host: this.options.host, port: this.options.port, connectTimeoutMs: this.options.connectTimeoutMs });
  }

  private closed(dispatcher: Dispatcher, error: Error | undefined): void {
    if (this.dispatcher !== dispatcher || this.host.finished) return;
    this.dispatcher = null;
    this.linkUp = false;
    this.lostTransport = dispatcher.transport;
    const cause = error ?? new Error(`${dispatcher.transport.description} closed the connection`);
    if (log.enabled) log('link to %s lost: %s', dispatcher.transport.description, cause.message);
    // Packets still waiting behind an upload are given up unwritten: requests among them
    // never left the client (maybeExecuted: false) and, when queuing, wait for the next link.
    this.writer?.abandon();
    this.writer = null;
    this.host.onLost(cause);
    this.host.emitter.emit('disconnect', { error });
    if (this.options.reconnect === null) {
      this.host.finish(error);
    } else {
      this.host.mirror.setConnection('reconnecting');
      this.attempt = 0;
      this.scheduleReconnect(cause);
    }
  }

  private scheduleReconnect(cause: Error): void {
    const policy = this.options.reconnect;
    if (policy === null || this.host.finished) return;
    this.attempt++;
    if (this.attempt > policy.maxAttempts) {
      this.host.finish(new ConnectionClosedError(`gave up reconnecting after ${policy.maxAttempts} attempts`, false, { cause }));
      return;
    }
    const attempt = this.attempt;
    const delayMs = backoffDelay(policy, attempt);
    if (log.enabled) log('reconnect attempt %d in %d ms', attempt, delayMs);
    this.host.emitter.emit('reconnecting', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.host.finished) return;
      this.open().then(
        () => {
          if (!this.linkUp) return; // lost again at once; closed() scheduled the next attempt
          this.attempt = 0;
          if (this.host.stats !== null) this.host.stats.counters.reconnects++;
          if (log.enabled) log('reconnected to %s after %d attempt(s)', this.description, attempt);
          this.host.mirror.setConnection('connected');
          this.host.emitter.emit('reconnected', { attempt });
          // Values seen before the loss are only "last known": re-read them.
          this.refreshAfterReconnect();
        },
        (error: unknown) => this.scheduleReconnect(error as Error),
      );
    }, delayMs);
  }

  /**
   * One refresh pass at a time, and at most one more queued behind it. Starting a pass per
   * reconnect queued passes without bound when the link kept dropping before one could
   * finish (test/regressions/regressions-reconnect.test.ts).
   */
  private refreshAfterReconnect(): void {
    if (this.refreshRunning) {
      this.refreshAgain = true;
      return;
    }
    this.refreshRunning = true;
    const done = (): void => {
      this.refreshRunning = false;
      if (this.refreshAgain && !this.host.finished) {
        this.refreshAgain = false;
        this.refreshAfterReconnect();
      }
    };
    this.host.mirror.refresh().then(done, (error: unknown) => {
      if (!(error instanceof ConnectionClosedError)) this.host.reportLater(error);
      done();
    });
  }
}
