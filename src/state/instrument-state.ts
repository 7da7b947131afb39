import { reportListenerError, type ErrorReporter } from '../../transports/safe-emitter.js';
import { EventEmitter } from 'eventemitter3';
import { Command } from '../../protocol/commands.js';
import { STATUS_OK } from '../../protocol/constants.js';
import { FlamingoError } from '../../protocol/errors.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';
import { claimPacket } from '../../protocol/wire-packet.js';
import { MoveTracker } from './moves.js';
import { REDUCERS, allLasersDisabled, previewOnly, runConfirmed, type ReduceContext } from './reducers/index.js';
import { REFRESH_GROUPS, refreshPlan, type RefreshGroup, type RefreshReport, type RefreshRequestFn } from './refresh.js';
import { EMPTY_SNAPSHOT, patch, withPart, type SnapshotDraft } from './snapshot.js';
import type { ConnectionState, CorrelationMode, InstrumentSnapshot, InstrumentStateEvents, StateChangeCause } from './types.js';

const RUN_CONFIRMED: StateChangeCause = Object.freeze({ kind: 'runConfirmed' });

/** Runs `pass` inside one exclusive lease of the client, handing it the lease's request function. */
export type ExclusiveRunner = <T>(pass: (request: RefreshRequestFn) => Promise<T>) => Promise<T>;

/** Options of {@link InstrumentState}. */
export interface InstrumentStateOptions {
  /** How {@link InstrumentState.refresh} reaches the instrument. The client supplies it; without it refresh() rejects. */
  exclusive?: ExclusiveRunner;
}

type EventName = EventEmitter.EventNames<InstrumentStateEvents>;
type AnyListener = (...args: never[]) => void;

/**
 * A mirror of the instrument kept from the packets one reader sees: stage, lasers, LED,
 * camera, filter, system state, workflow progress and the link.
 *
 * The reader calls {@link apply} with every decoded packet, in stream order, and with the
 * request a reply answers. Each packet produces at most one new snapshot, built
 * immutably (unchanged parts shared) and swapped in whole, so {@link snapshot} is O(1) and
 * never shows half a packet. `change` fires once per packet that changed something, after
 * the swap; a listener that throws is reported as `error` on the next tick and neither
 * stops the other listeners nor the mirror. spec/state.md lists which packet updates what.
 */
export class InstrumentState extends EventEmitter<InstrumentStateEvents> {
  private current: InstrumentSnapshot = EMPTY_SNAPSHOT;
  private readonly ctx: ReduceContext = { moves: new MoveTracker() };
  // Replies applied already (by the reader, or by refresh()): applying one twice could put an
  // older reading over a newer event, so the second application is a no-op.
  private readonly appliedReplies = new WeakSet<Packet>();
  private readonly exclusive: ExclusiveRunner | undefined;
  // Changes published while listeners run (a listener that sends a command) are delivered
  // after the current delivery, so every listener sees changes in the order they happened.
  private delivering = false;
  private readonly queued: Array<[InstrumentSnapshot, InstrumentSnapshot, StateChangeCause]> = [];
  private readonly guards = new WeakMap<AnyListener, AnyListener>();
  private readonly originals = new WeakMap<AnyListener, AnyListener>();

  constructor(options: InstrumentStateOptions = {}) {
    super();
    this.exclusive = options.exclusive;
  }

  /** The current state: deeply frozen, the same object until the next change. */
  snapshot(): InstrumentSnapshot {
    return this.current;
  }

  /**
   * Apply one received packet. `request` is the request it answers (a reply), or undefined
   * for an unsolicited push or a reply nobody waits for (then only replies that describe
   * themselves, such as a position with its axis, count). Returns whether anything changed.
   * Never throws for any packet content.
   */
  apply(packet: Packet, request?: PacketInit): boolean {
    const reducer = REDUCERS.get(packet.code);
    if (reducer === undefined) return false;
    if (request !== undefined) {
      // Decoded packets carry a latch (protocol/wire-packet.ts): free for the usual one
      // mirror; any other packet, or one another mirror latched first, goes by the WeakSet.
      const claim = claimPacket(packet, this);
      if (claim === 'again') return false;
      if (claim === 'unmarked') {
        if (this.appliedReplies.has(packet)) return false;
        this.appliedReplies.add(packet);
      }
    }
    const prev = this.current;
    return this.publish(prev, reducer(prev, packet, request, this.ctx), packet);
  }

  /**
   * Tell the mirror a request is about to be written. Call it for every request, before
   * its bytes go out (the reply or a resulting event may otherwise come first). It lets an
   * early STAGE_MOTION_STOPPED be matched with its move, and applies LASER_ALL_DISABLE,
   * which the firmware never acknowledges. Returns whether the state changed.
   */
  noteRequestSent(request: PacketInit): boolean {
    this.ctx.moves.noteSent(request);
    const prev = this.current;
    let draft: InstrumentSnapshot;
    if (request.code === Command.LASER_ALL_DISABLE) draft = allLasersDisabled(prev);
    // Never acknowledged either (spec/commands.json reply "never"): applied when written; the
    // instrument switches the other lines off and this one on.
    else if (request.code === Command.LASER_PREVIEW_ENABLE) draft = previewOnly(prev, request.int32Data0);
    else return false;
    return draft !== prev && this.publish(prev, draft, Object.freeze({ kind: 'sent', request }));
  }

  /**
   * A workflow this client started is running (`workflow.start` confirmed it: the system
   * read busy after the upload). The mirror then counts a run even when no gauge, stack or
   * saved-images push comes (a Tile run), so `acquisitionStarted` and, at the next idle,
   * `acquisitionFinished` fire for it. Returns whether the state changed.
   */
  noteRunConfirmed(): boolean {
    const prev = this.current;
    const draft = runConfirmed(prev);
    return draft !== prev && this.publish(prev, draft, RUN_CONFIRMED);
  }

  /** Record the link state and, when given, the correlation mode (omitted keeps the last one). */
  setConnection(state: ConnectionState, mode?: CorrelationMode): boolean {
    const prev = this.current;
    const connection = patch(prev.connection, mode === undefined ? { state } : { state, mode });
    const draft = withPart(prev, 'connection', connection);
    return draft !== prev && this.publish(prev, draft, Object.freeze({ kind: 'connection', state, mode: connection.mode }));
  }

  /**
   * Re-read everything readable ({@link refreshPlan}) in one exclusive pass through the
   * runner given at construction. See {@link refreshWith}.
   */
  async refresh(groups: readonly RefreshGroup[] = REFRESH_GROUPS): Promise<RefreshReport> {
    const exclusive = this.exclusive;
    if (exclusive === undefined) {
      throw new FlamingoError('ARGUMENT', 'InstrumentState.refresh() needs the `exclusive` option (the client provides it)');
    }
    return exclusive((request) => this.refreshWith(request, groups));
  }

  /**
   * Send the refresh plan's requests one after another with `request` and apply each reply.
   * A rejected request or a failure status is recorded in the report and the pass goes
   * on. A reply the reader already applied is not applied again.
   */
  async refreshWith(request: RefreshRequestFn, groups: readonly RefreshGroup[] = REFRESH_GROUPS): Promise<RefreshReport> {
    const plan = refreshPlan(groups);
    const failed: Array<RefreshReport['failed'][number]> = [];
    let read = 0;
    for (const item of plan) {
      const init: PacketInit & { code: number } = { ...item.fields, code: item.code };
      let reply: Packet;
      try {
        reply = await request(init);
      } catch (error) {
        failed.push({ request: item, error });
        continue;
      }
      this.apply(reply, init);
      if (reply.status === STATUS_OK) read++;
      else failed.push({ request: item, status: reply.status });
    }
    return { requested: plan.length, read, failed };
  }

  /** Stamp, freeze and publish a draft, then notify; false when the draft is the unchanged state. */
  private publish(prev: InstrumentSnapshot, draft: InstrumentSnapshot, cause: StateChangeCause): boolean {
    if (draft === prev) return false;
    (draft as SnapshotDraft).version = prev.version + 1;
    const next = Object.freeze(draft);
    this.current = next;
    if (this.delivering) {
      this.queued.push([next, prev, cause]);
      return true;
    }
    if (this.listenerCount('change') === 0) return true;
    this.delivering = true;
    try {
      this.emit('change', next, prev, cause);
      for (let entry = this.queued.shift(); entry !== undefined; entry = this.queued.shift()) {
        this.emit('change', entry[0], entry[1], entry[2]);
      }
    } finally {
      this.delivering = false;
      this.queued.length = 0;
    }
    return true;
  }

  // --- Listener isolation ----------------------------------------------------------------
  // eventemitter3 stops at the first listener that throws, which would skip the others and
  // unwind into the reader. Each `change` listener is therefore registered wrapped: the
  // wrapper catches, and reportListenerError applies the package's one rule (docs/ARCHITECTURE.md, rule 3).

  private guardOf(fn: AnyListener): AnyListener {
    if (this.originals.has(fn)) return fn;
    let guard = this.guards.get(fn);
    if (guard === undefined) {
      const report = (error: unknown): void => reportListenerError(this as unknown as ErrorReporter, error);
      guard = function guardedChangeListener(this: unknown, ...args: never[]): void {
        try {
          fn.apply(this, args);
        } catch (error) {
          report(error);
        }
      };
      this.guards.set(fn, guard);
      this.originals.set(guard, fn);
    }
    return guard;
  }

  private wrap<T extends EventName>(event: T, fn: EventEmitter.EventListener<InstrumentStateEvents, T>): typeof fn {
    return (event === 'change' ? this.guardOf(fn as unknown as AnyListener) : fn) as typeof fn;
  }

  override on<T extends EventName>(event: T, fn: EventEmitter.EventListener<InstrumentStateEvents, T>, context?: unknown): this {
    return super.on(event, this.wrap(event, fn), context);
  }

  override addListener<T extends EventName>(event: T, fn: EventEmitter.EventListener<InstrumentStateEvents, T>, context?: unknown): this {
    return super.on(event, this.wrap(event, fn), context);
  }

  override once<T extends EventName>(event: T, fn: EventEmitter.EventListener<InstrumentStateEvents, T>, context?: unknown): this {
    return super.once(event, this.wrap(event, fn), context);
  }

  override removeListener<T extends EventName>(event: T, fn?: EventEmitter.EventListener<InstrumentStateEvents, T>, context?: unknown, once?: boolean): this {
    // Look up without creating: removing a listener that was never added is a no-op.
    const registered = event === 'change' && fn !== undefined ? ((this.guards.get(fn as unknown as AnyListener) ?? fn) as typeof fn) : fn;
    return super.removeListener(event, registered, context, once);
  }

  override off<T extends EventName>(event: T, fn?: EventEmitter.EventListener<InstrumentStateEvents, T>, context?: unknown, once?: boolean): this {
    return this.removeListener(event, fn, context, once);
  }

  override listeners<T extends EventName>(event: T): Array<EventEmitter.EventListener<InstrumentStateEvents, T>> {
    return super.listeners(event).map((fn) => (this.originals.get(fn as unknown as AnyListener) ?? fn) as EventEmitter.EventListener<InstrumentStateEvents, T>);
  }
}
