import createDebug from 'debug';
import { encodePacket } from '../../protocol/codec.js';
import { currentSection, runInSection, SectionRegistry } from './exclusive-sections.js';
import { LIVE_OPTIONS_SCHEMA } from './options-schema.js';
import { validateOptions } from '../options-schema.js';
import { commandName } from '../../protocol/commands.js';
import { LIVE_PORT_OFFSET } from '../../protocol/constants.js';
import type { CorrelationMode } from '../../protocol/domain.js';
import type { Packet } from '../../protocol/packet.js';
import { reportListenerError, SafeEmitter } from '../../transports/safe-emitter.js';
import type { PendingRequest } from '../correlation/pending.js';
import type { RequestFields } from '../correlation/pending.js';
import type { EventSink } from '../dispatch/dispatcher.js';
import { AbortError, ArgumentError, ConnectionClosedError } from '../errors.js';
import { openLiveStream } from '../live/live-stream.js';
import type { LiveStream } from '../live/live-stream.js';
import { InstrumentState } from '../state/instrument-state.js';
import { Correlator, type Entry } from './correlator.js';
import { EventHub, type ClientEvents } from './event-hub.js';
import type { EventStream } from './event-stream.js';
import type { EventSelector, WaitOptions } from './event-waiters.js';
import { checkFields, resolveCode } from './fields.js';
import { checkRequest, newRequest, rejectAll } from './requests.js';
import type { CommandRef } from './fields.js';
import { CameraHelper } from './helpers/camera.js';
import { IlluminationHelper, LedHelper } from './helpers/illumination.js';
import { LaserHelper } from './helpers/lasers.js';
import { StorageHelper } from './helpers/storage.js';
import { attachSemanticEvents } from '../state/semantic-events.js';
import { readSettings, saveSettings } from './helpers/settings.js';
import type { SaveSettingsOptions } from './helpers/settings.js';
import { RunGate } from './helpers/run-gate.js';
import { StageHelper } from './helpers/stage.js';
import { SystemHelper } from './helpers/system.js';
import { WorkflowHelper } from './helpers/workflow.js';
import { Link } from './link.js';
import { ClientStats } from './stats.js';
import type { ClientStatsSnapshot } from './stats.js';
import { resolveOptions, type ClientOptions, type EventStreamOptions, type ExclusiveTx, type LiveOptions, type RequestOptions, type ResolvedOptions, type SendOptions } from './options.js';

export type { ClientEvents, CorrelationMode };

/** Routing log of what goes on the wire (`DEBUG=flamingo:wire`); guarded by `enabled`. */
const wireLog = createDebug('flamingo:wire');
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
 * and its reconnects are the {@link Link}, correlation and the exclusive gate the
 * {@link Correlator}, waiters and event streams the {@link EventHub}. One reader per
 * connection (the dispatcher); every request settles exactly once.
 */
export class FlamingoClient extends SafeEmitter<ClientEvents> {
  /** Stage moves and positions. */
  readonly stage: StageHelper;
  /** Laser levels. */
  readonly lasers: LaserHelper;
  /** System state. */
  readonly system: SystemHelper;
  /** Workflow (acquisition) start, progress and stop. */
  readonly workflow: WorkflowHelper;
  /** Camera: image size, pixel size, exposure, crop, live view, snapshot. */
  readonly camera: CameraHelper;
  /** The transmitted-light LED. */
  readonly led: LedHelper;
  /** Illumination paths and the preparation for live view. */
  readonly illumination: IlluminationHelper;
  /** Storage drives. */
  readonly storage: StorageHelper;
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
  private readonly open = new Set<PendingRequest>();
  private finished = false;
  private closePromise: Promise<void> | null = null;
  private closeEmitted = false;
  /** Sections waiting or running; close() rejects them all. */
  private readonly sections = new SectionRegistry();

  private constructor(options: ClientOptions) {
    super();
    this.options = resolveOptions(options);
    const stats = this.options.stats ? this.statsRecorder : null;
    this.hub = new EventHub(
      (error) => this.reportLater(error),
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
      emitter: this as unknown as EventSink & { emit(event: 'reconnecting', info: { attempt: number; delayMs: number }): boolean },
      stats,
      mirror: this.state,
      get finished() {
        return client.finished;
      },
      correlate: (packet) => this.correlator.claim(packet),
      observe: this.hub.observe,
      onUp: () => this.correlator.drain(),
      onLost: (cause, error) => {
        const keepQueued = this.options.reconnect?.whileDown === 'queue';
        this.correlator.linkLost(cause, keepQueued);
        if (!keepQueued) this.rejectOpen(cause);
        this.emit('disconnect', { error });
      },
      onReconnected: (attempt) => {
        this.state.setConnection('connected');
        this.emit('reconnected', { attempt });
      },
      finish: (error) => {
        if (this.closePromise === null) this.closePromise = this.shutdown(error);
      },
      reportLater: (error) => this.reportLater(error),
    });
    this.correlator = new Correlator(this.options, this.link.wire(() => this.correlator.gateClosed), (error) => this.link.drop(error));
    this.stage = new StageHelper(this);
    this.lasers = new LaserHelper(this);
    this.system = new SystemHelper(this);
    this.workflow = new WorkflowHelper(this);
    this.camera = new CameraHelper(this);
    this.led = new LedHelper(this);
    this.illumination = new IlluminationHelper(this);
    this.storage = new StorageHelper(this);
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
      if (client.options.mode === 'auto') await client.correlator.probe(client.open);
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
    return this.open.size;
  }

  /**
   * Send a request (TRIGGER_CALL_BACK set) and resolve with its reply, whatever its status
   * (the raw layer; `expectOk` turns a status other than 1 into ProtocolError). Rejects with
   * TimeoutError (counted from the write), AbortError, ConnectionClosedError,
   * QueueTimeoutError/QueueFullError, or ArgumentError (nothing sent).
   */
  request(code: CommandRef, fields?: RequestFields, options: RequestOptions = {}): Promise<Packet> {
    const holding = this.correlator.gateClosed ? currentSection<ExclusiveTx>(this) : undefined;
    if (holding !== undefined) return holding.tx.request(code, fields, options);
    return this.makeRequest(code, fields, options, null);
  }

  /**
   * Send a packet without asking for a reply (no TRIGGER_CALL_BACK); resolves once written.
   * It is written at once, not queued behind requests waiting for their turn (so a
   * STAGE_HALT is not delayed); only an `exclusive()` section holds it back.
   */
  async send(code: CommandRef, fields?: RequestFields, options: SendOptions = {}): Promise<void> {
    const holding = this.correlator.gateClosed ? currentSection<ExclusiveTx>(this) : undefined;
    if (holding !== undefined) return holding.tx.send(code, fields, options);
    await this.sendPacket(code, fields, options, false);
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
    if (this.finished) return Promise.reject(new ConnectionClosedError('the client is closed', false));
    // Called from inside one of this client's sections (a helper that opens its own, or
    // state.refresh()): the link is held already, so run in it instead of queuing behind it.
    const holding = this.correlator.gateClosed ? currentSection<ExclusiveTx>(this) : undefined;
    if (holding !== undefined) {
      try {
        return Promise.resolve(fn(holding.tx));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return this.sections.track((cancelled) =>
      this.correlator.exclusive(async (entry) => {
        if (cancelled() || this.finished) throw new ConnectionClosedError('the client was closed before the exclusive section began', false);
        let active = true;
        const tx: ExclusiveTx = {
          request: (code, fields, options = {}) => (active ? this.makeRequest(code, fields, options, entry) : this.request(code, fields, options)),
          send: (code, fields, options = {}) => this.sendPacket(code, fields, options, active),
          waitFor: (selector, options) => this.waitFor(selector, options),
        };
        try {
          return await runInSection({ owner: this, tx, active: () => active }, () => fn(tx));
        } finally {
          active = false;
        }
      }),
    );
  }

  /**
   * Open the live-image stream (the command port + 1 of the same host) as an async iterator
   * of frames with bounded buffering. A separate connection, opened on demand; live view
   * itself is switched with CAMERA_LIVE_VIEW_START / STOP. Close the stream when done.
   */
  live(options: LiveOptions = {}): Promise<LiveStream> {
    try {
      validateOptions(LIVE_OPTIONS_SCHEMA, options, 'live()');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const port = options.port ?? (this.options.transport === undefined ? this.options.port + LIVE_PORT_OFFSET : undefined);
    if (port === undefined) return Promise.reject(new ArgumentError('live(): a client on a custom transport needs an explicit live-image port'));
    return openLiveStream({
      host: this.options.host,
      port,
      ...(options.maxBuffered !== undefined ? { maxBuffered: options.maxBuffered } : {}),
      connectTimeoutMs: options.connectTimeoutMs ?? this.options.connectTimeoutMs,
    });
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

  private makeRequest(command: CommandRef, fields: RequestFields | undefined, options: RequestOptions, entry: Entry): Promise<Packet> {
    const context = { mode: this.mode, sequenceField: this.correlator.sequenceField, requestTimeoutMs: this.options.requestTimeoutMs, insideExclusive: entry !== null };
    let code: number;
    let name: string;
    try {
      ({ code, name } = checkRequest(command, fields, options, context));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.finished) return Promise.reject(new ConnectionClosedError(`${name} was not sent: the client is closed`, false, { command: name }));
    if (!this.link.up && this.options.reconnect?.whileDown !== 'queue') {
      return Promise.reject(new ConnectionClosedError(`${name} was not sent: the connection is down`, false, { command: name }));
    }
    if (options.signal?.aborted) return Promise.reject(new AbortError(name, { cause: options.signal.reason }));
    const held = this.runGate.hold(code, options.duringRun ?? 'fail');
    if (held !== undefined) return held.then(() => this.makeRequest(command, fields, options, entry));
    const request = newRequest(code, name, fields, options, context);
    request.registry = this.open;
    this.open.add(request);
    this.correlator.submit(request, entry);
    return request.promise;
  }

  private async sendPacket(command: CommandRef, fields: RequestFields | undefined, options: SendOptions, inside: boolean): Promise<void> {
    const code = resolveCode(command);
    checkFields(code, fields);
    if (options.payload !== undefined && !(options.payload instanceof Uint8Array)) throw new ArgumentError('payload must be a Uint8Array', commandName(code));
    // Header only (announcing the payload's length): the writer sends the payload after it in chunks.
    const bytes = encodePacket(options.payload !== undefined ? { ...fields, code, addDataBytes: options.payload.length } : { ...fields, code });
    const sent = { ...fields, code };
    while (!inside && this.correlator.gateClosed && !this.finished) await this.correlator.gateOpened();
    if (this.finished || !this.link.up) {
      const why = this.finished ? 'closed' : 'down';
      throw new ConnectionClosedError(`${commandName(code)} was not sent: the connection is ${why}`, false, { command: commandName(code) });
    }
    if (wireLog.enabled) wireLog('send %s (0x%s) without asking for a reply, %d payload bytes', commandName(code), code.toString(16), options.payload?.length ?? 0);
    this.correlator.noteSent(code, fields?.cmdDataBits0 ?? 0);
    try {
      await this.link.write(bytes, sent, options.payload, options.onUploadProgress);
    } catch (error) {
      throw new ConnectionClosedError(`${commandName(code)} could not be written`, false, { command: commandName(code), cause: error });
    }
  }

  private reportLater(error: unknown): void {
    reportListenerError(this, error);
  }

  private rejectOpen(cause: Error | undefined): void {
    rejectAll(this.open, cause);
  }

  private async shutdown(error: Error | undefined): Promise<void> {
    this.finished = true;
    const transport = this.link.stop();
    this.rejectOpen(error);
    this.sections.rejectAll(() => new ConnectionClosedError('the client was closed', false, { cause: error }));
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
