import { DEFAULT_MAX_PAYLOAD_BYTES, Offset, PACKET_SIZE, START_MARKER_BYTES } from './constants.js';
import { copyBytes, hasMarkersAt, readPacketAt } from './codec.js';
import { FrameError } from './errors.js';
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
}

/**
 * Returned by push() when a chunk completes nothing (the common case for tiny fragments),
 * so that case allocates nothing. Frozen: a caller that tries to append to it fails loudly
 * instead of corrupting every later empty result.
 */
const NO_PACKETS: Packet[] = Object.freeze([]) as unknown as Packet[];

/**
 * Longest carry-over: a header that begins in the carried bytes ends at most
 * PACKET_SIZE - 1 bytes into the next chunk, so 2 × PACKET_SIZE - 2 bytes always suffice.
 */
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
 * Accounting invariant, at every moment: bytes pushed = Σ(128 + addDataBytes) over the
 * packets returned + skippedBytes + bufferedBytes. Bytes that cannot begin a packet are
 * skipped as soon as they are seen, so all three terms are the same however the stream
 * was cut into chunks (only the moment a packet is returned depends on the cuts).
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

  /** Partial header carried over from the previous chunk: carry[0, carryLength). */
  private readonly carry = new Uint8Array(CARRY_CAPACITY);
  private readonly carryView = new DataView(this.carry.buffer);
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
  }

  /** Bytes held back: a partial header, or a header and the part of its payload received so far. */
  get bufferedBytes(): number {
    return this.carryLength + (this.waiting !== null ? PACKET_SIZE + this.waitingFill : 0);
  }

  /** Forget any partial input (after a reconnect). Counters are kept. */
  reset(): void {
    this.carryLength = 0;
    this.waiting = null;
    this.waitingFill = 0;
    this.batch = NO_PACKETS;
    this.run = 0;
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
    const view = new DataView(chunk.buffer, chunk.byteOffset, end);
    const limit = this.maxPayloadBytes;
    while (end - pos >= PACKET_SIZE) {
      if (!hasMarkersAt(view, pos)) {
        pos = this.skip(chunk, pos, end, true);
        continue;
      }
      const claim = view.getUint32(pos + Offset.addDataBytes, true);
      if (claim > limit) {
        this.reject(claim, base + pos);
        pos = this.skip(chunk, pos, end, true);
        continue;
      }
      const packet = readPacketAt(chunk, view, pos);
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
    const view = this.carryView;
    let p = 0;
    while (p < held) {
      if (joinedEnd - p < PACKET_SIZE) {
        // Still no complete header (only possible when the chunk was short): keep the rest.
        p = this.settle(this.carry, p, joinedEnd);
        if (p > 0) this.carry.copyWithin(0, p, joinedEnd);
        this.carryLength = joinedEnd - p;
        return -1;
      }
      if (!hasMarkersAt(view, p)) {
        p = this.skip(this.carry, p, joinedEnd, wholeChunk);
        continue;
      }
      const claim = view.getUint32(p + Offset.addDataBytes, true);
      if (claim > this.maxPayloadBytes) {
        this.reject(claim, base - held + p);
        p = this.skip(this.carry, p, joinedEnd, wholeChunk);
        continue;
      }
      const packet = readPacketAt(this.carry, view, p);
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
    if (this.batch === NO_PACKETS) this.batch = [];
    this.batch.push(packet);
    this.packets++;
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
    const skipped = next - at;
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

function startsWithMarker(bytes: Uint8Array, at: number): boolean {
  return (
    bytes[at] === START_MARKER_BYTES[0] &&
    bytes[at + 1] === START_MARKER_BYTES[1] &&
    bytes[at + 2] === START_MARKER_BYTES[2] &&
    bytes[at + 3] === START_MARKER_BYTES[3]
  );
}

/** Offset of the first full start marker in bytes[from, end), or -1. */
function indexOfMarker(bytes: Uint8Array, from: number, end: number): number {
  const m0 = START_MARKER_BYTES[0] as number;
  const m1 = START_MARKER_BYTES[1] as number;
  const m2 = START_MARKER_BYTES[2] as number;
  const m3 = START_MARKER_BYTES[3] as number;
  let i = bytes.indexOf(m0, from);
  while (i >= 0 && i + 3 < end) {
    if (bytes[i + 1] === m1 && bytes[i + 2] === m2 && bytes[i + 3] === m3) return i;
    i = bytes.indexOf(m0, i + 1);
  }
  return -1;
}

/** The first offset in [from, end) from which the remaining bytes are a prefix of the marker, else `end`. */
function partialMarkerStart(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    let prefix = true;
    for (let j = i; j < end; j++) {
      if (bytes[j] !== START_MARKER_BYTES[j - i]) {
        prefix = false;
        break;
      }
    }
    if (prefix) return i;
  }
  return end;
}
