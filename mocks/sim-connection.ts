import { setImmediate as nextTurn } from 'node:timers/promises';
import { START_MARKER_BYTES } from '../protocol/constants.js';
import { Deframer } from '../protocol/deframer.js';
import type { FrameError } from '../protocol/errors.js';
import type { Packet } from '../protocol/packet.js';
import { fragment, SeededRandom } from '../transports/random.js';
import type { Transport } from '../transports/transport.js';
import { RingQueue } from './ring-queue.js';
import type { FaultSpec } from './fault-spec.js';
import type { TimerSet } from './timers.js';

/** What a connection asks of the simulator that owns it. */
export interface ConnectionHost {
  readonly timers: TimerSet;
  /** A packet was deframed (called synchronously, in stream order, before it is queued). */
  received(connection: SimConnection, packet: Packet): void;
  /** Handle one command; the next one waits until the returned promise settles (undefined: handled already). */
  process(connection: SimConnection, packet: Packet): Promise<void> | undefined;
  frameError(connection: SimConnection, error: FrameError): void;
  resync(connection: SimConnection, skippedBytes: number): void;
  closed(connection: SimConnection, error: Error | undefined): void;
}

/** Options of one connection. */
export interface SimConnectionOptions {
  seed: number;
  faults: FaultSpec;
  maxPayloadBytes: number;
  maxOutgoingBytes: number;
}

/** Commands waiting beyond this pause reading (the client's writes then back up). */
const INBOX_HIGH = 1024;
const INBOX_LOW = 256;
const FLOOD_TICK_MS = 10;

/** Independent random streams, so enabling one fault does not shift another's choices. */
const Stream = { Fragment: 1, Garbage: 2, Delay: 3, Drop: 4, Disconnect: 5 } as const;

/** A well-mixed 32-bit seed from (simulator seed, connection id, stream). */
function deriveSeed(seed: number, connectionId: number, stream: number): number {
  let h = (seed ^ Math.imul(connectionId, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One client of the simulator: deframes its bytes, runs its commands one at a time in
 * arrival order, and writes replies and events with the connection's faults applied.
 */
export class SimConnection {
  /** Packets received so far (also the index the next one gets). */
  receivedPackets = 0;
  /** True once the connection is closed or closing (hangUp). */
  get isFinished(): boolean {
    return this.isClosed || this.hangingUp;
  }
  /** Packets taken off the serial queue for processing so far (1-based count of the current one). */
  processedPackets = 0;
  /** Set once the connection is gone. */
  isClosed = false;
  /** Set by hangUp(): nothing more is read or handled; queued output still goes out, then the close. */
  private hangingUp = false;
  /** Bytes handed to the transport and not yet accepted by it. */
  private pendingBytes = 0;
  private readonly writeSizes = new RingQueue<number>();
  private readonly deframer: Deframer;
  private inbox = new RingQueue<Packet>();
  private draining = false;
  private outQueue: Uint8Array[] = [];
  /** Packets sent during the current synchronous stretch of drain(), or null outside one. */
  private batch: Uint8Array[] | null = null;
  private batchBytes = 0;
  private pumping = false;
  private pausedByInbox = false;
  private pausedBySlow = false;
  private faults!: FaultSpec;
  private rFragment!: SeededRandom;
  private rGarbage!: SeededRandom;
  private rDelay!: SeededRandom;
  private rDrop!: SeededRandom;
  /** Received-packet count after which the connection drops; Infinity when none. */
  disconnectAfter = Infinity;
  private floodTimer: NodeJS.Timeout | undefined;
  private floodCredit = 0;
  private floodCount = 0;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    private readonly host: ConnectionHost,
    private readonly options: SimConnectionOptions,
    /** Builds one flood event (the simulator knows the packet layout of events). */
    private readonly floodPacket: (code: number, n: number) => Uint8Array,
  ) {
    this.deframer = new Deframer({
      maxPayloadBytes: options.maxPayloadBytes,
      onError: (error) => this.host.frameError(this, error),
      onResync: (info) => this.host.resync(this, info.skippedBytes),
    });
    this.setFaults(options.faults);
  }

  /** Become the transport's reader. Separate from the constructor so the owner can register the connection first. */
  start(): void {
    this.transport.attach({ data: (chunk) => this.data(chunk), close: (error) => this.onClose(error) });
  }

  get description(): string {
    return this.transport.description;
  }

  /** The faults in force. */
  get faultSpec(): FaultSpec {
    return this.faults;
  }

  /** Replace this connection's faults; random streams restart from the seed. */
  setFaults(faults: FaultSpec): void {
    const { seed } = this.options;
    this.faults = faults;
    this.rFragment = new SeededRandom(deriveSeed(seed, this.id, Stream.Fragment));
    this.rGarbage = new SeededRandom(deriveSeed(seed, this.id, Stream.Garbage));
    this.rDelay = new SeededRandom(deriveSeed(seed, this.id, Stream.Delay));
    this.rDrop = new SeededRandom(deriveSeed(seed, this.id, Stream.Drop));
    const d = faults.disconnect;
    this.disconnectAfter = d === undefined ? Infinity : new SeededRandom(deriveSeed(seed, this.id, Stream.Disconnect)).int(d.min, d.max);
    this.host.timers.clear(this.floodTimer);
    this.floodTimer = undefined;
    if (faults.flood !== undefined && !this.isClosed) this.startFlood(faults.flood.perSecond, faults.flood.code);
  }

  /** The reply delay to apply now (0 without a delay fault). */
  nextReplyDelay(): number {
    const d = this.faults.delay;
    if (d === undefined) return 0;
    return d.min === d.max ? d.min : d.min + this.rDelay.next() * (d.max - d.min);
  }

  /** True when the drop fault swallows this reply. */
  dropsReply(): boolean {
    return this.faults.drop !== undefined && this.rDrop.chance(this.faults.drop);
  }

  /** Queue one encoded packet (reply or event) for the client, faults applied. */
  send(bytes: Uint8Array): void {
    if (this.isClosed || this.hangingUp) return;
    if (this.faults.fragment === undefined && this.faults.garbage === undefined && this.outQueue.length === 0 && !this.pumping) {
      if (this.batch !== null) {
        this.batch.push(bytes);
        this.batchBytes += bytes.length;
        return;
      }
      this.write(bytes);
      return;
    }
    this.outQueue.push(bytes);
    if (!this.pumping) void this.pump();
  }

  /**
   * Close from the server side as a crashing or restarting firmware would: stop reading
   * and handling now, let the bytes already queued reach the client, then close.
   */
  hangUp(): void {
    if (this.isClosed || this.hangingUp) return;
    // Replies already made for earlier commands of this chunk go out before the close.
    this.flushBatch();
    this.hangingUp = true;
    this.inbox.clear();
    if (!this.pumping) void this.transport.close();
  }

  /** Drop the connection at once (oversize claim, slow consumer, shutdown). */
  destroy(reason?: Error): void {
    if (this.isClosed) return;
    // As the TCP transport hands corked bytes over before a destroy: what was already
    // answered reaches the peer, then the drop.
    this.flushBatch();
    this.transport.destroy(reason);
    // The transport reports the close through onClose; make sure it happened even if not.
    this.onClose(reason);
  }

  private data(chunk: Uint8Array): void {
    if (this.isClosed || this.hangingUp) return;
    const packets = this.deframer.push(chunk);
    for (const packet of packets) {
      // A frame error (oversize claim) may have closed the connection mid-chunk.
      if (this.isClosed || this.hangingUp) return;
      this.host.received(this, packet);
      this.receivedPackets++;
      this.inbox.push(packet);
      const slow = this.faults.slow;
      if (slow !== undefined && this.receivedPackets % slow.every === 0) this.pauseFor(slow.pauseMs);
    }
    if (this.inbox.length >= INBOX_HIGH && !this.pausedByInbox) {
      this.pausedByInbox = true;
      this.transport.pause();
    }
    if (!this.draining && this.inbox.length > 0) void this.drain();
  }

  /** The per-connection serial queue: one command at a time, in arrival order. */
  private async drain(): Promise<void> {
    this.draining = true;
    // What the commands handled in one synchronous stretch send (replies, and the events
    // they cause, in order) leaves as ONE write: the echo floor writes once per chunk read,
    // and a write per reply made the simulator pay two system calls per chunk or more.
    this.batch = [];
    try {
      while (!this.isClosed && !this.hangingUp && this.inbox.length > 0) {
        const packet = this.inbox.shift() as Packet;
        this.processedPackets++;
        // Await only a command that has to wait: a synchronous one returns undefined, and the
        // loop goes on to the next packet of the same chunk without a promise turn.
        const pending = this.host.process(this, packet);
        if (pending !== undefined) {
          // Nothing may sit in the batch while the loop yields: others write meanwhile.
          this.flushBatch();
          this.batch = null;
          await pending;
          this.batch = [];
        }
        if (this.pausedByInbox && this.inbox.length <= INBOX_LOW) {
          this.pausedByInbox = false;
          if (!this.pausedBySlow) this.transport.resume();
        }
      }
    } finally {
      this.flushBatch();
      this.batch = null;
      this.draining = false;
    }
  }

  /** Write what the current stretch batched, as one write. */
  private flushBatch(): void {
    const batch = this.batch;
    if (batch === null || batch.length === 0) return;
    let bytes: Uint8Array;
    if (batch.length === 1) bytes = batch[0] as Uint8Array;
    else {
      bytes = new Uint8Array(this.batchBytes);
      let at = 0;
      for (const part of batch) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    this.batch = [];
    this.batchBytes = 0;
    if (!this.isClosed) this.write(bytes);
  }

  private pauseFor(ms: number): void {
    if (this.pausedBySlow) return;
    this.pausedBySlow = true;
    this.transport.pause();
    const t = this.host.timers.timeout(() => {
      this.pausedBySlow = false;
      if (!this.pausedByInbox && !this.isClosed) this.transport.resume();
    }, ms);
    if (t === undefined) this.pausedBySlow = false;
  }

  private write(bytes: Uint8Array): void {
    const n = bytes.length;
    this.pendingBytes += n;
    if (this.pendingBytes > this.options.maxOutgoingBytes) {
      // The firmware drops a client whose receive buffer stays full (spec/protocol.md
      // §1 "Connection"); the simulator does the same rather than buffer without bound.
      this.destroy(new Error(`connection ${this.id}: client is not reading (${this.pendingBytes} bytes pending); dropped`));
      return;
    }
    let roomLeft: boolean;
    try {
      roomLeft = this.transport.write(bytes);
    } catch {
      // Closed under us: onClose reports it; nothing is pending on a dead connection.
      this.pendingBytes -= n;
      return;
    }
    // Room left (the common case): release the bytes now, without a promise reaction per
    // packet. Otherwise the size waits in writeSizes until the transport has room again
    // (in write order).
    if (roomLeft) {
      this.pendingBytes -= n;
      return;
    }
    this.writeSizes.push(n);
    this.transport.whenWritable().then(this.written, this.writeFailed);
  }

  /**
   * Bound once, not per write (this is the per-packet path). Writes are accepted in the
   * order they were made, so the oldest size is the one to release.
   */
  private readonly written = (): void => {
    this.pendingBytes -= this.writeSizes.shift() ?? 0;
  };

  /** The connection closed under the write; onClose reports it. */
  private readonly writeFailed = (): void => {
    this.writeSizes.shift();
  };

  /** Write queued packets one by one, with garbage before and fragmentation within. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.isClosed && this.outQueue.length > 0) {
        const bytes = this.outQueue.shift() as Uint8Array;
        const garbage = this.faults.garbage;
        if (garbage !== undefined && this.rGarbage.chance(garbage.rate)) {
          this.write(garbageBytes(this.rGarbage, this.rGarbage.int(1, garbage.maxBytes)));
        }
        const max = this.faults.fragment;
        if (max === undefined) {
          this.write(bytes);
          continue;
        }
        for (const piece of fragment(bytes, max, this.rFragment)) {
          if (this.isClosed) return;
          this.write(piece);
          // Yield so each piece leaves as its own TCP segment (TCP_NODELAY) and a
          // memory-pair reader sees it as its own chunk.
          await nextTurn();
        }
      }
    } finally {
      this.pumping = false;
      if (this.hangingUp && !this.isClosed) void this.transport.close();
    }
  }

  private startFlood(perSecond: number, code: number): void {
    this.floodTimer = this.host.timers.interval(() => {
      this.floodCredit += (perSecond * FLOOD_TICK_MS) / 1000;
      while (this.floodCredit >= 1 && !this.isClosed) {
        this.floodCredit -= 1;
        this.floodCount++;
        this.send(this.floodPacket(code, this.floodCount));
      }
    }, FLOOD_TICK_MS);
  }

  private onClose(error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.host.timers.clear(this.floodTimer);
    this.floodTimer = undefined;
    this.inbox.clear();
    this.outQueue = [];
    this.host.closed(this, error);
  }
}

const MARKER_FIRST = START_MARKER_BYTES[0] as number;

/**
 * Random bytes without the start marker's first byte (0x54): garbage then can never
 * contain a start marker, whole or partial, so a resyncing client loses only the garbage.
 */
function garbageBytes(random: SeededRandom, n: number): Uint8Array {
  const out = random.bytes(n);
  for (let i = 0; i < n; i++) if (out[i] === MARKER_FIRST) out[i] = MARKER_FIRST + 1;
  return out;
}
