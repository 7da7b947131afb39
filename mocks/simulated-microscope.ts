import { reportListenerError, type ErrorReporter } from '../transports/safe-emitter.js';
import { validateSimulatorOptions } from './simulator-options-schema.js';
import { EventEmitter } from 'eventemitter3';
import { encodePacket } from '../protocol/codec.js';
import { BARE_TEXT_REPLY_CODES, commandProfile, replyCodeOf } from '../protocol/command-profile.js';
import { Command, commandName, commandSpec } from '../protocol/commands.js';
import { STATUS_OK } from '../protocol/constants.js';
import { Flags } from '../protocol/flags.js';
import type { Packet, PacketInit } from '../protocol/packet.js';
import { DEFAULT_SETTINGS_TEXT } from '../protocol/text-format.js';
import { formatLaserLevel } from '../protocol/laser-level.js';
import { listenTcp, type TcpListener } from '../transports/tcp.js';
import type { Transport } from '../transports/transport.js';
import { toFaultSpec, type FaultSpec } from './fault-spec.js';
import { LiveImageServer } from './live-image.js';
import { Instrument, type SimulatorSnapshot, type Outcome } from './instrument.js';
import { SimConnection, type ConnectionHost } from './sim-connection.js';
import { SimRecorder } from './sim-records.js';
import { isAxis } from './stage.js';
import { TimerSet } from './timers.js';
import type { SimAddress, SimRecord, SimReply, SimulatorEvents, SimulatorOptions } from './sim-types.js';

export type { CommandInfo, SimAddress, SimRecord, SimReply, SimulatorEvents, SimulatorOptions } from './sim-types.js';

const SEQUENCE_FIELDS = ['hardwareId', 'subsystemId', 'clientId'] as const;

/**
 * Whether the simulator answers `p`, by the command's profile (spec/commands.json `reply`,
 * `duringRun`): `always` with or without the flag, `never` not at all, `on-flag` and
 * `unknown` when TRIGGER_CALL_BACK is set (for `unknown` that is our choice); nothing for a
 * `duringRun: no-reply` command while a workflow runs.
 */
function answers(p: Packet, workflowRunning: boolean): boolean {
  const profile = commandProfile(p.code);
  if (workflowRunning && profile.duringRun === 'no-reply') return false;
  if (profile.reply === 'never') return false;
  if (profile.reply === 'always') return true;
  return (p.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) !== 0;
}

/**
 * A simulated Flamingo microscope: the instrument's state machine behind the real wire
 * protocol, over TCP or any Transport, with seeded fault injection and a record of every
 * packet received. Behaviour: spec/protocol.md §Simulator choices.
 */
export class SimulatedMicroscope extends EventEmitter<SimulatorEvents> {
  readonly echoSequence: boolean;
  readonly settingsFraming: 'counted' | 'bare';
  readonly seed: number;
  readonly timeScale: number;
  private readonly timers = new TimerSet();
  private readonly instrument: Instrument;
  private readonly open = new Map<number, SimConnection>();
  private readonly recorder: SimRecorder;
  private nextConnectionId = 1;
  private listener: TcpListener | null = null;
  private liveServer: LiveImageServer | null = null;
  private closing = false;
  private readonly host: ConnectionHost;
  private readonly options: SimulatorOptions;

  constructor(options: SimulatorOptions = {}) {
    super();
    validateSimulatorOptions(options);
    this.options = options;
    this.echoSequence = options.echoSequence ?? false;
    this.settingsFraming = options.settingsFraming ?? 'counted';
    this.seed = options.seed ?? 1;
    this.recorder = new SimRecorder(options.maxRecords ?? 100_000, (id) => this.open.has(id));
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${this.timeScale}`);
    // Parse fault text now so a bad spec fails at construction, not at the first connection.
    if (typeof options.faults === 'string') toFaultSpec(options.faults);
    this.instrument = new Instrument(
      {
        settingsText: options.settingsText ?? DEFAULT_SETTINGS_TEXT,
        timeScale: this.timeScale,
        workflowDurationMs: options.workflowDurationMs,
        imageWidth: options.imageWidth ?? 2048,
        imageHeight: options.imageHeight ?? 2048,
        pixelSizeMm: options.pixelSizeMm ?? 0.000406,
        ...(options.staleIdlePush !== undefined ? { staleIdlePush: options.staleIdlePush } : {}),
        ...(options.stackComplete !== undefined ? { stackComplete: options.stackComplete } : {}),
      },
      this.timers,
      (init, except) => this.broadcast(init, except),
      (on) => (on === 'snapshot' ? this.liveServer?.broadcastFrame() : this.safeEmit('liveView', on)),
    );
    this.host = {
      timers: this.timers,
      received: (c, p) => this.recorder.record(c.id, c.receivedPackets, p),
      process: (c, p) => this.process(c, p),
      frameError: (c, error) => {
        this.safeEmit('frameError', { connectionId: c.id, error });
        // An over-limit claim means the client's framing cannot be trusted (or it is
        // hostile): close that connection; the others are untouched.
        c.destroy(error);
      },
      resync: (c, skippedBytes) => this.safeEmit('resync', { connectionId: c.id, skippedBytes }),
      closed: (c, error) => {
        this.open.delete(c.id);
        this.safeEmit('disconnect', { connectionId: c.id, error });
      },
    };
  }

  /**
   * Listen for TCP clients (default 127.0.0.1, port 0 = any free port), and serve live
   * images on `livePort` (default: the command port + 1, as the instrument does; any free
   * port when the command port is 0).
   */
  async listen(options: { port?: number; host?: string; livePort?: number } = {}): Promise<SimAddress> {
    if (this.listener !== null) throw new Error('the simulator is already listening');
    if (this.closing) throw new Error('the simulator is closed');
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const listener = await listenTcp({ host, port }, (t) => this.attach(t));
    const live = new LiveImageServer({ width: this.options.liveFrameWidth ?? 256, height: this.options.liveFrameHeight ?? 256, seed: this.seed });
    live.attachTo(this);
    try {
      await live.listen({ host, port: options.livePort ?? (port === 0 ? 0 : port + 1) });
    } catch (error) {
      await live.close();
      await listener.close();
      throw error;
    }
    if (this.closing) {
      await live.close();
      await listener.close();
      throw new Error('the simulator was closed while it started listening');
    }
    this.listener = listener;
    this.liveServer = live;
    return { host: listener.host, port: listener.port, livePort: live.port as number };
  }

  /** The bound address, once listening. */
  get address(): SimAddress | undefined {
    return this.listener === null ? undefined : { host: this.listener.host, port: this.listener.port, livePort: this.liveServer?.port ?? 0 };
  }

  /** The live-image server (while listening over TCP). */
  get liveImages(): LiveImageServer | undefined {
    return this.liveServer ?? undefined;
  }

  /** Serve one client over any transport (e.g. one end of createMemoryPair). Returns its connection id. */
  attach(transport: Transport): number {
    const id = this.nextConnectionId++;
    if (this.closing) {
      transport.destroy();
      return id;
    }
    const faults = this.options.faults;
    const spec = toFaultSpec(typeof faults === 'function' ? faults(id) : faults);
    const connection = new SimConnection(
      id,
      transport,
      this.host,
      {
        seed: this.seed,
        faults: spec,
        maxPayloadBytes: this.options.maxPayloadBytes ?? 1024 * 1024,
        maxOutgoingBytes: this.options.maxOutgoingBytes ?? 8 * 1024 * 1024,
      },
      (code, n) => this.encodeFloodEvent(code, n),
    );
    this.open.set(id, connection);
    this.recorder.open(id);
    this.safeEmit('connection', { connectionId: id, description: transport.description });
    connection.start();
    return id;
  }

  /** Replace the faults of one open connection. */
  setFaults(connectionId: number, spec: FaultSpec | string): void {
    const c = this.open.get(connectionId);
    if (c === undefined) throw new Error(`no open connection ${connectionId}`);
    c.setFaults(toFaultSpec(spec));
  }

  /** Drop one connection at once, as a network failure would. */
  disconnect(connectionId: number): void {
    this.open.get(connectionId)?.destroy();
  }

  /** Number of open connections. */
  get connections(): number {
    return this.open.size;
  }

  /** Ids of the open connections, oldest first. */
  get connectionIds(): number[] {
    return [...this.open.keys()];
  }

  /** Every packet received, in arrival order (bounded by maxRecords; a new array on each call). */
  get records(): readonly SimRecord[] {
    return this.recorder.records();
  }

  /** Records dropped because `maxRecords` was reached. */
  get droppedRecords(): number {
    return this.recorder.dropped;
  }

  /** The packets one connection sent, in order (kept after it closes). */
  recordsFor(connectionId: number): readonly SimRecord[] {
    return this.recorder.recordsFor(connectionId);
  }

  /** Position of a stage axis (1 X, 2 Y, 3 Z, 4 R) now, interpolated during a move. */
  stagePosition(axis: number): number {
    if (!isAxis(axis)) throw new RangeError(`axis must be 1..4, got ${String(axis)}`);
    return this.instrument.stage.position(axis);
  }

  /** A copy of the whole instrument state. */
  snapshot(): SimulatorSnapshot {
    return this.instrument.snapshot();
  }

  /** The settings text COMMON_SCOPE_SETTINGS returns now. */
  get settingsText(): string {
    return this.instrument.settings;
  }

  /**
   * Close every connection, the listener and every timer. Idempotent. Running workflows
   * and moves simply stop (no events: there is nobody left to tell).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.timers.clearAll();
    this.instrument.dispose();
    for (const c of [...this.open.values()]) c.destroy();
    const listener = this.listener;
    this.listener = null;
    const live = this.liveServer;
    this.liveServer = null;
    if (live !== null) await live.close();
    if (listener !== null) await listener.close();
  }

  /** Send an unsolicited event to every connected client but `except` (events carry 0 in the sequence fields). */
  broadcast(init: PacketInit, except?: number): void {
    if (this.closing || this.open.size === 0) return;
    const bytes = encodePacket(init);
    for (const c of this.open.values()) if (c.id !== except) c.send(bytes);
  }

  private encodeFloodEvent(code: number, n: number): Uint8Array {
    if (code === Command.LASER_LEVEL_GET) {
      const level = this.instrument.laserLevel(1) ?? 0;
      return encodePacket({ code, status: STATUS_OK, int32Data0: 1, data: formatLaserLevel(level) });
    }
    return encodePacket({ code, status: STATUS_OK, int32Data0: n });
  }

  /**
   * Handle one command of one connection; the connection's next command waits for this.
   * Returns undefined when the command was handled synchronously (no reply delay, nothing
   * to wait for: the common case), so the connection's serial queue schedules no promise
   * per packet; a promise only when the command must wait.
   */
  private process(c: SimConnection, p: Packet): Promise<void> | undefined {
    if (this.closing) return undefined;
    const busyBefore = this.instrument.busy;
    const outcome: Outcome = this.instrument.execute(p, c.id);
    const wantsReply = answers(p, busyBefore) && outcome.silent !== true;
    const reply = wantsReply ? this.buildReply(p, outcome) : undefined;
    const delay = wantsReply ? c.nextReplyDelay() : 0;
    if (outcome.waitFor === undefined && delay === 0) {
      this.finish(c, p, outcome, reply);
      return undefined;
    }
    return this.finishLater(c, p, outcome, reply, delay);
  }

  private async finishLater(c: SimConnection, p: Packet, outcome: Outcome, reply: SimReply | undefined, delay: number): Promise<void> {
    if (outcome.waitFor !== undefined) await outcome.waitFor;
    if (delay > 0) await this.timers.sleep(delay);
    if (this.closing) return;
    this.finish(c, p, outcome, reply);
  }

  /** Send the reply (faults applied), run what the command started, report the command. */
  private finish(c: SimConnection, p: Packet, outcome: Outcome, reply: SimReply | undefined): void {
    if (c.isFinished) {
      // Nobody to answer, but what the command started (a workflow, events) still happens.
      outcome.after?.();
      return;
    }
    // The disconnect fault strikes after the command ran but before its reply: the hardest
    // case for a client (the command may have executed; no answer will come).
    const disconnectNow = c.processedPackets >= c.disconnectAfter;
    let dropped = false;
    if (reply !== undefined) {
      if (disconnectNow || c.dropsReply()) dropped = true;
      else c.send(this.encodeReply(reply));
    }
    if (disconnectNow) c.hangUp();
    outcome.after?.();
    // The report object is built only when someone listens (`flamingo sim` without logging does not).
    if (this.listenerCount('command') > 0) {
      this.safeEmit('command', { connectionId: c.id, index: c.processedPackets - 1, name: commandName(p.code), packet: p, reply, dropped });
    }
  }

  /** A reply's bytes; a bare-framed settings answer is its header (addDataBytes 0) then the text. */
  private encodeReply(reply: SimReply): Uint8Array {
    if (this.settingsFraming !== 'bare' || !BARE_TEXT_REPLY_CODES.has(reply.code) || !(reply.payload instanceof Uint8Array)) {
      return encodePacket(reply);
    }
    const { payload, ...header } = reply;
    const head = encodePacket(header);
    const bytes = new Uint8Array(head.length + payload.length);
    bytes.set(head, 0);
    bytes.set(payload, head.length);
    return bytes;
  }

  private buildReply(p: Packet, outcome: Outcome): SimReply {
    const reply: SimReply = { code: replyCodeOf(p.code), status: outcome.status };
    if (this.echoSequence) for (const f of SEQUENCE_FIELDS) reply[f] = p[f];
    // Lease-mode matchers (spec/commands.json) compare these fields; echo them unless the
    // handler defines them itself.
    const matcher = commandSpec(p.code)?.matcher ?? [];
    for (const f of matcher) (reply as unknown as Record<string, unknown>)[f] = p[f];
    if (outcome.fields !== undefined) Object.assign(reply, outcome.fields);
    return reply;
  }

  /** Emit without letting a throwing listener unwind the simulator. */
  private safeEmit<E extends keyof SimulatorEvents>(event: E, ...args: Parameters<SimulatorEvents[E]>): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (error) {
      reportListenerError(this as unknown as ErrorReporter, error, event === 'error');
    }
  }
}
