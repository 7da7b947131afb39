import createDebug from 'debug';
import { commandName } from '../../protocol/commands.js';
import type { Packet, SequenceField } from '../../protocol/packet.js';
import { Claim, type Match } from './claim.js';
import { QueueFullError } from '../errors.js';
import { type PendingRequest, Tombstones } from './pending.js';
import type { PendingOwner } from './pending.js';
import { encodeOrFail, lostWithLink, writeRequest } from './wire.js';
import type { Wire } from './wire.js';

/** Options of {@link Sequencer}. */
export interface SequencerOptions {
  wire: Wire;
  /** Header field that carries the sequence (clientId by default). */
  field: SequenceField;
  /** Requests on the wire at once; later ones wait in FIFO order. */
  maxInFlight: number;
  /** Requests that may wait for a slot; more are refused with QueueFullError. */
  maxQueued: number;
  /** How long a request may wait for a slot before QueueTimeoutError. */
  queueTimeoutMs: number;
  /** Late-reply memory (default 1024). */
  tombstones?: number;
  /**
   * The first sequence stamped (default 1; 1..0xFFFFFFFF). Later ones count up from it and
   * wrap to 1 after 0xFFFFFFFF. Lets a test reach the wrap without 4 billion requests.
   */
  firstSequence?: number;
}

const MAX_SEQUENCE = 0xffffffff;

/** Routing log of correlation's decisions (`DEBUG=flamingo:correlation`); every call is guarded by `enabled`. */
const log = createDebug('flamingo:correlation');

/**
 * Sequenced-mode correlation: every request carries a nonzero u32 sequence that a
 * cooperating server echoes; a packet is a reply only when both its sequence AND its code
 * equal a pending request's. Unsolicited events carry 0 and are never claimed. Pipelines up
 * to `maxInFlight` requests; sequences wrap and skip any value still pending or tombstoned.
 */
export class Sequencer implements PendingOwner {
  readonly field: SequenceField;
  private readonly options: SequencerOptions;
  private readonly inFlight = new Map<number, PendingRequest>();
  private readonly waiting: PendingRequest[] = [];
  private readonly tombstones: Tombstones;
  private next = 0;

  constructor(options: SequencerOptions) {
    this.options = options;
    this.field = options.field;
    this.tombstones = new Tombstones(options.tombstones ?? 1024);
    const first = options.firstSequence ?? 1;
    if (!Number.isInteger(first) || first < 1 || first > MAX_SEQUENCE)
      throw new RangeError(`firstSequence must be an integer in 1..${MAX_SEQUENCE}, got ${first}`);
    // nextSequence() steps before it stamps.
    this.next = first - 1;
  }

  /** Requests on the wire now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Requests waiting for a slot. */
  get queuedCount(): number {
    return this.waiting.length;
  }

  /** Write the request now if a slot is free (and the link up, and no exclusive section bars it), else queue it. */
  submit(request: PendingRequest): void {
    request.owner = this;
    if (this.waiting.length === 0 && this.canStart(request)) {
      this.start(request);
      return;
    }
    if (this.waiting.length >= this.options.maxQueued) {
      request.fail(new QueueFullError(request.name, this.options.maxQueued));
      return;
    }
    this.waiting.push(request);
    request.armQueueDeadline(this.options.queueTimeoutMs);
    // A request made inside an exclusive section may pass others the gate holds back.
    if (request.insideExclusive) this.drain();
  }

  /** Correlation: a reply (same sequence and code), a late reply (`Unmatched`), or an event. */
  claim(packet: Packet): Match {
    const sequence = packet[this.field];
    if (sequence === 0) return Claim.None;
    const request = this.inFlight.get(sequence);
    if (request !== undefined && request.replyCode === packet.code) {
      if (log.enabled) log('reply %s sequence %d -> its request (echoed sequence and code match)', request.name, sequence);
      return request;
    }
    // A nonzero sequence is an echo, never an event: a reply to a request that timed out,
    // or (code differs) a server fault. Either way nobody may take it.
    const tombstone = this.tombstones.take(sequence);
    if (log.enabled) {
      const why = tombstone
        ? 'late reply: its request timed out or was aborted'
        : request !== undefined
          ? `code differs from the pending ${request.name}`
          : 'no request pending with this sequence';
      log('unmatched %s sequence %d (%s)', commandName(packet.code), sequence, why);
    }
    return Claim.Unmatched;
  }

  /** PendingOwner: drop the request's bookkeeping; a late request leaves a tombstone. */
  release(request: PendingRequest): void {
    if (request.sequence !== 0 && this.inFlight.get(request.sequence) === request) {
      this.inFlight.delete(request.sequence);
      if (request.outcome === 'timeout') this.options.wire.timedOut?.(request);
      if (request.late) {
        this.tombstones.add(request.sequence, request.replyCode);
        if (log.enabled)
          log('%s sequence %d %s; tombstone kept for its late reply', request.name, request.sequence, request.outcome === 'timeout' ? 'timed out' : 'aborted');
      }
      this.drain();
      return;
    }
    const index = this.waiting.indexOf(request);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** Start waiting requests while slots are free (after a reply, a reconnect, or an exclusive section). */
  drain(): void {
    if (this.waiting.length === 0) return;
    let i = 0;
    while (i < this.waiting.length && this.inFlight.size < this.options.maxInFlight) {
      const request = this.waiting[i] as PendingRequest;
      if (!this.canStart(request)) {
        if (!this.options.wire.up) return;
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.start(request);
    }
  }

  /**
   * The link went down; tombstones are void. A request whose first byte reached the
   * transport fails (maybe executed). One handed to the link but still waiting behind an
   * upload never left the client: with `keepUnwritten` (reconnect, whileDown 'queue') it
   * goes back to the head of the queue, in its order, for the next link; else it fails
   * with `maybeExecuted: false`.
   */
  linkLost(cause: Error | undefined, keepUnwritten = false): void {
    const unwritten: PendingRequest[] = [];
    for (const request of [...this.inFlight.values()]) {
      if (request.started || !keepUnwritten) {
        request.fail(lostWithLink(request, cause));
        continue;
      }
      this.inFlight.delete(request.sequence);
      request.sequence = 0;
      request.writeAttempt++; // the dead link's pending write no longer speaks for it
      unwritten.push(request);
    }
    if (unwritten.length > 0) {
      this.waiting.unshift(...unwritten);
      for (const request of unwritten) request.armQueueDeadline(this.options.queueTimeoutMs);
    }
    this.tombstones.clear();
  }

  private canStart(request: PendingRequest): boolean {
    const wire = this.options.wire;
    return wire.up && this.inFlight.size < this.options.maxInFlight && (!wire.gateClosed || request.insideExclusive);
  }

  private start(request: PendingRequest): void {
    const sequence = this.allocate();
    request.sequence = sequence;
    this.inFlight.set(sequence, request);
    const bytes = encodeOrFail(request, this.field, sequence);
    if (bytes === null) return;
    writeRequest(this.options.wire, request, bytes, sequence);
  }

  private allocate(): number {
    // Bounded loop: at most maxInFlight + tombstone capacity values are taken.
    do {
      this.next = this.next >= MAX_SEQUENCE ? 1 : this.next + 1;
    } while (this.inFlight.has(this.next) || this.tombstones.has(this.next));
    return this.next;
  }
}
