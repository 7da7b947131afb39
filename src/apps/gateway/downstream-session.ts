import { replyRule } from '../../../protocol/command-profile.js';
import { commandName, commandSpec } from '../../../protocol/commands.js';
import { STATUS_FAILED, STATUS_OK } from '../../../protocol/constants.js';
import { Deframer } from '../../../protocol/deframer.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import type { Transport } from '../../../transports/transport.js';
import type { ExclusiveTx, FlamingoClient } from '../../client/client.js';
import type { PendingRequest, RequestFields, RequestSink } from '../../correlation/pending.js';
import { matcherFields } from '../../correlation/matcher.js';
import { helloCarriesToken, readOnlyAllows } from './access.js';
import { GatewayCommand } from './extension.js';
import type { LeaseBroker } from './lease-broker.js';
import { Outbox } from './outbox.js';
import { ReplySlab } from './reply-slab.js';
import { failureText, type SessionEnd } from './session-end.js';

export { describeEnd, type SessionEnd } from './session-end.js';

/** What a session needs from its gateway. */
export interface SessionHost {
  readonly upstream: FlamingoClient;
  readonly leases: LeaseBroker;
  /** The token's bytes when one is required (then the first packet must be GATEWAY_HELLO). */
  readonly token: Uint8Array | null;
  readonly maxOutgoingBytes: number;
  readonly maxPendingPerSession: number;
  readonly maxPayloadBytes: number;
  readonly helloTimeoutMs: number;
  /** The session passed the token check (or none was needed). */
  opened(session: DownstreamSession): void;
  /** The session is gone; `reason` says why when the gateway ended it. */
  closed(session: DownstreamSession, reason: SessionEnd): void;
  /** A request was refused on a read-only connection. */
  refusedReadOnly(session: DownstreamSession, code: number): void;
}

const NO_OPTIONS = {};

const HEADER_IDS = ['hardwareId', 'subsystemId', 'clientId'] as const;

/**
 * One downstream client of the gateway: its own deframer (one reader per connection), its
 * bounded outbox, and its commands forwarded in the order it sent them.
 *
 * Ordering (spec/protocol.md, "Per-connection order at the instrument"): the session has
 * at most one packet handed upstream and not yet written, so the instrument sees each
 * client's packets in the client's order. A request with 0 in all three sequence fields (a
 * legacy client) holds the later packets back until its reply has been sent, so such a
 * client gets its replies in its own order. A request with a nonzero sequence field is
 * pipelined: the next packet goes once it is written (its reply goes back with the
 * client's own hardwareId/subsystemId/clientId, whatever the upstream sequence was). A
 * packet without TRIGGER_CALL_BACK holds the later ones back until it is written, unless the
 * instrument answers its code anyway (reply rule `always`): then it is forwarded as a
 * request and its answer goes to this client alone.
 */
export class DownstreamSession {
  readonly id: number;
  readonly readOnly: boolean;
  readonly transport: Transport;
  /** Requests forwarded and answered (a failure reply included). */
  requests = 0;
  /** Replies that were failures made by the gateway (upstream lost, timeout, refused). */
  failures = 0;
  /** Events sent to this client. */
  events = 0;
  private readonly host: SessionHost;
  private readonly deframer: Deframer;
  private readonly outbox: Outbox;
  private readonly replies = new ReplySlab();
  private authenticated: boolean;
  private ended = false;
  private helloTimer: NodeJS.Timeout | null = null;
  private readonly ops: Packet[] = [];
  private blocked = false;
  private outstanding = 0;
  /** Requests on the wire inside this session's lease section; the section ends only after them. */
  private readonly inLease = new Set<PendingRequest>();
  private leaseIdle: (() => void)[] = [];
  /**
   * The forwarded request later packets wait for (not yet written; or, from a legacy
   * client, not yet answered), and the wake-up of that wait.
   */
  private awaited: PendingRequest | null = null;
  private awaitedReply = false;
  private wake: (() => void) | null = null;
  /** Where the upstream client delivers this session's forwarded requests (one object for all of them). */
  private readonly sink: RequestSink = {
    written: (request) => {
      if (request === this.awaited && !this.awaitedReply) this.stopWaiting();
    },
    replied: (request, reply) => {
      this.settledOne(request);
      this.requests++;
      this.sendReply(request.source as Packet, reply);
    },
    failed: (request, error) => {
      this.settledOne(request);
      this.fail(request.source as Packet, failureText(error));
    },
  };

  constructor(id: number, transport: Transport, readOnly: boolean, host: SessionHost) {
    this.id = id;
    this.transport = transport;
    this.readOnly = readOnly;
    this.host = host;
    this.authenticated = host.token === null;
    this.deframer = new Deframer({
      maxPayloadBytes: host.maxPayloadBytes,
      onError: (error) => this.end({ kind: 'frame', detail: error.message }),
    });
    this.outbox = new Outbox(transport, host.maxOutgoingBytes, (backlogBytes) => this.end({ kind: 'slow', backlogBytes }));
  }

  /** Peer address. */
  get description(): string {
    return this.transport.description;
  }

  /** Passed the token check and not closed: gets events. */
  get isOpen(): boolean {
    return this.authenticated && !this.ended;
  }

  /** Bytes waiting to be accepted by the client's connection. */
  get backlogBytes(): number {
    return this.outbox.backlogBytes;
  }

  /** Become the transport's reader. */
  start(): void {
    if (!this.authenticated) {
      this.helloTimer = setTimeout(
        () => this.end({ kind: 'token', detail: `no GATEWAY_HELLO within ${this.host.helloTimeoutMs} ms` }),
        this.host.helloTimeoutMs,
      );
    }
    this.transport.attach({
      data: (chunk) => this.receive(chunk),
      close: (error) => this.end({ kind: 'peer', error }),
    });
    if (this.authenticated && !this.ended) this.host.opened(this);
  }

  /** Send an event (already encoded, shared with the other sessions). */
  sendEvent(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    if (this.outbox.push(bytes)) this.events++;
  }

  /** End the session: lease released, connection destroyed. Idempotent. */
  end(reason: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    if (this.helloTimer !== null) {
      clearTimeout(this.helloTimer);
      this.helloTimer = null;
    }
    this.ops.length = 0;
    void this.releaseLease();
    // A refused token gets its failure reply flushed; a slow or broken peer is cut at once.
    if (reason.kind === 'token') void this.transport.close();
    else if (reason.kind !== 'peer') this.transport.destroy();
    this.host.closed(this, reason);
  }

  private receive(chunk: Uint8Array): void {
    if (this.ended) return;
    const packets = this.deframer.push(chunk);
    for (let i = 0; i < packets.length && !this.ended; i++) this.accept(packets[i] as Packet);
  }

  private accept(packet: Packet): void {
    if (!this.authenticated) {
      this.checkHello(packet);
      return;
    }
    // A release right behind an acquire that is still waiting (and holds this queue)
    // withdraws it at once. With packets between them it is the end of a section the app
    // wrote ahead (acquire, commands, release): it waits its turn, so those commands still
    // run under the lease rather than without it (issue 18's gateway model found this).
    if (packet.code === GatewayCommand.LEASE_RELEASE && this.ops.length === 0 && this.host.leases.isWaiting(this)) this.host.leases.release(this);
    if (this.ops.length + this.outstanding >= this.host.maxPendingPerSession) {
      this.fail(packet, 'gateway: too many requests pending');
      return;
    }
    this.ops.push(packet);
    if (!this.blocked) this.pump();
  }

  private checkHello(packet: Packet): void {
    const token = this.host.token as Uint8Array;
    if (!helloCarriesToken(packet, token)) {
      if (packet.code === GatewayCommand.GATEWAY_HELLO) this.fail(packet, 'gateway: wrong token');
      this.end({
        kind: 'token',
        detail: packet.code === GatewayCommand.GATEWAY_HELLO ? 'wrong token' : `first packet was ${commandName(packet.code)}, not GATEWAY_HELLO`,
      });
      return;
    }
    this.authenticated = true;
    if (this.helloTimer !== null) {
      clearTimeout(this.helloTimer);
      this.helloTimer = null;
    }
    this.answer(packet, STATUS_OK);
    this.host.opened(this);
  }

  /** Start queued packets in order until one must be waited for. */
  private pump(): void {
    while (!this.blocked && !this.ended && this.ops.length > 0) {
      const packet = this.ops.shift() as Packet;
      const wait = this.startOne(packet);
      if (wait !== undefined) {
        this.blocked = true;
        wait.then(this.unblock, this.unblock);
      }
    }
  }

  private readonly unblock = (): void => {
    this.blocked = false;
    this.pump();
  };

  /** Forward or answer one packet; returns a promise when later packets must wait for it. */
  private startOne(packet: Packet): Promise<unknown> | undefined {
    const code = packet.code;
    const wantsReply = (packet.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) !== 0;
    if (code === GatewayCommand.GATEWAY_HELLO) {
      this.answer(packet, STATUS_OK);
      return undefined;
    }
    if (code === GatewayCommand.LEASE_RELEASE) return this.releaseLease().then(() => this.answer(packet, STATUS_OK));
    if (this.readOnly && !readOnlyAllows(code)) {
      this.host.refusedReadOnly(this, code);
      this.fail(packet, 'gateway: read-only connection');
      return undefined;
    }
    if (code === GatewayCommand.LEASE_ACQUIRE) {
      return this.host.leases.acquire(this).then((granted) => this.answer(packet, granted ? STATUS_OK : STATUS_FAILED));
    }
    const spec = commandSpec(code);
    if (spec?.kind === 'event') {
      // A code the instrument only pushes (SYSTEM_STATE_IDLE, STAGE_MOTION_STOPPED, UI_*):
      // whatever came back would look like the push to every app (a workflow.start ending
      // early), so it is not forwarded; the sender gets a failure reply (spec/protocol.md).
      this.fail(packet, `gateway: ${spec.name} is an event, not a command`);
      return undefined;
    }
    const tx = this.host.leases.txFor(this);
    const target: FlamingoClient | ExclusiveTx = tx ?? this.host.upstream;
    // A code the instrument answers with or without the flag (reply rule `always`:
    // SYSTEM_STATE_GET, WORKFLOW_STOP...) is forwarded as a request even without it, so its
    // answer comes back through the upstream correlation to this client alone, rather than
    // to every app as an event or as another app's same-code reply (spec/protocol.md).
    if ((!wantsReply && replyRule(code) !== 'always') || spec?.replies === false) {
      // Fire-and-forget (or a command the instrument never answers): later packets wait
      // until it is written, so the instrument sees this client's commands in order.
      return target.send(code, fieldsOf(packet), packet.payload !== undefined ? { payload: packet.payload } : NO_OPTIONS).catch(() => undefined);
    }
    this.outstanding++;
    // The upstream header is written here from the decoded packet, into this session's slab,
    // so correlation does not encode it again; the outcome comes back through `sink`.
    const request = this.host.upstream.forward(packet, this.replies.forward(packet), this.sink, tx);
    if (tx !== null && !request.settled) this.inLease.add(request);
    const legacy = packet.hardwareId === 0 && packet.subsystemId === 0 && packet.clientId === 0;
    // Pipelined: the next packet may go once this one is on the wire (at once when the link
    // is free), not before: a request waiting in the upstream queue must not be overtaken
    // by this app's next packet (a STAGE_HALT behind a STAGE_POSITION_SET, issue 18). A
    // legacy client's next packet waits for this one's reply.
    if (request.settled || (!legacy && request.written)) return undefined;
    this.awaited = request;
    this.awaitedReply = legacy;
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** The awaited request was written (or answered, or failed): the session's next packets may go. */
  private stopWaiting(): void {
    const wake = this.wake;
    this.awaited = null;
    this.wake = null;
    wake?.();
  }

  /** A forwarded request settled (the sink, before its answer is sent). */
  private settledOne(request: PendingRequest): void {
    this.outstanding--;
    if (request === this.awaited) this.stopWaiting();
    if (this.inLease.size > 0 && this.inLease.delete(request) && this.inLease.size === 0 && this.leaseIdle.length > 0) {
      const waiters = this.leaseIdle;
      this.leaseIdle = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Give the lease back (or stop waiting for it). A held lease is released only once the
   * requests written inside it have settled: in lease mode upstream, releasing earlier would
   * let another client's request onto the wire while ours still waits for its reply.
   */
  private async releaseLease(): Promise<void> {
    const leases = this.host.leases;
    if (leases.isWaiting(this)) {
      leases.release(this);
      return;
    }
    if (leases.holder !== this) return;
    if (this.inLease.size > 0) await new Promise<void>((resolve) => this.leaseIdle.push(resolve));
    leases.release(this);
  }

  /** The instrument's reply, with this client's own sequence fields put back. */
  private sendReply(request: Packet, reply: Packet): void {
    if (this.ended) return;
    if (reply.payload === undefined) {
      this.outbox.push(this.replies.relay(reply, request.hardwareId, request.subsystemId, request.clientId));
      return;
    }
    const init: PacketInit = {
      code: reply.code,
      status: reply.status,
      hardwareId: request.hardwareId,
      subsystemId: request.subsystemId,
      clientId: request.clientId,
      int32Data0: reply.int32Data0,
      int32Data1: reply.int32Data1,
      int32Data2: reply.int32Data2,
      cmdDataBits0: reply.cmdDataBits0,
      value: reply.value,
      data: reply.data,
    };
    if (reply.payload !== undefined) init.payload = reply.payload;
    this.outbox.push(this.replies.encode(init));
  }

  /** A reply the gateway makes itself (only when the client asked for one). */
  private answer(request: Packet, status: number): void {
    if (this.ended || (request.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) === 0) return;
    this.outbox.push(
      this.replies.encode({ code: request.code, status, hardwareId: request.hardwareId, subsystemId: request.subsystemId, clientId: request.clientId }),
    );
  }

  /**
   * A failure reply (status 0) made by the gateway, when the client asked for a reply: its
   * sequence fields and the command's lease-matcher fields (axis, laser) are echoed so that
   * either kind of client recognises it as the answer; the data field says why.
   */
  private fail(request: Packet, reason: string): void {
    if (this.ended || (request.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) === 0) return;
    this.failures++;
    this.requests++;
    const init: PacketInit = { code: request.code, status: STATUS_FAILED, data: reason };
    for (const field of HEADER_IDS) init[field] = request[field];
    for (const field of matcherFields(request.code)) (init as Record<string, unknown>)[field] = request[field];
    this.outbox.push(this.replies.encode(init));
  }
}

/** Request fields to forward: everything but the sequence fields (the upstream client stamps its own). */
function fieldsOf(packet: Packet): RequestFields {
  return {
    status: packet.status,
    int32Data0: packet.int32Data0,
    int32Data1: packet.int32Data1,
    int32Data2: packet.int32Data2,
    cmdDataBits0: packet.cmdDataBits0,
    value: packet.value,
    data: packet.data,
  };
}
