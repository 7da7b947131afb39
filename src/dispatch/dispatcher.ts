import createDebug from 'debug';
import { BARE_TEXT_REPLY_CODES } from '../../protocol/command-profile.js';
import { commandSpec, commandName } from '../../protocol/commands.js';
import type { CommandName } from '../../protocol/commands.js';
import { Deframer } from '../../protocol/deframer.js';
import type { ResyncInfo } from '../../protocol/deframer.js';
import type { FrameError } from '../../protocol/errors.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';
import type { Transport } from '../../transports/transport.js';
import { Claim, type Match } from '../correlation/claim.js';

export { Claim };
export type { Match };

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
  /**
   * Offered every packet first: the pending request whose reply it is (which the
   * dispatcher then resolves), or what else it is. Settles nothing itself.
   */
  correlate(packet: Packet): Match;
  /** Sees every event before listeners do (the client's `waitFor` waiters). */
  observe?(packet: Packet): void;
  /** The link closed; `error` is set when it did not close cleanly. Called once. */
  onClose(error: Error | undefined): void;
  /** An unrecoverable framing error; called after the chunk's good packets were dispatched. */
  onFrameError?(error: FrameError): void;
  /** Largest accepted trailing payload (default: the deframer's 64 MiB). */
  maxPayloadBytes?: number;
  /**
   * Sees every packet, in stream order, before anyone else: the state mirror. A reply is
   * applied with the request it answers (`sent`) just before that request resolves, an
   * event or late reply before any listener. Must not throw.
   */
  mirror?: { apply(packet: Packet, sent?: PacketInit): unknown };
  /**
   * Told each reply with the request it answers, after the mirror applied it and just before
   * the request resolves (statistics: the round trip ends here). Must not throw.
   */
  onReply?(packet: Packet, request: Exclude<Match, Claim>): void;
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
const DEFAULT_BARE_TEXT_QUIET_MS = 100;

/**
 * The one reader of a connection: bytes → Deframer → packets; each packet is offered to
 * correlation first, then applied to the state mirror, then handed to the request it
 * answers or, when none claims it, emitted as an event. A
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
    const match = this.options.correlate(packet);
    if (typeof match === 'object') {
      // The mirror first, then the request: code awaiting the reply already sees it applied
      // (spec/state.md), and the data takes one path only: here.
      this.options.mirror?.apply(packet, match.init);
      this.options.onReply?.(packet, match);
      match.resolveWith(packet);
      return;
    }
    const emitter = this.options.emitter;
    // Before listeners, so one that reads the mirror sees this packet applied.
    this.options.mirror?.apply(packet);
    if (match === Claim.Unmatched) {
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
