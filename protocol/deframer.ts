import { DEFAULT_MAX_PAYLOAD_BYTES, PACKET_SIZE } from './constants.js';
import { ByteSlab } from './byte-slab.js';
import { copyBytes, hasMarkersAt, payloadLengthAt, readPacketAt } from './codec.js';
import { FrameError } from './errors.js';
import { indexOfMarker, partialMarkerStart, startsWithMarker } from './marker-scan.js';
import type { Packet } from './packet.js';

/** Reported when the deframer skipped bytes to find the next packet. */
export interface ResyncInfo {
  /** Bytes skipped in this run of garbage (between the last good packet and the next). */
  skippedBytes: number;
}

/** Options of {@link Deframer}. */
export interface DeframerOptions {
  /** Largest `addDataBytes` accepted; larger claims are a FrameError and are never allocated. Default 64 MiB. */
  maxPayloadBytes?: number;
  /** Called for every framing error (over-limit payload claim). push() never throws on input. */
  onError?: (error: FrameError) => void;
  /** Called once per run of skipped garbage, when the next good header is found. */
  onResync?: (info: ResyncInfo) => void;
  /**
   * Codes whose packet, when it arrives with addDataBytes 0, may be followed by bare text
   * that belongs to it (the settings answer 0x1007, spec/protocol.md "Settings"). The bytes
   * after such a packet, up to the next start marker, become its payload instead of being
   * skipped as garbage; the packet is held until then (or until {@link Deframer.flushBareText}).
   */
  bareTextCodes?: ReadonlySet<number>;
  /** Most bare-text bytes collected for one packet (default 1 MiB); the rest is garbage. */
  maxBareTextBytes?: number;
}

/** Default of {@link DeframerOptions.maxBareTextBytes}. */
export const DEFAULT_MAX_BARE_TEXT_BYTES = 1 << 20;

/** Returned by push() when a chunk completes nothing; frozen so a caller cannot append to it. */
const NO_PACKETS: Packet[] = Object.freeze([]) as unknown as Packet[];

/** Longest carry-over: a header begun in the carried bytes ends at most PACKET_SIZE - 1 bytes into the next chunk. */
const CARRY_CAPACITY = 2 * PACKET_SIZE;

/**
 * Turns a byte stream, cut anywhere, into packets with their trailing payloads.
 *
 * Decodes straight from each incoming chunk and copies only what must outlive it: the
 * 72-byte data field, payloads, and a partial header (< 128 bytes) left at a chunk's end.
 * That partial header lives in one fixed buffer, completed from the next chunk's first
 * bytes, so a chunk is never copied as a whole. A payload that spans chunks is collected
 * into one buffer of exactly `addDataBytes`, allocated after the claim was checked against
 * `maxPayloadBytes`.
 *
 * Resync rule (spec/protocol.md §Resynchronisation): a header whose markers are wrong is
 * not a packet; the deframer moves one byte on and scans for the next start marker, so a
 * false start marker inside garbage costs only the bytes up to the real packet.
 *
 * Accounting invariant, at every moment: bytes pushed = Σ(128 + payload length) over the
 * packets returned + skippedBytes + bufferedBytes, whatever the chunk cuts.
 */
export class Deframer {
  /** Bytes discarded as garbage (bad markers, rejected headers), over the stream's life. */
  skippedBytes = 0;
  /** Completed garbage runs (each reported through onResync). */
  resyncs = 0;
  /** Packets returned by push() over the stream's life. */
  packets = 0;
  /** Over-limit payload claims rejected. */
  errors = 0;

  readonly maxPayloadBytes: number;
  private readonly onError: ((error: FrameError) => void) | undefined;
  private readonly onResync: ((info: ResyncInfo) => void) | undefined;
  private readonly bareTextCodes: ReadonlySet<number> | undefined;
  private readonly maxBareTextBytes: number;
  /** A packet whose bare text is being collected (chunks copied out of the stream). */
  private bare: { packet: Packet; chunks: Uint8Array[]; size: number } | null = null;

  /** Partial header carried over from the previous chunk: carry[0, carryLength). */
  private readonly carry = new Uint8Array(CARRY_CAPACITY);
  /** Where packets' data fields are copied: ranges of shared slabs, not a buffer each (protocol/byte-slab.ts). */
  private readonly dataSlab = new ByteSlab();
  private carryLength = 0;
  /** A packet whose payload is still arriving, and how much of it has. */
  private waiting: Packet | null = null;
  private waitingFill = 0;
  /** Packets completed by the current push(); NO_PACKETS until the first one. */
  private batch: Packet[] = NO_PACKETS;
  /** Garbage bytes in the current, not yet ended, run. */
  private run = 0;
  /** Stream bytes consumed before the current chunk, for error offsets. */
  private consumed = 0;

  constructor(options: DeframerOptions = {}) {
    const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    // A NaN limit would make every `claim > limit` false and let any claim allocate.
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxPayloadBytes must be a non-negative integer, got ${max}`);
    this.maxPayloadBytes = max;
    this.onError = options.onError;
    this.onResync = options.onResync;
    this.bareTextCodes = options.bareTextCodes;
    const bareMax = options.maxBareTextBytes ?? DEFAULT_MAX_BARE_TEXT_BYTES;
    if (!Number.isInteger(bareMax) || bareMax < 0) throw new RangeError(`maxBareTextBytes must be a non-negative integer, got ${bareMax}`);
    this.maxBareTextBytes = bareMax;
  }

  /** True while a packet waits for the end of its bare text (see {@link DeframerOptions.bareTextCodes}). */
  get holdsBareText(): boolean {
    return this.bare !== null;
  }

  /**
   * The stream went quiet after a bare-text packet: hand it out with the text collected so
   * far. Returns the packet (one at most), or nothing when none is held.
   */
  flushBareText(): Packet[] {
    if (this.bare === null) return NO_PACKETS;
    this.batch = NO_PACKETS;
    // A text that ends in a byte that could begin a start marker ('T' is its first byte)
    // is still in the carry: with the stream quiet it is text after all.
    if (this.carryLength > 0 && this.carryLength < 4) {
      this.takeBare(this.carry, 0, this.carryLength);
      this.carryLength = 0;
    }
    if (this.bare !== null) this.closeBare();
    return this.takeBatch();
  }

  /** Bytes held back: a partial header, or a header and the part of its payload received so far. */
  get bufferedBytes(): number {
    return this.carryLength + (this.waiting !== null ? PACKET_SIZE + this.waitingFill : 0) + (this.bare !== null ? PACKET_SIZE + this.bare.size : 0);
  }

  /** Forget any partial input (after a reconnect). Counters are kept. */
  reset(): void {
    this.carryLength = 0;
    this.waiting = null;
    this.waitingFill = 0;
    this.batch = NO_PACKETS;
    this.run = 0;
    this.bare = null;
  }

  /**
   * Feed the next chunk; returns every packet it completes, in stream order. Never throws
   * on input: framing errors go to `onError` and skipped bytes to `onResync`. The returned
   * array belongs to the caller, except the shared frozen empty array.
   */
  push(chunk: Uint8Array): Packet[] {
    const end = chunk.length;
    if (end === 0) return NO_PACKETS;
    const base = this.consumed;
    this.consumed += end;
    this.batch = NO_PACKETS;
    let pos = 0;

    if (this.waiting !== null) {
      pos = this.fillPayload(chunk, 0, end);
      if (this.waiting !== null) return this.takeBatch();
    } else if (this.carryLength > 0) {
      pos = this.drainCarry(chunk, base);
      if (pos < 0 || this.waiting !== null) return this.takeBatch();
    }

    if (end - pos >= PACKET_SIZE) pos = this.scanChunk(chunk, pos, base);
    if (this.waiting !== null) return this.takeBatch();
    if (pos < end) pos = this.settle(chunk, pos, end);
    if (pos < end) {
      this.carry.set(pos === 0 ? chunk : chunk.subarray(pos, end), 0);
      this.carryLength = end - pos;
    }
    return this.takeBatch();
  }

  /**
   * Decode every complete header from `pos` on; returns where fewer than 128 bytes are
   * left, or `chunk.length` when a payload spanning chunks started (then `waiting` is set).
   */
  private scanChunk(chunk: Uint8Array, pos: number, base: number): number {
    const end = chunk.length;
    const limit = this.maxPayloadBytes;
    while (end - pos >= PACKET_SIZE) {
      if (!hasMarkersAt(chunk, pos)) {
        pos = this.skip(chunk, pos, end, true);
        continue;
      }
      const claim = payloadLengthAt(chunk, pos);
      if (claim > limit) {
        this.reject(claim, base + pos);
        pos = this.skip(chunk, pos, end, true);
        continue;
      }
      const packet = readPacketAt(chunk, pos, this.dataSlab);
      if (this.run > 0) this.endRun();
      pos = this.accept(packet, claim, chunk, pos + PACKET_SIZE, end);
      if (this.waiting !== null) return end;
    }
    return pos;
  }

  /**
   * Resolve every header that starts in the carried bytes, completing them from the head
   * of `chunk` (at most PACKET_SIZE - 1 bytes are copied). Returns the chunk offset where
   * the main loop goes on, or -1 when the whole chunk went into the carry.
   */
  private drainCarry(chunk: Uint8Array, base: number): number {
    const held = this.carryLength;
    const take = Math.min(chunk.length, PACKET_SIZE - 1);
    const joinedEnd = held + take;
    const wholeChunk = take === chunk.length;
    this.carry.set(take === chunk.length ? chunk : chunk.subarray(0, take), held);
    let p = 0;
    while (p < held) {
      if (joinedEnd - p < PACKET_SIZE) {
        // Still no complete header (only possible when the chunk was short): keep the rest.
        p = this.settle(this.carry, p, joinedEnd);
        if (p > 0) this.carry.copyWithin(0, p, joinedEnd);
        this.carryLength = joinedEnd - p;
        return -1;
      }
      if (!hasMarkersAt(this.carry, p)) {
        p = this.skip(this.carry, p, joinedEnd, wholeChunk);
        continue;
      }
      const claim = payloadLengthAt(this.carry, p);
      if (claim > this.maxPayloadBytes) {
        this.reject(claim, base - held + p);
        p = this.skip(this.carry, p, joinedEnd, wholeChunk);
        continue;
      }
      const packet = readPacketAt(this.carry, p, this.dataSlab);
      if (this.run > 0) this.endRun();
      this.carryLength = 0;
      return this.accept(packet, claim, chunk, p + PACKET_SIZE - held, chunk.length);
    }
    // Every start in the carried bytes was garbage; the scan already stands in the chunk.
    this.carryLength = 0;
    return p - held;
  }

  /**
   * Hand `packet` out with its payload, which begins at `source[pos]`. Returns the offset
   * after the payload, or `end` when the payload continues in later chunks (then the
   * packet waits in `waiting`).
   */
  private accept(packet: Packet, claim: number, source: Uint8Array, pos: number, end: number): number {
    if (claim === 0) {
      this.deliver(packet);
      return pos;
    }
    if (end - pos >= claim) {
      packet.payload = copyBytes(source, pos, pos + claim);
      this.deliver(packet);
      return pos + claim;
    }
    // The payload spans chunks: collect it into its own buffer, never into the carry.
    packet.payload = new Uint8Array(claim);
    this.waiting = packet;
    this.waitingFill = 0;
    return this.fillPayload(source, pos, end);
  }

  /** Copy payload bytes from `source[from, end)` into the waiting packet; returns the offset after them. */
  private fillPayload(source: Uint8Array, from: number, end: number): number {
    const packet = this.waiting as Packet;
    const payload = packet.payload as Uint8Array;
    const n = Math.min(payload.length - this.waitingFill, end - from);
    if (n > 0) payload.set(source.subarray(from, from + n), this.waitingFill);
    this.waitingFill += n;
    if (this.waitingFill === payload.length) {
      this.waiting = null;
      this.waitingFill = 0;
      this.deliver(packet);
    }
    return from + n;
  }

  private deliver(packet: Packet): void {
    // A held bare-text packet ends where the next packet begins, and goes out before it.
    if (this.bare !== null) this.closeBare();
    if (packet.addDataBytes === 0 && this.bareTextCodes !== undefined && this.bareTextCodes.has(packet.code)) {
      this.bare = { packet, chunks: [], size: 0 };
      return;
    }
    this.emitPacket(packet);
  }

  private emitPacket(packet: Packet): void {
    // A literal of one, not [] then push: most chunks complete one packet, and a push onto an
    // empty array reserves room for 17.
    if (this.batch === NO_PACKETS) this.batch = [packet];
    else this.batch.push(packet);
    this.packets++;
  }

  /** Hand the held bare-text packet out, its text (if any) as the payload. */
  private closeBare(): void {
    const bare = this.bare as { packet: Packet; chunks: Uint8Array[]; size: number };
    this.bare = null;
    if (bare.size > 0) {
      const payload = new Uint8Array(bare.size);
      let at = 0;
      for (const c of bare.chunks) {
        payload.set(c, at);
        at += c.length;
      }
      bare.packet.payload = payload;
    }
    this.emitPacket(bare.packet);
  }

  /**
   * Bytes the scan passes over while a bare-text packet is held are its text, not garbage
   * (up to the limit). Returns how many of bytes[from, to) were taken.
   */
  private takeBare(bytes: Uint8Array, from: number, to: number): number {
    const bare = this.bare;
    if (bare === null || to <= from) return 0;
    const n = Math.min(to - from, this.maxBareTextBytes - bare.size);
    if (n > 0) {
      bare.chunks.push(copyBytes(bytes, from, from + n));
      bare.size += n;
    }
    // Full: the packet goes out now; whatever follows is scanned as usual.
    if (bare.size >= this.maxBareTextBytes) this.closeBare();
    return n;
  }

  private takeBatch(): Packet[] {
    const out = this.batch;
    this.batch = NO_PACKETS;
    return out;
  }

  /**
   * Fewer than 128 bytes are left at `pos`: keep them only from a position that can still
   * begin a packet (a start marker, or a prefix of one at the very end). Skipping the rest
   * now, not when more bytes arrive, makes skippedBytes and bufferedBytes independent of
   * how the stream was cut into chunks.
   */
  private settle(bytes: Uint8Array, pos: number, end: number): number {
    if (end - pos >= 4 ? startsWithMarker(bytes, pos) : partialMarkerStart(bytes, pos, end) === pos) return pos;
    return this.skip(bytes, pos, end, true);
  }

  /**
   * The header candidate at `at` failed: find the next candidate after it (a full start
   * marker, else the last bytes that could begin one, else `end`), count the bytes passed
   * over as skipped, and return the candidate's offset. When `atStreamEdge` is false the
   * bytes after `end` exist but are not in `bytes`, so the scan stops at `end - 3` and the
   * caller continues it where those bytes are.
   */
  private skip(bytes: Uint8Array, at: number, end: number, atStreamEdge: boolean): number {
    const from = at + 1;
    let next = indexOfMarker(bytes, from, end);
    if (next < 0) {
      const tailStart = Math.max(from, end - 3);
      next = atStreamEdge ? partialMarkerStart(bytes, tailStart, end) : tailStart;
    }
    const skipped = next - at - this.takeBare(bytes, at, next);
    this.run += skipped;
    this.skippedBytes += skipped;
    return next;
  }

  private endRun(): void {
    const skippedBytes = this.run;
    this.run = 0;
    this.resyncs++;
    if (this.onResync !== undefined) notify(this.onResync, { skippedBytes });
  }

  private reject(claim: number, offset: number): void {
    this.errors++;
    if (this.onError === undefined) return;
    notify(
      this.onError,
      new FrameError(`payload claim of ${claim} bytes exceeds the limit of ${this.maxPayloadBytes}; header skipped`, {
        offset,
        claimedBytes: claim,
      }),
    );
  }
}

/**
 * Call a user callback without letting it unwind push(): a throw there would lose the
 * rest of the chunk. The exception is rethrown on a microtask, where it surfaces as an
 * uncaught error instead of vanishing (docs/ARCHITECTURE.md, rule 3).
 */
function notify<T>(callback: (arg: T) => void, arg: T): void {
  try {
    callback(arg);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
