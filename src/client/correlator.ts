import PQueue from 'p-queue';
import { Command, commandName } from '../../protocol/commands.js';
import type { CorrelationMode } from '../../protocol/domain.js';
import type { Packet, SequenceField } from '../../protocol/packet.js';
import type { Match } from '../correlation/claim.js';
import { Lease } from '../correlation/lease.js';
import type { OpenRequests } from '../correlation/open-requests.js';
import { PendingRequest } from '../correlation/pending.js';
import { Sequencer } from '../correlation/sequencer.js';
import type { Wire } from '../correlation/wire.js';
import { TimeoutError } from '../errors.js';
import type { ResolvedOptions } from './options.js';

const PROBE_SEQUENCE = 0x5eed0001;

/** How a request enters correlation: inside a lease-held exclusive section (its exchange), inside a sequenced one, or not. */
export type Entry = ((request: PendingRequest) => Promise<void>) | 'sequenced' | null;

/**
 * The client's correlation: the mode (fixed, or decided by the auto-mode probe), the
 * sequencer or lease that does it, and the gate of `exclusive()` sections. The one place
 * that knows which mode is in use.
 */
export class Correlator {
  private modeValue: CorrelationMode;
  private readonly lease: Lease;
  private sequencer: Sequencer | null = null;
  private readonly exclusiveQueue = new PQueue({ concurrency: 1 });
  private gateDepth = 0;
  private gateWaiters: (() => void)[] = [];

  constructor(
    private readonly options: ResolvedOptions,
    private readonly wire: Wire,
    onUnresponsive: (error: Error) => void,
  ) {
    this.lease = new Lease({
      wire,
      fenceTimeoutMs: options.requestTimeoutMs,
      maxQueued: options.maxQueued,
      queueTimeoutMs: options.queueTimeoutMs,
      onUnresponsive,
    });
    if (options.mode === 'sequenced') this.useSequencer();
    this.modeValue = options.mode === 'sequenced' ? 'sequenced' : 'lease';
  }

  /** The correlation mode in use. */
  get mode(): CorrelationMode {
    return this.modeValue;
  }

  /** The header field that carries the sequence in sequenced mode. */
  get sequenceField(): SequenceField {
    return this.sequencer?.field ?? 'clientId';
  }

  /** True while an `exclusive()` section runs: only its own writes pass. */
  get gateClosed(): boolean {
    return this.gateDepth > 0;
  }

  /** Hand `request` to the mode in use, or to the exclusive section it was made in. */
  submit(request: PendingRequest, entry: Entry): void {
    if (typeof entry === 'function') {
      request.armQueueDeadline(this.options.queueTimeoutMs);
      void entry(request);
    } else if (this.sequencer !== null && this.modeValue === 'sequenced') this.sequencer.submit(request);
    else this.lease.submit(request);
  }

  /**
   * A packet of `code` is about to be written by `send()`: in lease mode an answer it may
   * draw must never answer a later request (Lease.noteSent).
   */
  noteSent(code: number): void {
    if (this.modeValue !== 'sequenced') this.lease.noteSent(code);
  }

  /** Correlation entry point of the dispatcher. */
  readonly claim = (packet: Packet): Match => {
    if (this.modeValue === 'sequenced' && this.sequencer !== null) return this.sequencer.claim(packet);
    return this.lease.claim(packet);
  };

  /**
   * Run `section` with the gate closed, after every earlier section: under the lease (which
   * `exchange` writes through) in lease mode, in a queue of one in sequenced mode.
   */
  exclusive<T>(section: (entry: Entry) => Promise<T>): Promise<T> {
    const run = async (exchange: ((request: PendingRequest) => Promise<void>) | null): Promise<T> => {
      this.gateDepth++;
      try {
        return await section(exchange ?? 'sequenced');
      } finally {
        this.gateDepth--;
        if (this.gateDepth === 0) this.openGate();
      }
    };
    if (this.modeValue === 'lease') return this.lease.hold((exchange) => run(exchange));
    return this.exclusiveQueue.add(() => run(null));
  }

  /**
   * Resolves when the gate opens (a section ended, or the client closed), or when `signal`
   * fires first; an aborted wait leaves nothing behind (its waiter is removed).
   */
  gateOpened(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal === undefined) {
        this.gateWaiters.push(resolve);
        return;
      }
      const onAbort = (): void => {
        const i = this.gateWaiters.indexOf(wake);
        if (i >= 0) this.gateWaiters.splice(i, 1);
        resolve();
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.gateWaiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Let everything held at the gate go (a section ended, or the client closed). */
  openGate(): void {
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const w of waiters) w();
    this.sequencer?.drain();
  }

  /** The link is up: write what waited for it. */
  drain(): void {
    this.sequencer?.drain();
  }

  /**
   * The link was lost: requests whose bytes started out fail (maybe executed); those never
   * written wait for the next link when `keepUnwritten` (whileDown 'queue'), else fail as
   * never sent (spec/correlation.md "Link loss").
   */
  linkLost(cause: Error, keepUnwritten: boolean): void {
    this.sequencer?.linkLost(cause, keepUnwritten);
    this.lease.linkLost(cause, keepUnwritten);
  }

  /** The client is finished: fail the lease's fences too, or their timers outlive close(). */
  close(error: Error | undefined): void {
    this.lease.linkLost(error);
  }

  /** Auto mode: one SYSTEM_STATE_GET stamped with a sequence; an echo means sequenced. */
  async probe(open: OpenRequests): Promise<void> {
    const field = this.options.sequenceField;
    const probe = new PendingRequest({
      code: Command.SYSTEM_STATE_GET,
      name: commandName(Command.SYSTEM_STATE_GET),
      fields: { [field]: PROBE_SEQUENCE },
      payload: undefined,
      timeoutMs: this.options.probeTimeoutMs,
      expectOk: false,
      signal: undefined,
      insideExclusive: false,
    });
    open.add(probe);
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

  private useSequencer(): void {
    this.sequencer = new Sequencer({
      wire: this.wire,
      field: this.options.sequenceField,
      maxInFlight: this.options.maxInFlight,
      maxQueued: this.options.maxQueued,
      queueTimeoutMs: this.options.queueTimeoutMs,
    });
  }
}
