import type { CorrelationMode } from '../../protocol/domain.js';
import type { Packet } from '../../protocol/packet.js';
import { reportListenerError, SafeEmitter } from '../../transports/safe-emitter.js';
import type { PendingRequest, RequestFields, RequestSink } from '../correlation/pending.js';
import type { EventSink } from '../dispatch/dispatcher.js';
import { InstrumentState } from '../state/instrument-state.js';
import { EventHub, type ClientEvents } from './event-hub.js';
import type { EventStream } from './event-stream.js';
import type { EventSelector, WaitOptions } from './event-waiters.js';
import type { CommandRef } from './fields.js';
import { CameraHelper } from './helpers/camera.js';
import { IlluminationHelper, LedHelper } from './helpers/illumination.js';
import { LaserHelper } from './helpers/lasers.js';
import { StorageHelper } from './helpers/storage.js';
import { attachSemanticEvents } from '../state/semantic-events.js';
import { readSettings, saveSettings, type SaveSettingsOptions } from './helpers/settings.js';
import { RunGate } from './helpers/run-gate.js';
import { StageHelper } from './helpers/stage.js';
import { SystemHelper } from './helpers/system.js';
import { WorkflowHelper } from './helpers/workflow.js';
import { Link } from './link.js';
import { RequestPath } from './request-path.js';
import { Correlator } from './correlator.js';
import { openClientLive } from './live.js';
import type { LiveStream } from '../live/live-stream.js';
import { ClientStats } from './stats.js';
import type { ClientStatsSnapshot } from './stats.js';
import {
  resolveOptions,
  type ClientOptions,
  type EventStreamOptions,
  type ExclusiveTx,
  type LiveOptions,
  type RequestOptions,
  type ResolvedOptions,
  type SendOptions,
} from './options.js';

export type { ClientEvents, CorrelationMode };
export type { ClientOptions, EventSelector, EventStreamOptions, ExclusiveTx, LiveOptions, RequestOptions, SendOptions, WaitOptions };

/**
 * A connection to a Flamingo microscope (or the simulator): requests matched to their
 * replies, unsolicited events to listeners, domain helpers on top.
 *
 * ```ts
 * const client = await FlamingoClient.connect({ host: '127.0.0.1', port: 53717 });
 * const moved = await client.stage.moveTo(1, 5.0);
 * client.on('STAGE_MOTION_STOPPED', (packet) => console.log(packet.int32Data0, packet.value));
 * await client.close();
 * ```
 *
 * A facade (docs/ARCHITECTURE.md): options are resolved once (options.ts), the connection
 * and its reconnects are the `Link` (link.ts), correlation and the exclusive gate the
 * `Correlator` (correlator.ts), waiters and event streams the `EventHub` (event-hub.ts). One reader per
 * connection (the dispatcher); every request settles exactly once.
 */
export class FlamingoClient extends SafeEmitter<ClientEvents> {
  /** Stage moves and positions. */
  readonly stage = new StageHelper(this);
  /** Laser levels. */
  readonly lasers = new LaserHelper(this);
  /** System state. */
  readonly system = new SystemHelper(this);
  /** Workflow (acquisition) start, progress and stop. */
  readonly workflow = new WorkflowHelper(this);
  /** Camera: image size, pixel size, exposure, crop, live view, snapshot. */
  readonly camera = new CameraHelper(this);
  /** The transmitted-light LED. */
  readonly led = new LedHelper(this);
  /** Illumination paths and the preparation for live view. */
  readonly illumination = new IlluminationHelper(this);
  /** Storage drives. */
  readonly storage = new StorageHelper(this);
  /** Whether a workflow this client started runs (see {@link RequestOptions.duringRun}). */
  readonly runGate = new RunGate();
  /**
   * Mirror of the instrument kept by this connection's reader from every reply and event
   * (spec/state.md): `state.snapshot()`, `state.on('change', ...)`, `state.refresh()`.
   */
  readonly state: InstrumentState;

  private readonly options: ResolvedOptions;
  private readonly link: Link;
  private readonly correlator: Correlator;
  /**
   * The live statistics recorder behind {@link stats}: counters to read directly, and an
   * `observer` hook told every measurement (the gateway's /metrics uses it).
   */
  readonly statsRecorder = new ClientStats();
  private readonly hub: EventHub;
  private readonly path: RequestPath;
  private finished = false;
  private closePromise: Promise<void> | null = null;
  private closeEmitted = false;

  private constructor(options: ClientOptions) {
    super();
    this.options = resolveOptions(options);
    const stats = this.options.stats ? this.statsRecorder : null;
    this.hub = new EventHub(
      (error) => reportListenerError(this, error),
      stats === null
        ? undefined
        : () => {
            stats.counters.droppedEvents++;
          },
    );
    // refresh() runs its reads in one exclusive section; raw requests (a failure status is a
    // reply the pass records, not an exception).
    this.state = new InstrumentState({
      exclusive: (pass) => this.exclusive((tx) => pass(({ code, ...fields }) => tx.request(code, fields))),
    });
    const client = this;
    this.link = new Link(this.options, {
      emitter: this as unknown as EventSink,
      stats,
      mirror: this.state,
      get finished() {
        return client.finished;
      },
      correlate: (packet) => this.correlator.claim(packet),
      observe: this.hub.observe,
      onUp: () => this.correlator.drain(),
      onLost: (cause) => this.path.linkLost(cause),
      finish: (error) => {
        if (this.closePromise === null) this.closePromise = this.shutdown(error);
      },
      reportLater: (error) => reportListenerError(this, error),
    });
    this.correlator = new Correlator(
      this.options,
      this.link.wire(() => this.correlator.gateClosed),
      (error) => this.link.drop(error),
    );
    this.path = new RequestPath({
      options: this.options,
      link: this.link,
      correlator: this.correlator,
      runGate: this.runGate,
      hub: this.hub,
      finished: () => this.finished,
      reportLater: (error) => reportListenerError(this, error),
    });
    // Named events (spec/vocabulary.md "Events") derived from the mirror's changes.
    attachSemanticEvents(this.state, (name, value) => this.emit(name, value as never));
  }

  /**
   * Connect, and in `'auto'` mode probe which correlation the server supports.
   * Rejects with ConnectError (naming host:port) when the server cannot be reached.
   */
  static async connect(options: ClientOptions = {}): Promise<FlamingoClient> {
    const client = new FlamingoClient(options);
    client.state.setConnection('connecting');
    try {
      await client.link.open();
      if (client.options.mode === 'auto') await client.correlator.probe(client.path.open);
      client.state.setConnection('connected', client.mode);
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** The correlation mode in use (decided by the probe in `'auto'` mode). */
  get mode(): CorrelationMode {
    return this.correlator.mode;
  }

  /** True once the client is finished (closed, or the link was lost for good). */
  get isClosed(): boolean {
    return this.finished;
  }

  /** True while the link is up. */
  get isConnected(): boolean {
    return this.link.up;
  }

  /** The current transport's peer, e.g. `127.0.0.1:53717`. */
  get description(): string {
    return this.link.description;
  }

  /**
   * Counters (sent, replies, events, unmatched, timeouts, fences, resyncs, skipped bytes,
   * reconnects, dropped events) and latency summaries (round trip per command, time waited
   * for a turn) with p50/p95/p99/max, since connect or the last {@link resetStats}. All zero
   * when the client was made with `stats: false`.
   */
  stats(): ClientStatsSnapshot {
    return this.statsRecorder.snapshot();
  }

  /** Zero the counters and histograms of {@link stats}. */
  resetStats(): void {
    this.statsRecorder.reset();
  }

  /** Requests not yet settled (on the wire or waiting for their turn). */
  get pendingCount(): number {
    return this.path.open.size;
  }

  /**
   * Send a request (TRIGGER_CALL_BACK set) and resolve with its reply, whatever its status
   * (the raw layer; `expectOk` turns a status other than 1 into ProtocolError). Rejects with
   * TimeoutError (counted from the write), AbortError, ConnectionClosedError,
   * QueueTimeoutError/QueueFullError, or ArgumentError (nothing sent).
   */
  request(code: CommandRef, fields?: RequestFields, options: RequestOptions = {}): Promise<Packet> {
    return this.path.request(code, fields, options);
  }

  /**
   * Re-send a packet that was DECODED (by this package's deframer) as a request, for a
   * relay such as the gateway: its outcome goes to `sink` (written once on the wire, then
   * replied or failed; each synchronously and at most once; what the sink throws goes to
   * 'error' like a listener's) instead of a promise, and no options object,
   * closure or promise is made for it. `header` is its 128-byte header as it must go out:
   * the sequence fields 0, TRIGGER_CALL_BACK set, addDataBytes the payload's length (the
   * gateway's ReplySlab.forward). `tx`: the exclusive section it runs in, or null.
   * A refusal (closed client, a command never answered, a workflow running) reaches
   * `sink.failed` with the error `request()` would reject with, before this returns.
   * @returns the request, for identity in the sink's calls.
   */
  forward(packet: Packet, header: Uint8Array, sink: RequestSink, tx: ExclusiveTx | null = null): PendingRequest {
    return this.path.forward(packet, header, sink, tx);
  }

  /**
   * Send a packet without asking for a reply (no TRIGGER_CALL_BACK); resolves once written.
   * It is written at once, not queued behind requests waiting for their turn (so a
   * STAGE_HALT is not delayed); only an `exclusive()` section holds it back. Rejects with
   * AbortError (nothing written) when `options.signal` fires before the write begins.
   */
  send(code: CommandRef, fields?: RequestFields, options: SendOptions = {}): Promise<void> {
    return this.path.send(code, fields, options);
  }

  /**
   * The next event that matches `selector` (a code, a name, or a predicate). Armed before
   * this returns, so an event that arrives in the same chunk as the reply that caused it
   * is not missed. Rejects with TimeoutError, AbortError, or ConnectionClosedError.
   */
  waitFor(selector: EventSelector, options: WaitOptions = {}): Promise<Packet> {
    return this.hub.waitFor(selector, options);
  }

  /**
   * An async iterator over matching events (every event when no selector is given), with a
   * bounded buffer: when the consumer stalls, the oldest event is dropped and counted in
   * `stream.dropped`. Ends when the client closes or the loop breaks.
   */
  events(selector?: EventSelector, options: EventStreamOptions = {}): EventStream {
    return this.hub.events(selector, options);
  }

  /**
   * Hold the whole connection for `fn` (arm → move → wait sequences): nothing else is
   * written until `fn` settles; other callers wait their turn. Re-entrant: calls made from
   * inside `fn` (through `tx`, or through the client itself: `client.request`,
   * `client.stage.moveBy`, `client.state.refresh()`, a nested `exclusive`) run inside this
   * section instead of waiting for it to end (spec/exclusive.md). A throwing `fn` releases
   * the connection and rejects with its error. `close()` rejects every section, running or
   * queued, with ConnectionClosedError.
   */
  exclusive<T>(fn: (tx: ExclusiveTx) => Promise<T>): Promise<T> {
    return this.path.exclusive(fn);
  }

  /**
   * Open the live-image stream (the command port + 1 of the same host) as an async iterator
   * of frames with bounded buffering. A separate connection, opened on demand; live view
   * itself is switched with CAMERA_LIVE_VIEW_START / STOP. Close the stream when done.
   */
  live(options: LiveOptions = {}): Promise<LiveStream> {
    return openClientLive(this.options, options);
  }

  /**
   * The instrument's settings text: COMMON_SCOPE_SETTINGS_LOAD (0x1009), answered by a
   * 0x1007 packet with the text counted in addDataBytes or bare after it (both accepted).
   */
  settings(options: RequestOptions = {}): Promise<string> {
    return readSettings(this, options);
  }

  /**
   * Overwrite the instrument's settings file with `text` (COMMON_SCOPE_SETTINGS_SAVE,
   * 0x1008, the file as trailing payload), then read the settings back and resolve with
   * them. See {@link saveSettings}.
   */
  saveSettings(text: string | Uint8Array, options: SaveSettingsOptions = {}): Promise<string> {
    return saveSettings(this, text, options);
  }

  /**
   * Close: every pending request and waiter rejects with ConnectionClosedError, event
   * streams end, and the promise resolves once the connection is closed. Idempotent;
   * `'close'` is emitted once.
   */
  close(): Promise<void> {
    if (this.closePromise === null) this.closePromise = this.shutdown(undefined);
    return this.closePromise;
  }

  // ---- internals ----

  private async shutdown(error: Error | undefined): Promise<void> {
    this.finished = true;
    const transport = this.link.stop();
    this.path.close(error);
    this.correlator.close(error);
    this.hub.end(error);
    this.correlator.openGate();
    if (transport !== null) await transport.close();
    if (!this.closeEmitted) {
      this.closeEmitted = true;
      this.state.setConnection('closed');
      this.emit('close', error);
    }
  }
}
