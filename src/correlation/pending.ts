import { replyCodeOf } from '../../protocol/command-profile.js';
import { STATUS_OK } from '../../protocol/constants.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';
import { onAbort } from '../abort-listeners.js';
import { queueDeadlines, replyDeadlines } from './deadlines.js';
import type { OpenRequests } from './open-requests.js';
import type { DeadlineTimer, Expiring } from './deadlines.js';
import { AbortError, ProtocolError, QueueTimeoutError, TimeoutError } from '../errors.js';

/** Progress of one trailing-payload upload: payload bytes the transport has accepted, of `total`. */
export interface UploadProgress {
  readonly sent: number;
  readonly total: number;
}

/** Called after each chunk of a payload is accepted by the transport; the last call has `sent === total`. */
export type UploadProgressListener = (progress: UploadProgress) => void;

/** Request header fields a caller may set (code, flags and sequence are the client's). */
export type RequestFields = Omit<PacketInit, 'code' | 'payload' | 'addDataBytes'>;

/** Told when a request settles, however it settles, so it can drop its bookkeeping. */
export interface PendingOwner {
  release(request: PendingRequest): void;
}

/**
 * Receives a request's outcome instead of a promise: a relay that re-sends decoded packets
 * (the gateway) gives one sink for all its requests and makes no promise, closure or
 * options object per request. Called synchronously, in stream order, after the request's
 * bookkeeping is done; what a method throws is reported (the client's 'error') and unwinds nothing.
 */
export interface RequestSink {
  /** The request was handed to the transport whole (not told when it settled before, e.g. a reply beat a full socket's drain). */
  written(request: PendingRequest): void;
  /** Its reply (also a failure status: a sink request never has `expectOk`). */
  replied(request: PendingRequest, reply: Packet): void;
  /** It failed: closed link, write failure, timeout, queue deadline, refused. */
  failed(request: PendingRequest, error: Error): void;
}

/** How a request ended. */
export type Outcome = 'pending' | 'reply' | 'timeout' | 'aborted' | 'failed';

/** Settings of one request, fixed when it is made. */
export interface PendingInit {
  code: number;
  name: string;
  fields: RequestFields | undefined;
  payload: Uint8Array | undefined;
  timeoutMs: number;
  expectOk: boolean;
  signal: AbortSignal | undefined;
  /** Requests made inside `exclusive()` pass the gate that holds everyone else back. */
  insideExclusive: boolean;
  /** Told as each chunk of `payload` is accepted by the transport. */
  onUploadProgress?: UploadProgressListener | undefined;
  /** Told once when the request has been handed to the transport whole. */
  onWritten?: (() => void) | undefined;
  /** The header already encoded by the caller (RequestOptions.header); correlation only stamps its sequence into it. */
  header?: Uint8Array | undefined;
  /**
   * A decoded packet this request re-sends (a relay's): it is then the request's fields and
   * what the state mirror is told, as it is (no copy); `fields` is ignored.
   */
  source?: Packet | undefined;
  /** Where the outcome goes instead of {@link PendingRequest.promise}. */
  sink?: RequestSink | undefined;
  /** Told what `onWritten` or a `sink` method throws (the client's 'error'); without it, rethrown on a microtask. */
  onCallbackError?: ((error: unknown) => void) | undefined;
}

/**
 * One request from the call until it settles, exactly once: with its reply, or with an
 * error. Its timeout starts when it is written (docs/ARCHITECTURE.md, rule 4); the time it waits for
 * its turn has a separate deadline. A request that timed out or was aborted AFTER being
 * written is `late`: its reply may still come and must not be given to anybody else.
 */
export class PendingRequest implements Expiring {
  readonly code: number;
  /** The code its answer carries (spec/commands.json `replyCode`: 0x1009 is answered by 0x1007). */
  readonly replyCode: number;
  readonly name: string;
  readonly fields: RequestFields | undefined;
  readonly payload: Uint8Array | undefined;
  readonly timeoutMs: number;
  readonly expectOk: boolean;
  readonly signal: AbortSignal | undefined;
  readonly insideExclusive: boolean;
  readonly onUploadProgress: UploadProgressListener | undefined;
  /** The header the caller encoded already, if any (see `encodeOrFail`, src/correlation/wire.ts). */
  readonly header: Uint8Array | undefined;
  private onWritten: (() => void) | undefined;
  /**
   * The request as the state mirror sees it (its fields and code): one object, handed to
   * `noteRequestSent` when written and to `apply` with the reply, which pairs them by identity.
   */
  readonly init: PacketInit & { code: number };
  /** The decoded packet a relay re-sends with this request (PendingInit.source), else null. */
  readonly source: Packet | null;
  /** Where the outcome goes when set (PendingInit.sink); then nobody needs {@link promise}. */
  private readonly sink: RequestSink | null;
  private readonly onCallbackError: ((error: unknown) => void) | undefined;
  /** Sequence number in sequenced mode (0 until assigned, and in lease mode). */
  sequence = 0;
  /** Handed to the transport (the instrument may execute it from now on). */
  written = false;
  /**
   * Its first byte was handed to the transport: from then on the instrument may have it
   * (even when the link drops mid-payload). A request that was never started cannot have
   * been executed: `maybeExecuted: false`, and with `whileDown: 'queue'` it waits for the
   * next link instead of failing.
   */
  started = false;
  /** Counts hand-overs to a link; a write that settles for an older one is ignored (the request moved on). */
  writeAttempt = 0;
  outcome: Outcome = 'pending';
  /** Correlation bookkeeping (sequencer or lease) and the client's registry of open requests. */
  owner: PendingOwner | null = null;
  /** @internal Set by {@link OpenRequests}, which tracks the request until it settles. */
  registry: OpenRequests | null = null;
  /** @internal Its slot in `registry`. */
  registrySlot = -1;

  /** Made on first use of {@link promise}: a request delivered to a sink never makes one. */
  private promiseValue: Promise<Packet> | null = null;
  private resolveFn: ((packet: Packet) => void) | null = null;
  private rejectFn: ((error: Error) => void) | null = null;
  /** What it settled with, for a promise asked for after it settled. */
  private reply: Packet | null = null;
  private error: Error | null = null;
  /** When the reply timeout passes (performance.now() ms); Infinity until written. */
  deadline = Infinity;
  /**
   * When the request started waiting for its turn (performance.now() ms), read with the
   * clock read its queue deadline needs anyway; 0 for a request written in the same tick
   * as its call (it never waited).
   */
  queuedAt = 0;
  /** When the transport accepted it (performance.now() ms; 0 until written): its round trip starts here. */
  writtenAt = 0;
  private queueTimer: QueueDeadline | null = null;
  /** @internal Links of the reply deadline list (src/correlation/deadlines.ts); only the timer writes them. */
  timerOwner: DeadlineTimer | null = null;
  /** @internal */
  timerPrev: Expiring | null = null;
  /** @internal */
  timerNext: Expiring | null = null;
  private abortListener: (() => void) | null = null;
  private settledWaiter: (() => void) | null = null;

  constructor(init: PendingInit) {
    this.code = init.code;
    this.replyCode = replyCodeOf(init.code);
    this.name = init.name;
    this.fields = init.source ?? init.fields;
    this.payload = init.payload;
    this.timeoutMs = init.timeoutMs;
    this.expectOk = init.expectOk;
    this.signal = init.signal;
    this.insideExclusive = init.insideExclusive;
    this.onUploadProgress = init.onUploadProgress;
    this.onWritten = init.onWritten;
    this.header = init.header;
    const source = init.source;
    this.source = source ?? null;
    this.sink = init.sink ?? null;
    this.onCallbackError = init.onCallbackError;
    this.init = source ?? { ...init.fields, code: init.code };
    if (init.signal !== undefined) this.abortListener = onAbort(init.signal, () => this.abort());
  }

  /**
   * Settles with the reply, or rejects. Made when first asked for (at once by the client's
   * `request()`); a request that settled before then gets an already settled promise, and
   * one that nobody asks (a fence, a sink's request) makes none, so no rejection goes unheard.
   */
  get promise(): Promise<Packet> {
    if (this.promiseValue === null) {
      if (this.outcome === 'pending') {
        this.promiseValue = new Promise<Packet>((resolve, reject) => {
          this.resolveFn = resolve;
          this.rejectFn = reject;
        });
      } else this.promiseValue = this.error !== null ? Promise.reject(this.error) : Promise.resolve(this.reply as Packet);
    }
    return this.promiseValue;
  }

  get settled(): boolean {
    return this.outcome !== 'pending';
  }

  /** A reply may still arrive for a request that nobody waits for any more. */
  get late(): boolean {
    return this.written && (this.outcome === 'timeout' || this.outcome === 'aborted');
  }

  /** Give up if the request has not been written within `ms`. */
  armQueueDeadline(ms: number): void {
    if (this.settled || this.queueTimer !== null) return;
    const now = performance.now();
    this.queuedAt = now;
    if (!Number.isFinite(ms)) return;
    // On the shared timer, not a setTimeout per request: in lease mode every request arms
    // one, and a timer-list insert and removal per request was a measurable part of its cost.
    this.queueTimer = new QueueDeadline(this, now + ms, ms);
    queueDeadlines.add(this.queueTimer);
  }

  /** The queue deadline passed (called by the shared deadline timer). */
  queueExpired(ms: number): void {
    this.queueTimer = null;
    if (!this.written) this.fail(new QueueTimeoutError(this.name, ms, this.context()));
  }

  /** WriteOwner: the first byte is about to be handed to the transport. */
  markStarted(): void {
    this.started = true;
  }

  /** The request was handed to the transport: its reply timeout starts now. */
  markWritten(): void {
    this.written = true;
    if (this.queueTimer !== null) {
      queueDeadlines.delete(this.queueTimer);
      this.queueTimer = null;
    }
    const onWritten = this.onWritten;
    if (onWritten !== undefined) {
      this.onWritten = undefined;
      try {
        onWritten();
      } catch (error) {
        this.callbackFailed(error);
      }
    }
    if (this.settled || this.deadline !== Infinity) return;
    this.writtenAt = performance.now();
    this.deadline = this.writtenAt + this.timeoutMs;
    replyDeadlines.add(this);
    if (this.sink !== null) this.tellSink(null, null);
  }

  /** Expiring: the reply timeout passed (called by the shared deadline timer). */
  expire(): void {
    this.finish('timeout', new TimeoutError(this.name, this.timeoutMs, this.context()));
  }

  /** Settle with the reply (a ProtocolError instead when `expectOk` and the status is not OK). */
  resolveWith(packet: Packet): void {
    if (this.settled) return;
    if (this.expectOk && packet.status !== STATUS_OK) {
      this.finish('reply', new ProtocolError(`${this.name} failed with status ${packet.status}`, packet, this.context()));
      return;
    }
    this.outcome = 'reply';
    this.reply = packet;
    this.cleanup();
    this.resolveFn?.(packet);
    this.notifySettled();
    if (this.sink !== null) this.tellSink(packet, null);
  }

  /** Settle with an error (closed link, write failure, queue deadline). */
  fail(error: Error): void {
    this.finish('failed', error);
  }

  /** Resolves (never rejects) once the request has settled; for owners that wait on it. */
  whenSettled(): Promise<void> {
    if (this.settled) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.settledWaiter;
      this.settledWaiter =
        previous === null
          ? resolve
          : () => {
              previous();
              resolve();
            };
    });
  }

  /** Error context: the command and, in sequenced mode, the sequence. */
  context(): { sequence?: number } {
    return this.sequence !== 0 ? { sequence: this.sequence } : {};
  }

  private abort(): void {
    this.finish('aborted', new AbortError(this.name, { ...this.context(), cause: this.signal?.reason }));
  }

  private finish(outcome: Outcome, error: Error): void {
    if (this.settled) return;
    this.outcome = outcome;
    this.error = error;
    this.cleanup();
    this.rejectFn?.(error);
    this.notifySettled();
    if (this.sink !== null) this.tellSink(null, error);
  }

  /**
   * Tell the sink written (neither given), replied or failed. What it throws, like what
   * `onWritten` throws, is reported and not rethrown: it would unwind the reader mid-chunk,
   * a queue mid-drain or another request's settling (docs/ARCHITECTURE.md, rule 3).
   */
  private tellSink(reply: Packet | null, error: Error | null): void {
    const sink = this.sink as RequestSink;
    try {
      if (reply !== null) sink.replied(this, reply);
      else if (error !== null) sink.failed(this, error);
      else sink.written(this);
    } catch (thrown) {
      this.callbackFailed(thrown);
    }
  }

  private callbackFailed(error: unknown): void {
    if (this.onCallbackError !== undefined) this.onCallbackError(error);
    else
      queueMicrotask(() => {
        throw error;
      });
  }

  private cleanup(): void {
    if (this.deadline !== Infinity) replyDeadlines.delete(this);
    if (this.queueTimer !== null) {
      queueDeadlines.delete(this.queueTimer);
      this.queueTimer = null;
    }
    if (this.abortListener !== null) {
      this.abortListener(); // unsubscribe
      this.abortListener = null;
    }
    this.registry?.delete(this);
    this.owner?.release(this);
  }

  private notifySettled(): void {
    const waiter = this.settledWaiter;
    this.settledWaiter = null;
    waiter?.();
  }
}

/** A request's deadline for getting its turn, on the shared {@link queueDeadlines} timer. */
class QueueDeadline implements Expiring {
  timerOwner: DeadlineTimer | null = null;
  timerPrev: Expiring | null = null;
  timerNext: Expiring | null = null;
  constructor(
    private readonly request: PendingRequest,
    readonly deadline: number,
    private readonly ms: number,
  ) {}

  expire(): void {
    this.request.queueExpired(this.ms);
  }
}

/**
 * Sequences of requests that timed out or were aborted after being written, so that a
 * late reply is recognised as `unmatched` instead of an event (docs/ARCHITECTURE.md, rule 2). Bounded:
 * the oldest is forgotten first, and a forgotten sequence's reply is still `unmatched`
 * (a nonzero sequence is never an event).
 */
export class Tombstones {
  private readonly codes = new Map<number, number>();
  constructor(private readonly capacity = 1024) {}

  get size(): number {
    return this.codes.size;
  }

  add(sequence: number, code: number): void {
    if (this.codes.size >= this.capacity) {
      const oldest = this.codes.keys().next();
      if (oldest.done !== true) this.codes.delete(oldest.value);
    }
    this.codes.set(sequence, code);
  }

  has(sequence: number): boolean {
    return this.codes.has(sequence);
  }

  /** Remove the tombstone (its late reply came): the sequence may be reused. */
  take(sequence: number): boolean {
    return this.codes.delete(sequence);
  }

  clear(): void {
    this.codes.clear();
  }
}
