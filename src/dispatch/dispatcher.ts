import createDebug from 'debug';
import { BARE_TEXT_REPLY_CODES } from '../../protocol/command-profile.js';
import { commandSpec, commandName } from '../../protocol/commands.js';
import type { CommandName } from '../../protocol/commands.js';
import { Deframer } from '../../protocol/deframer.js';
import type { ResyncInfo } from '../../protocol/deframer.js';
import type { FrameError } from '../../protocol/errors.js';
import type { Packet } from '../../protocol/packet.js';
import type { Transport } from '../../transports/transport.js';
import { Claim } from '../correlation/claim.js';

export { Claim };

/** Routing logs (docs/observability.md); every call is guarded by `enabled`, so they cost nothing when off. */
const wireLog = createDebug('flamingo:wire');
const correlationLog = createDebug('flamingo:correlation');

/** Events of the packet stream: every unsolicited packet by name and as `'event'`. */
export type PacketEvents = { [K in CommandName]: [packet: Packet] };

/** Events the dispatcher emits. */
export type DispatcherEvents = PacketEvents & {
  /** Every packet that is not a reply (unsolicited events, and same-code packets the matcher rejected). */
  event: [packet: Packet];
  /** A reply nobody waits for any more, e.g. one that arrived after its request timed out. */
  unmatched: [packet: Packet];
  /** The deframer skipped garbage to find the next packet; the connection keeps working. */
  resync: [info: ResyncInfo];
  /** A framing error (over-limit payload claim), or an exception a listener threw. */
  error: [error: Error];
};

/** Anything that emits {@link DispatcherEvents} (a SafeEmitter, the client). */
export interface EventSink {
  emit(event: string, arg: unknown): boolean;
}

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Where events go: the client itself, so listeners registered once survive reconnects. */
  emitter: EventSink;
  /** Offered every packet first; claims replies for pending requests. */
  correlate(packet: Packet): Claim;
  /** Sees every event before listeners do (the client's `waitFor` waiters). */
  observe?(packet: Packet): void;
  /** The link closed; `error` is set when it did not close cleanly. Called once. */
  onClose(error: Error | undefined): void;
  /** An unrecoverable framing error; called after the chunk's good packets were dispatched. */
  onFrameError?(error: FrameError): void;
  /** Largest accepted trailing payload (default: the deframer's 64 MiB). */
  maxPayloadBytes?: number;
  /**
   * Sees every packet correlation did not hand to a request (events, late replies), in
   * stream order, before any listener: the state mirror. Replies reach it through
   * correlation (`Wire.replied`) before their request resolves. Must not throw.
   */
  mirror?: { apply(packet: Packet): unknown };
  /** Told after each chunk that completed at least one packet (statistics: the last packet time). */
  onPackets?(): void;
  /** Told each resync (statistics), before `'resync'` is emitted. */
  onResync?(info: ResyncInfo): void;
  /**
   * How long the stream must stay quiet before a settings answer (0x1007) sent with
   * addDataBytes 0 is handed out with the bare text that followed it (default 100 ms;
   * the next packet's start marker ends the text sooner). spec/protocol.md "Settings".
   */
  bareTextQuietMs?: number;
}

/** Default of {@link DispatcherOptions.bareTextQuietMs}. */
export const DEFAULT_BARE_TEXT_QUIET_MS = 100;

/**
 * The one reader of a connection: bytes → Deframer → packets; each packet is offered to
 * correlation first and becomes an event only when no pending request claims it. A
 * second reader would steal replies, which is the race the public Python client has;
 * `Transport.attach` enforces there is only this one.
 */
export class Dispatcher {
  readonly transport: Transport;
  private readonly options: DispatcherOptions;
  private readonly deframer: Deframer;
  private frameError: FrameError | null = null;
  private stopped = false;
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(transport: Transport, options: DispatcherOptions) {
    this.transport = transport;
    this.options = options;
    this.deframer = new Deframer({
      ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
      bareTextCodes: BARE_TEXT_REPLY_CODES,
      onResync: (info) => {
        if (wireLog.enabled) wireLog('resync on %s: skipped %d bytes of garbage', transport.description, info.skippedBytes);
        options.onResync?.(info);
        options.emitter.emit('resync', info);
      },
      // Held until the chunk's earlier packets are dispatched: they precede the bad header.
      onError: (error) => {
        if (this.frameError === null) this.frameError = error;
      },
    });
  }

  /** Become the transport's reader. */
  start(): void {
    this.transport.attach({
      data: (chunk) => this.receive(chunk),
      close: (error) => {
        // The text collected so far is all there will be: its request gets it before the close.
        this.flushBareText();
        this.stopped = true;
        this.options.onClose(error);
      },
    });
  }

  private receive(chunk: Uint8Array): void {
    if (this.stopped) return;
    const packets = this.deframer.push(chunk);
    if (packets.length > 0) this.options.onPackets?.();
    for (let i = 0; i < packets.length; i++) this.dispatch(packets[i] as Packet);
    if (this.deframer.holdsBareText) this.armQuietTimer();
    else if (this.quietTimer !== undefined) {
      clearTimeout(this.quietTimer);
      this.quietTimer = undefined;
    }
    if (this.frameError !== null) {
      const error = this.frameError;
      this.frameError = null;
      // Everything after an over-limit claim is suspect; stop reading and let the owner close.
      this.stopped = true;
      this.options.emitter.emit('error', error);
      this.options.onFrameError?.(error);
    }
  }

  /** (Re)start the quiet timer: each chunk of bare text pushes the end further out. */
  private armQuietTimer(): void {
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      this.flushBareText();
    }, this.options.bareTextQuietMs ?? DEFAULT_BARE_TEXT_QUIET_MS);
  }

  private flushBareText(): void {
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    if (this.stopped) return;
    const held = this.deframer.flushBareText();
    if (held.length > 0) this.options.onPackets?.();
    for (let i = 0; i < held.length; i++) this.dispatch(held[i] as Packet);
  }

  private dispatch(packet: Packet): void {
    const claim = this.options.correlate(packet);
    const emitter = this.options.emitter;
    if (claim === Claim.Reply) return;
    // Before listeners, so one that reads the mirror sees this packet applied.
    this.options.mirror?.apply(packet);
    if (claim === Claim.Unmatched) {
      emitter.emit('unmatched', packet);
      return;
    }
    if (correlationLog.enabled) correlationLog('event %s (no pending request claims it)', commandName(packet.code));
    this.options.observe?.(packet);
    emitter.emit('event', packet);
    const spec = commandSpec(packet.code);
    emitter.emit(spec !== undefined ? spec.name : commandName(packet.code), packet);
  }
}
