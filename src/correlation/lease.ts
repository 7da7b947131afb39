import createDebug from 'debug';
import { replyCodeOf, replyRule } from '../../protocol/command-profile.js';
import { FENCE_CODES } from '../../protocol/domain.js';
import PQueue from 'p-queue';
import { commandName } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { Claim, type Match } from './claim.js';
import { ConnectionClosedError, QueueFullError } from '../errors.js';
import { isAmbiguousReply, replyMatches } from './matcher.js';
import type { MatchSource } from './matcher.js';
import { PendingRequest } from './pending.js';
import type { PendingOwner } from './pending.js';
import { encodeOrFail, encodeRequest, lostWithLink, writeRequest } from './wire.js';
import type { Wire } from './wire.js';

/** Routing log of correlation's decisions (`DEBUG=flamingo:correlation`); every call is guarded by `enabled`. */
const log = createDebug('flamingo:correlation');

/** Options of {@link Lease}. */
export interface LeaseOptions {
  wire: Wire;
  /** Reply timeout of a fence request. */
  fenceTimeoutMs: number;
  /** Requests that may wait for the lease; more are refused with QueueFullError. */
  maxQueued: number;
  /** How long a request may wait for the lease before QueueTimeoutError. */
  queueTimeoutMs: number;
  /** Every fence code timed out in a row: the server is not answering; the owner drops the link. */
  onUnresponsive(error: Error): void;
}

/**
 * Lease-mode correlation, for servers that echo no sequence (published firmware): one
 * request on the wire at a time (a p-queue with concurrency 1), and its reply is the first
 * packet with its code that the command's matcher accepts (same axis, same laser...).
 * A same-code packet the matcher rejects is an event.
 *
 * Late replies (docs/ARCHITECTURE.md rule 2, spec/protocol.md §8 "Lease mode and the fence"): when a request times
 * out or is aborted after being written, its reply may still come and carries nothing to
 * tell it from the next same-code reply. So the lease is kept while a fence (a GET of a
 * different code) goes out; every packet with a late code that arrives before the fence's
 * reply is `unmatched`. The firmware answers in order, so once the fence's reply is in,
 * no older reply is still coming.
 *
 * Commands the server also pushes unasked (LASER_LEVEL_GET during workflows,
 * CAMERA_STACK_COMPLETE, LED_DISABLE) get a fence written right behind them: the first
 * accepted packet answers the caller, and the lease is held until the fence's reply, so a
 * reply that lost the race to a push can never be handed to a LATER request. What remains
 * ambiguous is written down in spec/correlation.md.
 */
export class Lease implements PendingOwner {
  private readonly options: LeaseOptions;
  private readonly queue = new PQueue({ concurrency: 1 });
  /** The request on the wire, whose reply we wait for. */
  private current: PendingRequest | null = null;
  /** The fence on the wire, if any. */
  private fence: PendingRequest | null = null;
  /** Codes of requests whose replies may still come; cleared by a fence's reply. */
  private readonly lateCodes = new Set<number>();
  /**
   * Answer codes a `send()` may have drawn (its code is answered without the flag, or its
   * behaviour is unknown, or the caller set the flag): nothing tells such a stray answer
   * from the answer to a later same-code request, so that request passes a fence first.
   */
  private readonly strayCodes = new Set<number>();
  private queued = 0;
  /**
   * The request written without a p-queue job because the lease was idle (see `submit`);
   * it holds the lease until it settles, and every job of the queue waits for that first.
   */
  private direct: PendingRequest | null = null;
  /** Set while `exchange` waits for its request: asks it to write the request again (see linkLost). */
  private rewrite: (() => void) | null = null;

  constructor(options: LeaseOptions) {
    this.options = options;
  }

  /** Requests waiting for the lease. */
  get queuedCount(): number {
    return this.queued;
  }

  /** Queue the request for the lease. */
  submit(request: PendingRequest): void {
    if (this.queued >= this.options.maxQueued) {
      request.fail(new QueueFullError(request.name, this.options.maxQueued));
      return;
    }
    request.owner = this;
    if (this.isIdle() && !isAmbiguousReply(request.code) && !this.strayCodes.has(request.replyCode)) {
      this.startDirect(request);
      return;
    }
    request.armQueueDeadline(this.options.queueTimeoutMs);
    this.queued++;
    this.queue
      .add(async () => {
        this.queued--;
        if (this.direct !== null) await this.direct.whenSettled();
        await this.exchange(request);
      })
      .catch((error: unknown) => request.fail(error as Error));
  }

  /**
   * Nothing holds the lease, waits for it, or needs a fence, and the link is up: a p-queue
   * job would start at once and write the request synchronously, exactly as `startDirect`
   * does, but at the cost of the queue's per-job bookkeeping (options, ids, a Map entry,
   * events, several promises), which was most of the lease's overhead per request.
   */
  private isIdle(): boolean {
    return (
      this.direct === null &&
      this.current === null &&
      this.fence === null &&
      this.lateCodes.size === 0 &&
      this.queue.size === 0 &&
      this.queue.pending === 0 &&
      this.options.wire.up
    );
  }

  /**
   * Write a request while the lease is idle, without a p-queue job. What `exchange` does
   * after the request settles happens in `release`, synchronously as it settles: the
   * request on the wire is cleared and a late request's code is fenced (through the queue,
   * ahead of anything submitted later). Jobs queued meanwhile (requests, `hold`) wait
   * until it has settled, so there is still only one request on the wire at a time.
   * Ambiguous codes (a trailing fence) always take the queue.
   */
  private startDirect(request: PendingRequest): void {
    const bytes = encodeOrFail(request);
    if (bytes === null) return;
    this.direct = request;
    this.current = request;
    this.write(request, bytes);
    // Written at once (the usual case): it never waited, so no queue deadline is armed (a
    // timer-set entry and a timer ref and unref per request). Still waiting for the
    // transport (behind an upload, or a full socket): its wait is bounded as a queued one's.
    if (!request.written) request.armQueueDeadline(this.options.queueTimeoutMs);
  }

  /**
   * Hold the lease for `fn` (the `exclusive()` section): nothing else is written until it
   * settles. `fn` receives a function that runs one request under the held lease.
   */
  hold<T>(fn: (exchange: (request: PendingRequest) => Promise<void>) => Promise<T>): Promise<T> {
    return this.queue.add(async () => {
      if (this.direct !== null) await this.direct.whenSettled();
      await this.passFence();
      let chain: Promise<void> = Promise.resolve();
      // Requests inside the section still go one at a time: the lease's whole point.
      const exchange = (request: PendingRequest): Promise<void> => {
        request.owner = this;
        chain = chain.then(() => this.exchange(request));
        return chain;
      };
      try {
        return await fn(exchange);
      } finally {
        // A section can end (its caller saw a timeout) while its last exchange still fences
        // the late reply; the lease is free only after that (test/regressions/regressions-lease.test.ts).
        await chain;
      }
    });
  }

  /** Correlation: a late code before its fence → `Unmatched`; the current request's reply; else an event. */
  claim(packet: Packet): Match {
    const code = packet.code;
    if (this.lateCodes.size > 0 && this.lateCodes.has(code)) {
      if (log.enabled) log('unmatched %s (late reply: its code timed out or was aborted and no fence has passed yet)', commandName(code));
      return Claim.Unmatched;
    }
    const current = this.current;
    if (current !== null && !current.settled && code === current.replyCode && replyMatches(current.code, current.fields as MatchSource, packet)) {
      if (log.enabled) log('reply %s -> the request holding the lease (same code, matcher accepts)', current.name);
      return current;
    }
    const fence = this.fence;
    if (fence !== null && !fence.settled && code === fence.code) {
      // Cleared here, not when the awaiting task resumes: a packet later in this same chunk
      // already comes after the fence and must be an event again.
      if (log.enabled)
        log(
          'fence %s passed: no earlier reply is still coming (late codes cleared: %s)',
          fence.name,
          [...this.lateCodes].map(commandName).join(', ') || 'none',
        );
      this.lateCodes.clear();
      return fence;
    }
    return Claim.None;
  }

  /**
   * PendingOwner: a request written by `startDirect` gives the lease back here (as
   * `exchange` does after it settles); for the others nothing to drop, since `exchange`
   * waits on the request itself.
   */
  release(request: PendingRequest): void {
    if (request !== this.direct) return;
    if (request.outcome === 'aborted' && !request.written) {
      // Aborted in the same tick as its write: the transport may have accepted the bytes
      // with `markWritten` still queued. Decide lateness after it, as `exchange` does one
      // microtask after the settle; the lease stays held until then.
      queueMicrotask(() => this.giveBack(request));
      return;
    }
    this.giveBack(request);
  }

  /** The end of a `startDirect` exchange: the lease is free, or a late reply is fenced first. */
  private giveBack(request: PendingRequest): void {
    this.direct = null;
    this.settle(request);
    // As `exchange` does: fence the late reply off before the lease goes to anyone else.
    // The job is queued now, so it precedes every request submitted after this point.
    if (request.late) void this.queue.add(() => this.passFence());
  }

  /**
   * The one settle step of both paths (`giveBack` after `startDirect`, and `exchange`): the
   * request is no longer on the wire, and if its reply may still come its code is late
   * until a fence has passed.
   */
  private settle(request: PendingRequest): void {
    if (this.current === request) this.current = null;
    if (request.outcome === 'timeout') this.options.wire.timedOut?.(request);
    if (request.late) {
      this.lateCodes.add(request.replyCode);
      if (log.enabled)
        log('%s %s after being written; its code is late until a fence passes', request.name, request.outcome === 'timeout' ? 'timed out' : 'was aborted');
    }
  }

  /**
   * The link went down; late replies can no longer come. The request on the wire fails
   * (maybe executed) if its first byte reached the transport. One still waiting behind an
   * upload never left the client: with `keepUnwritten` (reconnect, whileDown 'queue') it
   * keeps the lease and is written on the next link; else it fails with
   * `maybeExecuted: false`.
   */
  linkLost(cause: Error | undefined, keepUnwritten = false): void {
    const current = this.current;
    if (current !== null && !current.settled) {
      if (current.started || !keepUnwritten) current.fail(lostWithLink(current, cause));
      else {
        current.writeAttempt++; // the dead link's pending write no longer speaks for it
        this.current = null;
        if (current === this.direct) this.rewriteWhenUp(current);
        else this.rewrite?.();
      }
    }
    this.fence?.fail(new ConnectionClosedError('connection lost during a lease fence', true, { cause }));
    this.lateCodes.clear();
    this.strayCodes.clear();
  }

  /**
   * A packet of `code` was written by `send()` (not waited for). Unless the code is never
   * answered (reply rule `never`), that answer's code is remembered and the next request of
   * it is fenced (spec/correlation.md). A flagless `send()` of an `on-flag` code is fenced
   * too: only a few codes were seen unanswered without the flag, the rest were only ever
   * sent with it, and a fence costs one round trip where a stray answer would be taken for
   * the next request's (spec/protocol.md §5.1: no rule is made out of silence).
   */
  noteSent(code: number): void {
    if (replyRule(code) === 'never') return;
    this.strayCodes.add(replyCodeOf(code));
  }

  /** A direct request kept over a lost link: written again once the link is back (it still holds the lease). */
  private rewriteWhenUp(request: PendingRequest): void {
    void this.waitUntilUp(request).then((up) => {
      if (!up) return;
      const bytes = encodeOrFail(request);
      if (bytes === null) return;
      this.current = request;
      this.write(request, bytes);
    });
  }

  /** Resolves true once the link is up (false when the request settled first); fails the request if the client is finished. */
  private async waitUntilUp(request: PendingRequest): Promise<boolean> {
    const wire = this.options.wire;
    while (!request.settled && !wire.up) {
      // Down (reconnect with whileDown 'queue'): wait for the link or the request's own deadline.
      const up = await Promise.race([wire.whenUp(), request.whenSettled().then(() => true)]);
      if (!up && !request.settled) {
        request.fail(new ConnectionClosedError(`${request.name} was not sent: the client is closed`, false, { command: request.name }));
      }
    }
    return !request.settled;
  }

  /** Resolves false when the request settled, true when linkLost asks for it to be written again. */
  private settledOrRewrite(request: PendingRequest): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.rewrite = () => resolve(true);
      void request.whenSettled().then(() => resolve(false));
    }).finally(() => {
      this.rewrite = null;
    });
  }

  /** Run one request while holding the lease. Never throws: every outcome settles the request. */
  private async exchange(request: PendingRequest): Promise<void> {
    if (request.settled) return;
    if (this.strayCodes.delete(request.replyCode)) this.lateCodes.add(request.replyCode);
    if (this.lateCodes.size > 0) await this.passFence();
    if (!(await this.waitUntilUp(request))) return;

    const bytes = encodeOrFail(request);
    if (bytes === null) return;
    let trailingFence: PendingRequest | null;
    for (;;) {
      this.current = request;
      trailingFence = isAmbiguousReply(request.code) ? this.makeFence() : null;
      this.write(request, bytes);
      if (trailingFence !== null) {
        this.fence = trailingFence;
        this.write(trailingFence, encodeRequest(trailingFence));
      }
      // The link may drop before the request's first byte went out (it waited behind an
      // upload): then it is written again on the next link, still holding the lease.
      if (!(await this.settledOrRewrite(request))) break;
      this.fence = null;
      if (!(await this.waitUntilUp(request))) return;
    }
    this.settle(request);
    if (trailingFence !== null) {
      await trailingFence.whenSettled();
      this.fence = null;
      if (trailingFence.outcome === 'reply') this.lateCodes.clear();
      else if (trailingFence.late) this.lateCodes.add(trailingFence.code);
    }
    if (this.lateCodes.size > 0) await this.passFence();
  }

  /**
   * Send fences until one is answered; each has a code that is not late. When every
   * candidate has timed out the server is not answering: report it and give up.
   */
  private async passFence(): Promise<void> {
    while (this.lateCodes.size > 0 && this.options.wire.up) {
      const fence = this.makeFence();
      if (fence === null) {
        const codes = [...this.lateCodes].map(commandName).join(', ');
        this.lateCodes.clear();
        this.options.onUnresponsive(new Error(`server stopped answering: fences timed out after late ${codes}`));
        return;
      }
      this.fence = fence;
      this.write(fence, encodeRequest(fence));
      await fence.whenSettled();
      this.fence = null;
      if (fence.outcome === 'reply') this.lateCodes.clear();
      else if (fence.late) this.lateCodes.add(fence.code);
      else return; // the link failed; linkLost cleared the late codes
    }
  }

  private makeFence(): PendingRequest | null {
    const code = FENCE_CODES.find((c) => !this.lateCodes.has(c) && c !== this.current?.replyCode);
    if (code === undefined) return null;
    const fence = new PendingRequest({
      code,
      name: commandName(code),
      fields: undefined,
      payload: undefined,
      timeoutMs: this.options.fenceTimeoutMs,
      expectOk: false,
      signal: undefined,
      insideExclusive: true,
    });
    // Nobody asks for a fence's promise (none is made): its outcome is read from the request itself.
    return fence;
  }

  private write(request: PendingRequest, bytes: Uint8Array): void {
    if (request === this.fence) {
      this.options.wire.fenced?.(request);
      if (log.enabled) log('fence %s sent (late: %s)', request.name, [...this.lateCodes].map(commandName).join(', ') || 'none; trailing an ambiguous reply');
    }
    writeRequest(this.options.wire, request, bytes);
  }
}
