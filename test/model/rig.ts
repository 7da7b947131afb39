import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { createMemoryPair } from '../../transports/memory.js';
import { connectTcp, listenTcp, type TcpListener } from '../../transports/tcp.js';
import { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';
import type { FaultSpec } from '../../mocks/fault-spec.js';
import { FlamingoClient } from '../../src/client/client.js';
import { type AbortError, ConnectionClosedError, TimeoutError } from '../../src/errors.js';
import { InvariantError } from './invariant-error.js';
import { checkNothingLeft, countResources } from './leak-check.js';
import type { Cell, FaultProfile } from './profiles.js';
import { RecordingTransport } from './recording-transport.js';
import { checkStepInvariants, sentEvents } from './rig-invariants.js';
import { ConditionWaits, type Settled, settleWithin } from './rig-waits.js';
import { StallClock } from './stall-clock.js';

/** Speed-up of the simulated stage and workflows: a 10 mm move takes 5 ms. */
const TIME_SCALE = 2000;

/** One connection as both ends recorded it. */
interface SimSide {
  recorder: RecordingTransport;
  connectionId: number;
}

/** What a finished run adds to its cell's statistics. */
export interface RunFigures {
  commands: number;
  events: number;
  worstLatencyMs: number;
  /** Faults that struck: replies dropped, links lost, garbage runs skipped by the client. */
  droppedReplies: number;
  disconnects: number;
  resyncs: number;
}

/**
 * A simulator and a client joined by recording transports, with the logs the model's
 * invariants compare: what the simulator sent on each connection, what the client wrote,
 * what the client delivered as events and as unmatched late replies, and the outcome of
 * every request the model made. Shared by the vitest matrix and `npm run soak`.
 */
export class Rig {
  readonly cell: Cell;
  readonly profile: FaultProfile;
  readonly sim: SimulatedMicroscope;
  client!: FlamingoClient;
  /** Client ends, one per (re)connection, in order. */
  readonly clientSides: RecordingTransport[] = [];
  /** Simulator ends, one per accepted connection, in order. */
  readonly simSides: SimSide[] = [];
  /** Every event the client emitted, in order. */
  readonly clientEvents: Packet[] = [];
  /** Every event an `events()` iterator yielded, in order (must equal clientEvents). */
  readonly streamEvents: Packet[] = [];
  /** STAGE_MOTION_STOPPED events per axis (index 1..4). */
  readonly stops: Packet[][] = [[], [], [], [], []];
  readonly unmatched: Packet[] = [];
  readonly errors: Error[] = [];
  /** Sequences (sequenced mode) and codes (lease mode) of requests that timed out or were aborted. */
  readonly lateSequences = new Set<number>();
  readonly lateCodes = new Set<number>();
  /** Sequences whose reply the simulator dropped (drop fault) or delayed on purpose. */
  readonly droppedSequences = new Set<number>();
  droppedReplies = 0;
  /** TimeoutErrors of ordinary requests (not the deliberate tiny-timeout ones). */
  readonly timedOutSequences: number[] = [];
  timeouts = 0;
  /** The client gave up on the link itself (every lease fence timed out). */
  clientDroppedLink = false;
  /** Requests of mutating codes the model issued, per code. */
  readonly issued = new Map<number, number>();
  commands = 0;
  worstLatencyMs = 0;
  /** Links lost so far (the client's 'disconnect' events). */
  disconnects = 0;
  /** Garbage runs the client skipped (its 'resync' events). */
  resyncs = 0;
  /** A workflow may still run (its helper failed before SYSTEM_STATE_IDLE). */
  workflowMaybeRunning = false;

  private listener: TcpListener | null = null;
  private readonly waits = new ConditionWaits();
  private readonly notify = this.waits.notify;
  private readonly onEvent = (p: Packet): void => {
    this.clientEvents.push(p);
    if (p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 >= 1 && p.int32Data0 <= 4) this.stops[p.int32Data0]?.push(p);
    this.notify();
  };
  private readonly onDisconnect = (): void => {
    this.disconnects++;
  };
  private readonly onResync = (): void => {
    this.resyncs++;
  };
  private readonly onUnmatched = (p: Packet): void => {
    this.unmatched.push(p);
  };
  private readonly onError = (error: Error): void => {
    if (this.profile.dropsReplies && error.message.startsWith('server stopped answering')) this.clientDroppedLink = true;
    this.errors.push(error);
  };
  private readonly resourcesBefore: Map<string, number>;
  /** Event-loop time lost to stalls, and its reading when the current step began. */
  private readonly stalls = new StallClock();
  private stepStalls = 0;

  private constructor(cell: Cell, seed: number) {
    this.cell = cell;
    this.profile = cell.profile;
    this.resourcesBefore = countResources();
    this.stalls.start();
    this.sim = new SimulatedMicroscope({
      echoSequence: cell.mode === 'sequenced',
      seed,
      timeScale: TIME_SCALE,
      faults: () => this.profile.faults,
    });
    this.sim.on('command', (info) => {
      if (info.dropped) {
        this.droppedReplies++;
        this.droppedSequences.add(info.packet.clientId);
      }
      this.notify();
    });
  }

  /** Start a simulator and connect a client to it as the cell says. */
  static async start(cell: Cell, seed: number): Promise<Rig> {
    const rig = new Rig(cell, seed);
    try {
      await rig.connect();
    } catch (error) {
      await rig.stop();
      throw error;
    }
    return rig;
  }

  private async connect(): Promise<void> {
    const { cell, profile } = this;
    let factory: () => Promise<RecordingTransport> | RecordingTransport;
    if (cell.transport === 'memory') {
      let n = 0;
      factory = () => {
        const [clientEnd, simEnd] = createMemoryPair({ seed: ++n, fragmentMaxBytes: profile.clientFragmentMaxBytes ?? 0 });
        this.acceptSimSide(simEnd);
        return this.recordClientSide(clientEnd);
      };
    } else {
      // Our own listener in front of sim.attach (what sim.listen does), so the simulator's
      // end of each connection can be recorded.
      this.listener = await listenTcp({ host: '127.0.0.1', port: 0 }, (t) => this.acceptSimSide(t));
      const port = this.listener.port;
      factory = async () => this.recordClientSide(await connectTcp({ host: '127.0.0.1', port }));
    }
    this.client = await FlamingoClient.connect({
      mode: cell.mode,
      requestTimeoutMs: profile.requestTimeoutMs,
      transport: factory,
      ...(profile.reconnect ? { reconnect: { initialDelayMs: 1, maxDelayMs: 4, whileDown: 'queue' as const } } : {}),
    });
    this.client.on('event', this.onEvent);
    // A second observer of the same events: an events() iterator read by a loop, as apps do.
    const stream = this.client.events(undefined, { bufferSize: 100_000 });
    void (async () => {
      for await (const p of stream) {
        this.streamEvents.push(p);
        this.notify();
      }
    })();
    this.client.on('unmatched', this.onUnmatched);
    this.client.on('error', this.onError);
    this.client.on('close', this.notify);
    this.client.on('disconnect', this.onDisconnect);
    this.client.on('resync', this.onResync);
    this.client.on('reconnected', this.notify);
  }

  private acceptSimSide(transport: ConstructorParameters<typeof RecordingTransport>[0]): void {
    const recorder = new RecordingTransport(transport, this.notify);
    const connectionId = this.sim.attach(recorder);
    this.simSides.push({ recorder, connectionId });
  }

  private recordClientSide(transport: ConstructorParameters<typeof RecordingTransport>[0]): RecordingTransport {
    const recorder = new RecordingTransport(transport, this.notify);
    this.clientSides.push(recorder);
    return recorder;
  }

  /** The simulator connection the client uses now (undefined while reconnecting). */
  get currentConnectionId(): number | undefined {
    const last = this.simSides[this.simSides.length - 1];
    return last !== undefined && this.sim.connectionIds.includes(last.connectionId) ? last.connectionId : undefined;
  }

  /** Count a mutating request the model is about to make (replay check). */
  issue(code: number, times = 1): void {
    this.issued.set(code, (this.issued.get(code) ?? 0) + times);
  }

  /** Deadline for any single promise of a step: long past every timeout the client has. */
  get settleDeadlineMs(): number {
    return this.profile.requestTimeoutMs * 4 + 5000;
  }

  /**
   * Resolve with `promise`'s outcome, or fail the run when it does not settle by the
   * deadline ("every promise settles").
   */
  async settle<T>(label: string, promise: Promise<T>): Promise<Settled<T>> {
    return settleWithin(label, promise, this.settleDeadlineMs);
  }

  /**
   * An error a step got: allowed only when the profile explains it (TimeoutError where
   * replies are dropped, ConnectionClosedError where the link drops). Records what the
   * late-reply checks need. Throws InvariantError for anything else.
   */
  allowError(label: string, error: Error, disconnectsBefore?: number): 'timeout' | 'closed' {
    if (error instanceof TimeoutError) {
      // An awaited event (motion stopped, workflow idle) is lost when the simulator sent it
      // while the link was down: allowed only when the link did drop during the step.
      // Or when stalls of the event loop (a loaded machine) ate half the budget during the
      // step: then due timers fire before the socket that holds the event is read
      // (test/model/stall-clock.ts). The axis is re-learnt by its next use either way.
      if (disconnectsBefore !== undefined && error.command?.startsWith('waitFor ') === true) {
        if (this.disconnects > disconnectsBefore) return 'timeout';
        if (this.stalls.lostSince(this.stepStalls) >= this.profile.eventTimeoutMs / 2) return 'timeout';
      }
      if (!this.profile.dropsReplies) throw new InvariantError(`${label}: TimeoutError without a dropped reply: ${error.message}`);
      this.recordLate(error, error.command);
      this.timeouts++;
      if (error.sequence !== undefined) this.timedOutSequences.push(error.sequence);
      return 'timeout';
    }
    if (error instanceof ConnectionClosedError) {
      if (!this.profile.reconnect && !this.clientDroppedLink) throw new InvariantError(`${label}: ConnectionClosedError without a lost link: ${error.message}`);
      return 'closed';
    }
    throw new InvariantError(`${label}: unexpected ${error.name}: ${error.message}`);
  }

  /** Remember a request that timed out or was aborted: its late reply may come as `unmatched`. */
  recordLate(error: TimeoutError | AbortError, command: string | undefined): void {
    if (error.sequence !== undefined) this.lateSequences.add(error.sequence);
    const code = command === undefined ? undefined : (Command as Record<string, number>)[command];
    if (code !== undefined) this.lateCodes.add(code);
  }

  /** Wait, event-driven, until `condition` holds; InvariantError after `timeoutMs`. */
  until(label: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
    return this.waits.until(label, condition, timeoutMs);
  }

  /** Every event the simulator sent to the client, over all connections in order. */
  sentEvents(): Packet[] {
    return sentEvents(this);
  }

  /** Invariants that hold after every step (test/model/rig-invariants.ts). */
  checkStep(): void {
    checkStepInvariants(this);
  }

  /** A step begins: stalls are counted against it from now. */
  beginStep(): void {
    this.stepStalls = this.stalls.lostMs;
  }

  /** After a step: every request the client accepted has settled (the fences may still run). */
  async afterStep(label: string, startedAt: number): Promise<void> {
    this.commands++;
    await this.until(`${label}: pendingCount 0`, () => this.client.pendingCount === 0, this.settleDeadlineMs);
    this.worstLatencyMs = Math.max(this.worstLatencyMs, performance.now() - startedAt);
    this.checkStep();
  }

  /**
   * Bring the run to rest and check the end-state invariants: every event sent was
   * delivered, every packet the client wrote on the live connection was recorded.
   */
  async quiesce(): Promise<void> {
    const id = this.currentConnectionId;
    if (this.profile.faults.flood !== undefined && id !== undefined) {
      const { flood: _flood, ...rest } = this.profile.faults;
      this.sim.setFaults(id, rest as FaultSpec);
    }
    // A round trip first: the simulator runs a connection's commands in order, so after its
    // reply every command written before it has run. A move (or workflow) written at the end
    // of the last step, e.g. an aborted moveTo's, is moving by then, not still on its way,
    // and the wait for rest below cannot pass before it even began.
    await this.roundTrip('round trip before rest');
    await this.until('the stage and workflows to stop', () => {
      const s = this.sim.snapshot();
      return s.systemState === 0 && s.stage.every((a) => !a.moving);
    });
    // A round trip: the simulator answers in order, so after its reply every event sent before it is in.
    await this.roundTrip('final round trip');
    await this.until('every sent event to arrive', () => this.clientEvents.length >= this.sentEvents().length);
    await this.until('the events() iterator to catch up', () => this.streamEvents.length >= this.clientEvents.length);
    // Nothing lost: on the live connection the simulator recorded every packet the client
    // wrote (earlier connections were cut by the simulator; there the prefix check holds).
    const last = this.clientSides.length - 1;
    const side = this.simSides[last];
    const disconnects = this.disconnects;
    if (side !== undefined && !this.client.isClosed) {
      // Counted now: a refresh pass after a reconnect may still be writing.
      const written = (this.clientSides[last] as RecordingTransport).written.length;
      const recorded = () => this.sim.recordsFor(side.connectionId).length;
      await this.until('the simulator to record every packet written', () => recorded() >= written || this.disconnects !== disconnects);
      if (this.disconnects === disconnects && recorded() < written) {
        throw new InvariantError(`live connection: client wrote ${written} packets, simulator recorded ${recorded()}`);
      }
    }
    this.checkStep();
    const sent = this.sentEvents().length;
    if (this.clientEvents.length !== sent) throw new InvariantError(`client emitted ${this.clientEvents.length} events, simulator sent ${sent}`);
    if (this.streamEvents.length !== sent) throw new InvariantError(`events() yielded ${this.streamEvents.length} events, simulator sent ${sent}`);
  }

  /** One request answered (retried across lost links), unless the client is closed. */
  private async roundTrip(label: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.client.isClosed) return;
      const result = await this.settle(label, this.client.request(Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET));
      if (result.ok) return;
      this.allowError(label, result.error);
      if (attempt > 20) throw new InvariantError(`${label} kept failing`);
    }
  }

  /** Figures for the statistics table. */
  figures(): RunFigures {
    return {
      commands: this.commands,
      events: this.clientEvents.length,
      worstLatencyMs: this.worstLatencyMs,
      droppedReplies: this.droppedReplies,
      disconnects: this.disconnects,
      resyncs: this.resyncs,
    };
  }

  /** Close everything, then check that nothing is left: requests, waiters, sockets, timers. */
  async stop(): Promise<void> {
    this.stalls.stop();
    const client = this.client as FlamingoClient | undefined;
    if (client !== undefined) {
      client.off('event', this.onEvent);
      client.off('unmatched', this.onUnmatched);
      client.off('close', this.notify);
      client.off('disconnect', this.onDisconnect);
      client.off('resync', this.onResync);
      client.off('reconnected', this.notify);
      await client.close();
      client.off('error', this.onError);
    }
    await this.sim.close();
    if (this.listener !== null) await this.listener.close();
    this.sim.removeAllListeners();
  }

  /** The end-of-run leak check (call after stop()). */
  async checkNothingLeft(): Promise<void> {
    await checkNothingLeft(this.client, this.sim, this.resourcesBefore);
  }
}
