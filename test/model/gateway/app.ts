import { dataText, encodePacket } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { Deframer } from '../../../protocol/deframer.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import type { MemoryTransport } from '../../../transports/memory.js';
import { writeAndWaitForRoom } from '../../../transports/transport.js';

/**
 * Where an app's packet number goes so the instrument's record tells whose packet it is and
 * in which place of that app's stream: int32Data2, which none of the commands the model sends
 * reads. tag = app id × TAG_BASE + n (n counts from 1).
 */
export const TAG_BASE = 10_000;

/** Codes a legacy (unsequenced) request uses: never pushed, so a 0-sequence packet of them is its reply. */
const LEGACY_CODES: ReadonlySet<number> = new Set([Command.SYSTEM_STATE_GET, Command.CAMERA_IMAGE_SIZE_GET]);

/** The reply an app waits for. */
export interface Expected {
  code: number;
  /** The axis or laser the reply must echo (int32Data0), when the command has a matcher. */
  echo0?: number;
  /** Status the reply must carry. */
  status: number;
  /** The reply is made by the gateway: its data field starts with `gateway:`. */
  byGateway?: boolean;
  /** LEASE_ACQUIRE: status 1, or 0 when the app withdrew it. */
  lease?: boolean;
}

/**
 * One downstream app as a raw protocol client over an in-memory pipe: it stamps each request
 * with a globally unique clientId (or 0: a legacy request), tags every packet, and checks
 * every packet it receives the moment it arrives: a nonzero clientId must be one of its own
 * outstanding requests (replies only to their sender, exactly once), a legacy reply comes
 * in its order, and anything else is an event, kept for the end-of-run comparison.
 */
export class ModelApp {
  readonly id: number;
  /** Violations seen on receipt; the rig throws the first after the step. */
  readonly violations: string[] = [];
  /** Events received, in order. */
  readonly events: Packet[] = [];
  /** Index in the rig's upstream event list of the first event this app must get. */
  readonly eventsFrom: number;
  /** Tags of the packets that the gateway must forward, in this app's order. */
  readonly forwarded: number[] = [];
  /** The app closed its connection (or was cut off): it owes nothing more. */
  gone = false;
  /** Cut off by the gateway (slow reader) rather than closed by the app. */
  cutOff = false;
  paused = false;
  /** Packets written, replies received. */
  sent = 0;
  replies = 0;
  private readonly transport: MemoryTransport;
  private readonly deframer = new Deframer();
  private readonly outstanding = new Map<number, Expected>();
  private readonly legacy: Expected[] = [];
  private n = 0;

  constructor(id: number, transport: MemoryTransport, eventsFrom: number, onGone: (app: ModelApp) => void) {
    this.id = id;
    this.transport = transport;
    this.eventsFrom = eventsFrom;
    transport.attach({
      data: (chunk) => {
        for (const packet of this.deframer.push(chunk)) this.receive(packet);
      },
      close: () => {
        if (!this.gone) {
          this.gone = true;
          this.cutOff = true;
        }
        onGone(this);
      },
    });
  }

  /** Requests still owed a reply. */
  get owed(): number {
    return this.outstanding.size + this.legacy.length;
  }

  /** Next clientId stamp: unique across every app of a run (app id in the high bits). */
  private stamp(): number {
    this.n++;
    return (this.id * TAG_BASE + this.n) >>> 0;
  }

  /**
   * Build one packet: `forward` says whether the gateway must pass it to the instrument;
   * `expect` whether (and how) it is answered; `sequenced` stamps a nonzero clientId;
   * `callback` sets TRIGGER_CALL_BACK (by default when a reply is expected; false for a code
   * the instrument answers without it).
   */
  packet(init: PacketInit, options: { forward: boolean; expect?: Expected; sequenced?: boolean; callback?: boolean }): Uint8Array {
    const tag = this.stamp();
    const callback = options.callback ?? options.expect !== undefined;
    const sequenced = options.sequenced ?? true;
    const full: PacketInit = {
      ...init,
      int32Data2: tag,
      clientId: options.expect !== undefined && sequenced ? tag : 0,
      cmdDataBits0: ((init.cmdDataBits0 ?? 0) | (callback ? Flags.TRIGGER_CALL_BACK : 0)) >>> 0,
    };
    if (options.forward) this.forwarded.push(tag);
    if (options.expect !== undefined) {
      if (sequenced) this.outstanding.set(tag, options.expect);
      else this.legacy.push(options.expect);
    }
    this.sent++;
    return encodePacket(full);
  }

  /** Write packets built with {@link packet} as one chunk (as an app's burst would go out). */
  write(packets: Uint8Array[]): void {
    if (this.gone) return;
    const total = packets.reduce((sum, p) => sum + p.length, 0);
    const chunk = new Uint8Array(total);
    let at = 0;
    for (const p of packets) {
      chunk.set(p, at);
      at += p.length;
    }
    // A write the gateway cannot take any more (cut off) is the same as the app being gone.
    writeAndWaitForRoom(this.transport, chunk).catch(() => undefined);
  }

  pause(): void {
    this.paused = true;
    this.transport.pause();
  }

  resume(): void {
    this.paused = false;
    this.transport.resume();
  }

  /** The app hangs up. */
  disconnect(): void {
    this.gone = true;
    this.transport.destroy();
  }

  private receive(packet: Packet): void {
    if (packet.clientId !== 0) {
      const expected = this.outstanding.get(packet.clientId);
      if (expected === undefined) {
        this.violations.push(`app ${this.id} got a reply (code 0x${packet.code.toString(16)}, clientId ${packet.clientId}) to no request of its own`);
        return;
      }
      this.outstanding.delete(packet.clientId);
      this.check(packet, expected);
      return;
    }
    const next = this.legacy[0];
    if (next !== undefined && packet.code === next.code && LEGACY_CODES.has(packet.code)) {
      this.legacy.shift();
      this.check(packet, next);
      return;
    }
    if (LEGACY_CODES.has(packet.code) || packet.hardwareId !== 0 || packet.subsystemId !== 0) {
      this.violations.push(`app ${this.id} got a stray 0x${packet.code.toString(16)} with no legacy request waiting`);
      return;
    }
    this.events.push(packet);
  }

  private check(reply: Packet, expected: Expected): void {
    this.replies++;
    const where = `app ${this.id}, reply 0x${reply.code.toString(16)}`;
    if (reply.code !== expected.code) this.violations.push(`${where}: expected code 0x${expected.code.toString(16)}`);
    if (expected.echo0 !== undefined && reply.int32Data0 !== expected.echo0)
      this.violations.push(`${where}: int32Data0 ${reply.int32Data0}, expected ${expected.echo0}`);
    const okStatus = expected.lease === true ? reply.status === 1 || reply.status === 0 : reply.status === expected.status;
    if (!okStatus) this.violations.push(`${where}: status ${reply.status} "${dataText(reply)}", expected ${expected.status}`);
    if (expected.byGateway === true && !dataText(reply).startsWith('gateway:')) this.violations.push(`${where}: not the gateway's own failure reply`);
  }
}
