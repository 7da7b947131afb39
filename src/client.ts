import PQueue from 'p-queue';
import { encodePacket } from '../protocol/codec.js';
import { Command, commandName, commandSpec } from '../protocol/commands.js';
import { DEFAULT_PORT, LIVE_PORT_OFFSET } from '../protocol/constants.js';
import type { FrameError } from '../protocol/errors.js';
import type { Packet, PacketInit, SequenceField } from '../protocol/packet.js';
import { connectTcp } from '../transports/tcp.js';
import type { Transport } from '../transports/transport.js';
import { Lease } from './correlation/lease.js';
import { PendingRequest } from './correlation/pending.js';
import type { RequestFields } from './correlation/pending.js';
import { Sequencer } from './correlation/sequencer.js';
import type { Wire } from './correlation/wire.js';
import { Claim, Dispatcher } from './dispatcher.js';
import type { DispatcherEvents, EventSink } from './dispatcher.js';
import { AbortError, ArgumentError, ConnectionClosedError, TimeoutError } from './errors.js';
import { EventStream } from './event-stream.js';
import { EventWaiters, selectEvents } from './event-waiters.js';
import type { EventSelector, SelectedEvents, WaitOptions } from './event-waiters.js';
import { checkFields, checkTimeout, resolveCode } from './fields.js';
import type { CommandRef } from './fields.js';
import { CameraHelper } from './helpers/camera.js';
import { IlluminationHelper, LedHelper } from './helpers/illumination.js';
import { LaserHelper } from './helpers/lasers.js';
import { StorageHelper } from './helpers/storage.js';
import { attachSemanticEvents, type SemanticEvents } from './state/semantic-events.js';
import { readSettings } from './helpers/settings.js';
import { openLiveStream } from './live/live-stream.js';
import type { LiveStream } from './live/live-stream.js';
import { StageHelper } from './helpers/stage.js';
import { SystemHelper } from './helpers/system.js';
import { WorkflowHelper } from './helpers/workflow.js';
import { backoffDelay, reconnectPolicy } from './reconnect.js';
import type { ReconnectOptions, ReconnectPolicy } from './reconnect.js';
import { SafeEmitter } from './safe-emitter.js';
import { InstrumentState } from './state/instrument-state.js';
import { DEFAULT_UPLOAD_CHUNK_BYTES, PacketWriter } from './upload.js';
import type { UploadProgressListener, WriteOwner } from './upload.js';

/** How replies are told apart: echoed sequence numbers, or one request at a time. */
export type CorrelationMode = 'sequenced' | 'lease';

/** Options of {@link FlamingoClient.connect}. */
export interface ClientOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Command port, default 53717. */
  port?: number;
  /**
   * `'auto'` (default) probes once with a SYSTEM_STATE_GET stamped with a sequence and
   * picks `'sequenced'` when the reply echoes it, else `'lease'` (also when no reply comes
   * within `probeTimeoutMs`). Published firmware echoes nothing: it gets `'lease'`.
   */
  mode?: 'auto' | CorrelationMode;
  /** Reply timeout of each request, counted from when it is written (default 5000). */
  requestTimeoutMs?: number;
  /** TCP connect timeout (default 2000). */
  connectTimeoutMs?: number;
  /** Header field carrying the sequence in sequenced mode (default 'clientId'). */
  sequenceField?: SequenceField;
  /** Sequenced mode: requests on the wire at once (default 32). */
  maxInFlight?: number;
  /** Requests that may wait for their turn (default 10000); more fail with QueueFullError. */
  maxQueued?: number;
  /** How long a request may wait for its turn before QueueTimeoutError (default 30000). */
  queueTimeoutMs?: number;
  /** Reply timeout of the auto-mode probe (default: requestTimeoutMs). */
  probeTimeoutMs?: number;
  /** Reconnect after a lost link (off by default); `true` takes every default. */
  reconnect?: ReconnectOptions | boolean;
  /**
   * A ready transport (e.g. one end of `createMemoryPair()`), or a factory called for each
   * (re)connection. When absent, the client connects over TCP to host:port.
   */
  transport?: Transport | (() => Transport | Promise<Transport>);
  /** Largest trailing payload accepted from the server (default 64 MiB). */
  maxPayloadBytes?: number;
  /** Payload bytes per transport write when uploading (default 64 KiB); replies and events keep flowing between chunks. */
  uploadChunkBytes?: number;
}

/** Options of {@link FlamingoClient.request}. */
export interface RequestOptions {
  /** Reply timeout, from the moment the request is written (default: requestTimeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Trailing payload sent after the 128-byte header (its length goes into addDataBytes). */
  payload?: Uint8Array;
  /** Reject with ProtocolError when the reply's status is not 1 (default false: raw). */
  expectOk?: boolean;
  /**
   * Told `{ sent, total }` (payload bytes) after each chunk of `payload` is accepted by the
   * transport; the last call has sent === total. The request's reply timeout starts after it.
   */
  onUploadProgress?: UploadProgressListener;
}

/** Options of {@link FlamingoClient.send}. */
export interface SendOptions {
  payload?: Uint8Array;
  /** Told `{ sent, total }` (payload bytes) after each chunk of `payload` is accepted by the transport. */
  onUploadProgress?: UploadProgressListener;
}

export type { EventSelector, WaitOptions } from './event-waiters.js';

/** Options of {@link FlamingoClient.events}. */
export interface EventStreamOptions {
  /** Events kept for a slow consumer before the oldest is dropped (default 1000). */
  bufferSize?: number;
}

/** Options of {@link FlamingoClient.live}. */
export interface LiveOptions {
  /** Live-image port (default: the command port + 1; required for a client on a custom transport). */
  port?: number;
  /** Frames kept for a consumer that has not asked yet (default 4); the oldest is dropped when full. */
  maxBuffered?: number;
  /** Give up connecting after this long (default: the client's connectTimeoutMs). */
  connectTimeoutMs?: number;
}

/** What an `exclusive()` section may do; its calls pass the gate that holds everyone else back. */
export interface ExclusiveTx {
  request(code: CommandRef, fields?: RequestFields, options?: RequestOptions): Promise<Packet>;
  send(code: CommandRef, fields?: RequestFields, options?: SendOptions): Promise<void>;
  waitFor(selector: EventSelector, options?: WaitOptions): Promise<Packet>;
}

/** Every event a client emits. */
export type ClientEvents = DispatcherEvents & SemanticEvents & {
  /** The client is finished (close(), a lost link without reconnect, or reconnect gave up). Once. */
  close: [error: Error | undefined];
  /** The link was lost; requests on the wire were rejected with maybeExecuted: true. */
  disconnect: [info: { error: Error | undefined }];
  /** A reconnect attempt is scheduled. */
  reconnecting: [info: { attempt: number; delayMs: number }];
  /** The link is back; waiting requests are being written. */
  reconnected: [info: { attempt: number }];
};

const PROBE_SEQUENCE = 0x5eed0001;

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
 * One reader per connection (the dispatcher); every request settles exactly once.
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
  /**
   * Mirror of the instrument kept by this connection's reader from every reply and event
   * (spec/state.md): `state.snapshot()`, `state.on('change', ...)`, `state.refresh()`.
   */
  readonly state: InstrumentState;

  private readonly options: ClientOptions;
  private readonly requestTimeoutMs: number;
  private readonly queueTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly reconnectPolicy: ReconnectPolicy | null;
  private modeValue: CorrelationMode;
  private readonly lease: Lease;
  private sequencer: Sequencer | null = null;
  private readonly exclusiveQueue = new PQueue({ concurrency: 1 });
  private link: Dispatcher | null = null;
  /** Writes the current link's packets whole, payloads in chunks (replaced with the link). */
  private writer: PacketWriter | null = null;
  private linkUp = false;
  private usedTransport = false;
  private finished = false;
  private closePromise: Promise<void> | null = null;
  private closeEmitted = false;
  private upWaiters: ((up: boolean) => void)[] = [];
  private gateDepth = 0;
  private gateWaiters: (() => void)[] = [];
  private readonly open = new Set<PendingRequest>();
  private readonly waiters = new EventWaiters();
  private readonly streams = new Set<EventStream>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private refreshRunning = false;
  private refreshAgain = false;
  private readonly wire: Wire;

  private constructor(options: ClientOptions) {
    super();
    this.options = options;
    checkTimeout('requestTimeoutMs', options.requestTimeoutMs);
    checkTimeout('queueTimeoutMs', options.queueTimeoutMs);
    checkTimeout('probeTimeoutMs', options.probeTimeoutMs);
    const maxInFlight = options.maxInFlight ?? 32;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new ArgumentError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    const field = options.sequenceField ?? 'clientId';
    if (field !== 'clientId' && field !== 'hardwareId' && field !== 'subsystemId') {
      throw new ArgumentError(`sequenceField is clientId, hardwareId or subsystemId, got ${String(field)}`);
    }
    const mode = options.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'sequenced' && mode !== 'lease') throw new ArgumentError(`mode is auto, sequenced or lease, got ${String(mode)}`);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.queueTimeoutMs = options.queueTimeoutMs ?? 30_000;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.reconnectPolicy =
      options.reconnect === undefined || options.reconnect === false
        ? null
        : reconnectPolicy(options.reconnect === true ? {} : options.reconnect);

    // The client is the wire correlation writes through: writes go to the current link.
    const self = this;
    this.wire = {
      get up() {
        return self.linkUp;
      },
      get gateClosed() {
        return self.gateDepth > 0;
      },
      write: (bytes, request) =>
        request === undefined ? this.writeBytes(bytes) : this.writeBytes(bytes, request.init, request.payload, request.onUploadProgress, request),
      replied: (packet, request) => {
        this.state.apply(packet, request.init);
      },
      whenUp: () => this.whenUp(),
    };
    // refresh() runs its reads in one exclusive section; raw requests (a failure status is a
    // reply the pass records, not an exception).
    this.state = new InstrumentState({
      exclusive: (pass) =>
        this.exclusive((tx) =>
          pass((read) => {
            const { code, ...fields } = read;
            return tx.request(code, fields);
          }),
        ),
    });
    this.lease = new Lease({
      wire: this.wire,
      fenceTimeoutMs: this.requestTimeoutMs,
      maxQueued: this.maxQueued,
      queueTimeoutMs: this.queueTimeoutMs,
      onUnresponsive: (error) => this.dropLink(error),
    });
    if (mode === 'sequenced') this.useSequencer();
    this.modeValue = mode === 'sequenced' ? 'sequenced' : 'lease';

    this.stage = new StageHelper(this);
    this.lasers = new LaserHelper(this);
    this.system = new SystemHelper(this);
    this.workflow = new WorkflowHelper(this);
    this.camera = new CameraHelper(this);
    this.led = new LedHelper(this);
    this.illumination = new IlluminationHelper(this);
    this.storage = new StorageHelper(this);
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
      await client.openLink();
      if ((options.mode ?? 'auto') === 'auto') await client.probe();
      client.state.setConnection('connected', client.mode);
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** The correlation mode in use (decided by the probe in `'auto'` mode). */
  get mode(): CorrelationMode {
    return this.modeValue;
  }

  /** True once the client is finished (closed, or the link was lost for good). */
  get isClosed(): boolean {
    return this.finished;
  }

  /** True while the link is up. */
  get isConnected(): boolean {
    return this.linkUp;
  }

  /** The current transport's peer, e.g. `127.0.0.1:53717`. */
  get description(): string {
    return this.link?.transport.description ?? 'not connected';
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
    return this.makeRequest(code, fields, options, null);
  }

  /**
   * Send a packet without asking for a reply (no TRIGGER_CALL_BACK); resolves once written.
   * It is written at once, not queued behind requests waiting for their turn (so a
   * STAGE_HALT is not delayed); only an `exclusive()` section holds it back.
   */
  async send(code: CommandRef, fields?: RequestFields, options: SendOptions = {}): Promise<void> {
    await this.sendPacket(code, fields, options, false);
  }

  /**
   * The next event that matches `selector` (a code, a name, or a predicate). Armed before
   * this returns, so an event that arrives in the same chunk as the reply that caused it
   * is not missed. Rejects with TimeoutError, AbortError, or ConnectionClosedError.
   */
  waitFor(selector: EventSelector, options: WaitOptions = {}): Promise<Packet> {
    let selected: SelectedEvents;
    try {
      selected = selectEvents(selector);
      checkTimeout('timeoutMs', options.timeoutMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.finished) return Promise.reject(new ConnectionClosedError('the client is closed', false, { command: selected.name }));
    if (options.signal?.aborted) return Promise.reject(new AbortError(`waitFor ${selected.name}`, { cause: options.signal.reason }));
    return this.waiters.add(selected, options);
  }

  /**
   * An async iterator over matching events (every event when no selector is given), with a
   * bounded buffer: when the consumer stalls, the oldest event is dropped and counted in
   * `stream.dropped`. Ends when the client closes or the loop breaks.
   */
  events(selector?: EventSelector, options: EventStreamOptions = {}): EventStream {
    const bufferSize = options.bufferSize ?? 1000;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new ArgumentError(`bufferSize must be a positive integer, got ${bufferSize}`);
    const accepts = selector === undefined ? () => true : selectEvents(selector).accepts;
    const stream = new EventStream(accepts, bufferSize, (s) => this.streams.delete(s));
    if (this.finished) stream.end();
    else this.streams.add(stream);
    return stream;
  }

  /**
   * Hold the whole connection for `fn` (arm → move → wait sequences): nothing else is
   * written until `fn` settles; other callers wait their turn. `fn` must use `tx`, not the
   * client: a `client.request` inside waits for the section to end. A throwing `fn`
   * releases the connection and rejects with its error.
   */
  exclusive<T>(fn: (tx: ExclusiveTx) => Promise<T>): Promise<T> {
    if (this.finished) return Promise.reject(new ConnectionClosedError('the client is closed', false));
    const run = async (exchange: ((request: PendingRequest) => Promise<void>) | null): Promise<T> => {
      let active = true;
      const tx: ExclusiveTx = {
        request: (code, fields, options = {}) =>
          active ? this.makeRequest(code, fields, options, exchange ?? 'sequenced') : this.request(code, fields, options),
        send: (code, fields, options = {}) => this.sendPacket(code, fields, options, active),
        waitFor: (selector, options) => this.waitFor(selector, options),
      };
      this.gateDepth++;
      try {
        return await fn(tx);
      } finally {
        active = false;
        this.gateDepth--;
        if (this.gateDepth === 0) this.openGate();
      }
    };
    if (this.modeValue === 'lease') return this.lease.hold((exchange) => run(exchange));
    return this.exclusiveQueue.add(() => run(null));
  }

  /**
   * Open the live-image stream (the command port + 1 of the same host) as an async iterator
   * of frames with bounded buffering. A separate connection, opened on demand; live view
   * itself is switched with CAMERA_LIVE_VIEW_START / STOP. Close the stream when done.
   */
  live(options: LiveOptions = {}): Promise<LiveStream> {
    const port = options.port ?? (this.options.transport === undefined ? (this.options.port ?? DEFAULT_PORT) + LIVE_PORT_OFFSET : undefined);
    if (port === undefined) return Promise.reject(new ArgumentError('live(): a client on a custom transport needs an explicit live-image port'));
    return openLiveStream({
      host: this.options.host ?? '127.0.0.1',
      port,
      ...(options.maxBuffered !== undefined ? { maxBuffered: options.maxBuffered } : {}),
      connectTimeoutMs: options.connectTimeoutMs ?? this.options.connectTimeoutMs ?? 2000,
    });
  }

  /** COMMON_SCOPE_SETTINGS: the instrument's settings text (from the reply's trailing payload). */
  settings(options: RequestOptions = {}): Promise<string> {
    return readSettings(this, options);
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

  private makeRequest(
    command: CommandRef,
    fields: RequestFields | undefined,
    options: RequestOptions,
    inside: ((request: PendingRequest) => Promise<void>) | 'sequenced' | null,
  ): Promise<Packet> {
    let code: number;
    let name: string;
    try {
      code = resolveCode(command);
      name = commandName(code);
      checkFields(code, fields);
      checkTimeout('timeoutMs', options.timeoutMs, name);
      if (options.payload !== undefined && !(options.payload instanceof Uint8Array)) throw new ArgumentError('payload must be a Uint8Array', name);
      if (commandSpec(code)?.replies === false) throw new ArgumentError(`${name} is never answered by the instrument; use send()`, name);
      if (this.modeValue === 'sequenced' && (fields?.[this.sequencer?.field ?? 'clientId'] ?? 0) !== 0) {
        throw new ArgumentError(`${this.sequencer?.field ?? 'clientId'} carries the sequence number in sequenced mode; leave it unset`, name);
      }
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.finished) return Promise.reject(new ConnectionClosedError(`${name} was not sent: the client is closed`, false, { command: name }));
    if (!this.linkUp && this.reconnectPolicy?.whileDown !== 'queue') {
      return Promise.reject(new ConnectionClosedError(`${name} was not sent: the connection is down`, false, { command: name }));
    }
    if (options.signal?.aborted) return Promise.reject(new AbortError(name, { cause: options.signal.reason }));
    const request = new PendingRequest({
      code,
      name,
      fields,
      payload: options.payload,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
      expectOk: options.expectOk ?? false,
      signal: options.signal,
      insideExclusive: inside !== null,
      onUploadProgress: options.onUploadProgress,
    });
    request.registry = this.open;
    this.open.add(request);
    if (typeof inside === 'function') {
      request.armQueueDeadline(this.queueTimeoutMs);
      void inside(request);
    } else if (this.sequencer !== null && this.modeValue === 'sequenced') this.sequencer.submit(request);
    else this.lease.submit(request);
    return request.promise;
  }

  private async sendPacket(command: CommandRef, fields: RequestFields | undefined, options: SendOptions, inside: boolean): Promise<void> {
    const code = resolveCode(command);
    checkFields(code, fields);
    if (options.payload !== undefined && !(options.payload instanceof Uint8Array)) throw new ArgumentError('payload must be a Uint8Array', commandName(code));
    // Header only (announcing the payload's length): the writer sends the payload after it in chunks.
    const bytes = encodePacket(options.payload !== undefined ? { ...fields, code, addDataBytes: options.payload.length } : { ...fields, code });
    const sent = { ...fields, code };
    while (!inside && this.gateDepth > 0 && !this.finished) await new Promise<void>((resolve) => this.gateWaiters.push(resolve));
    if (this.finished || !this.linkUp) {
      throw new ConnectionClosedError(`${commandName(code)} was not sent: the connection is ${this.finished ? 'closed' : 'down'}`, false, {
        command: commandName(code),
      });
    }
    try {
      await this.writeBytes(bytes, sent, options.payload, options.onUploadProgress);
    } catch (error) {
      throw new ConnectionClosedError(`${commandName(code)} could not be written`, false, { command: commandName(code), cause: error });
    }
  }

  /** Write a header and its payload whole on the current link; `sent` is told to the mirror just before. */
  private writeBytes(bytes: Uint8Array, sent?: PacketInit, payload?: Uint8Array, onProgress?: UploadProgressListener, owner?: WriteOwner): Promise<void> {
    const writer = this.writer;
    if (writer === null || this.link === null || !this.linkUp) return Promise.reject(new ConnectionClosedError('the connection is down', false));
    return writer.write(bytes, sent, payload, onProgress, owner);
  }

  private whenUp(): Promise<boolean> {
    if (this.linkUp) return Promise.resolve(true);
    if (this.finished) return Promise.resolve(false);
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  private wakeUpWaiters(up: boolean): void {
    const waiters = this.upWaiters;
    this.upWaiters = [];
    for (const w of waiters) w(up);
  }

  private openGate(): void {
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const w of waiters) w();
    this.sequencer?.drain();
  }

  private useSequencer(): void {
    this.sequencer = new Sequencer({
      wire: this.wire,
      field: this.options.sequenceField ?? 'clientId',
      maxInFlight: this.options.maxInFlight ?? 32,
      maxQueued: this.maxQueued,
      queueTimeoutMs: this.queueTimeoutMs,
    });
  }

  /** Correlation entry point of the dispatcher. */
  private readonly correlate = (packet: Packet): Claim => {
    if (this.modeValue === 'sequenced' && this.sequencer !== null) return this.sequencer.claim(packet);
    return this.lease.claim(packet);
  };

  /** Every event passes here before listeners: waitFor waiters, then event streams. */
  private readonly observe = (packet: Packet): void => {
    if (this.waiters.size > 0) this.waiters.offer(packet);
    if (this.streams.size > 0) {
      for (const stream of this.streams) {
        let wanted: boolean;
        try {
          wanted = stream.accepts(packet);
        } catch (error) {
          this.reportLater(error);
          continue;
        }
        if (wanted) stream.push(packet);
      }
    }
  };

  private reportLater(error: unknown): void {
    process.nextTick(() => this.emit('error', error instanceof Error ? error : new Error(String(error))));
  }

  private async createTransport(): Promise<Transport> {
    const given = this.options.transport;
    if (typeof given === 'function') return given();
    if (given !== undefined) {
      if (this.usedTransport) throw new ConnectionClosedError('a transport object cannot be reopened; pass a factory to reconnect', false);
      this.usedTransport = true;
      return given;
    }
    return connectTcp({
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? DEFAULT_PORT,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 2000,
    });
  }

  private async openLink(): Promise<void> {
    const transport = await this.createTransport();
    if (this.finished) {
      transport.destroy();
      throw new ConnectionClosedError('the client was closed while connecting', false);
    }
    if (transport.isClosed) throw new ConnectionClosedError(`${transport.description} is already closed`, false);
    const dispatcher: Dispatcher = new Dispatcher(transport, {
      emitter: this as unknown as EventSink,
      correlate: this.correlate,
      observe: this.observe,
      onClose: (error) => this.linkClosed(dispatcher, error),
      onFrameError: (error: FrameError) => this.dropLink(error, dispatcher),
      mirror: this.state,
      ...(this.options.maxPayloadBytes !== undefined ? { maxPayloadBytes: this.options.maxPayloadBytes } : {}),
    });
    this.link = dispatcher;
    this.writer = new PacketWriter(transport, {
      chunkBytes: this.options.uploadChunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES,
      beforeWrite: (sent) => {
        this.state.noteRequestSent(sent);
      },
      onListenerError: (error) => this.reportLater(error),
    });
    this.linkUp = true;
    dispatcher.start();
    if (!this.linkUp) return; // closed while delivering early bytes
    this.wakeUpWaiters(true);
    this.sequencer?.drain();
  }

  /** Auto mode: one SYSTEM_STATE_GET stamped with a sequence; an echo means sequenced. */
  private async probe(): Promise<void> {
    const field = this.options.sequenceField ?? 'clientId';
    const probe = new PendingRequest({
      code: Command.SYSTEM_STATE_GET,
      name: commandName(Command.SYSTEM_STATE_GET),
      fields: { [field]: PROBE_SEQUENCE },
      payload: undefined,
      timeoutMs: this.options.probeTimeoutMs ?? this.requestTimeoutMs,
      expectOk: false,
      signal: undefined,
      insideExclusive: false,
    });
    probe.registry = this.open;
    this.open.add(probe);
    this.lease.submit(probe);
    let echoed = false;
    try {
      const reply = await probe.promise;
      echoed = reply[field] === PROBE_SEQUENCE;
    } catch (error) {
      // No reply in time: a server that does not answer the probe gets the lease (which
      // fences off the probe's late reply itself). Anything else ends the connect.
      if (!(error instanceof TimeoutError)) throw error;
    }
    if (echoed) {
      this.useSequencer();
      this.modeValue = 'sequenced';
    }
  }

  /** Drop the current link (unresponsive server, framing error); reconnect or close follows. */
  private dropLink(error: Error, only?: Dispatcher): void {
    const link = this.link;
    if (link === null || (only !== undefined && link !== only)) return;
    if (only === undefined) this.emit('error', error);
    link.transport.destroy(error);
  }

  private linkClosed(dispatcher: Dispatcher, error: Error | undefined): void {
    if (this.link !== dispatcher || this.finished) return;
    this.link = null;
    this.linkUp = false;
    const cause = error ?? new Error(`${dispatcher.transport.description} closed the connection`);
    this.sequencer?.linkLost(cause);
    this.lease.linkLost(cause);
    const keepQueued = this.reconnectPolicy?.whileDown === 'queue';
    if (!keepQueued) this.rejectOpen(cause);
    this.emit('disconnect', { error });
    if (this.reconnectPolicy === null) {
      if (this.closePromise === null) this.closePromise = this.shutdown(error);
    } else {
      this.state.setConnection('reconnecting');
      this.attempt = 0;
      this.scheduleReconnect(cause);
    }
  }

  private scheduleReconnect(cause: Error): void {
    const policy = this.reconnectPolicy as ReconnectPolicy;
    if (this.finished) return;
    this.attempt++;
    if (this.attempt > policy.maxAttempts) {
      const error = new ConnectionClosedError(`gave up reconnecting after ${policy.maxAttempts} attempts`, false, { cause });
      if (this.closePromise === null) this.closePromise = this.shutdown(error);
      return;
    }
    const attempt = this.attempt;
    const delayMs = backoffDelay(policy, attempt);
    this.emit('reconnecting', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.finished) return;
      this.openLink().then(
        () => {
          if (!this.linkUp) return; // lost again at once; linkClosed scheduled the next attempt
          this.attempt = 0;
          this.state.setConnection('connected');
          this.emit('reconnected', { attempt });
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
   * finish (test/regressions-reconnect.test.ts).
   */
  private refreshAfterReconnect(): void {
    if (this.refreshRunning) {
      this.refreshAgain = true;
      return;
    }
    this.refreshRunning = true;
    const done = (): void => {
      this.refreshRunning = false;
      if (this.refreshAgain && !this.finished) {
        this.refreshAgain = false;
        this.refreshAfterReconnect();
      }
    };
    this.state.refresh().then(done, (error: unknown) => {
      if (!(error instanceof ConnectionClosedError)) this.reportLater(error);
      done();
    });
  }

  private rejectOpen(cause: Error | undefined): void {
    for (const request of [...this.open]) {
      request.fail(
        new ConnectionClosedError(
          request.written ? `connection lost while ${request.name} was in flight` : `${request.name} was not sent: the connection closed`,
          request.written,
          { command: request.name, ...request.context(), cause },
        ),
      );
    }
  }

  private async shutdown(error: Error | undefined): Promise<void> {
    this.finished = true;
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const link = this.link;
    this.linkUp = false;
    this.link = null;
    this.rejectOpen(error);
    // Lease fences are internal (not in `open`): fail them too, or their timers outlive close().
    this.lease.linkLost(error);
    this.waiters.rejectAll((name) => new ConnectionClosedError(`waitFor ${name}: the client is closed`, false, { cause: error }));
    for (const stream of [...this.streams]) stream.end();
    this.wakeUpWaiters(false);
    this.openGate();
    if (link !== null) await link.transport.close();
    if (!this.closeEmitted) {
      this.closeEmitted = true;
      this.state.setConnection('closed');
      this.emit('close', error);
    }
  }
}

