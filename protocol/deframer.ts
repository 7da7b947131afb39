import { DEFAULT_MAX_PAYLOAD_BYTES, Offset, PACKET_SIZE, START_MARKER_BYTES } from './constants.js';
import { hasMarkersAt, readPacketAt } from './codec.js';
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

const NO_PACKETS: Packet[] = [];

/**
 * Turns a byte stream, cut anywhere, into packets with their trailing payloads.
 *
 * Decodes straight from each incoming chunk and copies only what must outlive it: the
 * 72-byte data field, payloads, and a partial header (< 128 bytes) left at a chunk's end.
 * A payload that spans chunks is collected into one buffer of exactly `addDataBytes`,
 * allocated after the claim was checked against `maxPayloadBytes`.
 *
 * Resync rule (spec/protocol.md §Resynchronisation): a header whose markers are wrong is
 * not a packet; the deframer moves one byte on and scans for the next start marker, so a
 * false start marker inside garbage costs only the bytes up to the real packet.
 */
export class Deframer {
  /** Bytes discarded as garbage (bad markers, rejected headers), over the stream's life. */
  skippedBytes = 0;
  /** Completed garbage runs (each reported through onResync). */
  resyncs = 0;
  /** Packets emitted over the stream's life. */
  packets = 0;
  /** Over-limit payload claims rejected. */
  errors = 0;

  readonly maxPayloadBytes: number;
  private readonly onError: ((error: FrameError) => void) | undefined;
  private readonly onResync: ((info: ResyncInfo) => void) | undefined;

  /** Partial header carried over from the previous chunk (length < PACKET_SIZE). */
  private tail: Uint8Array | null = null;
  /** A packet whose payload is still arriving, and how much of it has. */
  private waiting: Packet | null = null;
  private waitingFill = 0;
  /** Hand-off from fillPayload to push when a waiting payload completes. */
  private completed: Packet | null = null;
  /** Garbage bytes in the current, not yet ended, run. */
  private run = 0;
  /** Stream bytes consumed before the current chunk, for error offsets. */
  private consumed = 0;

  constructor(options: DeframerOptions = {}) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.onError = options.onError;
    this.onResync = options.onResync;
  }

  /** Bytes held back: a partial header, or the part of a payload received so far. */
  get bufferedBytes(): number {
    return (this.tail?.length ?? 0) + (this.waiting !== null ? PACKET_SIZE + this.waitingFill : 0);
  }

  /** Forget any partial input (after a reconnect). Counters are kept. */
  reset(): void {
    this.tail = null;
    this.waiting = null;
    this.waitingFill = 0;
    this.completed = null;
    this.run = 0;
  }

  /**
   * Feed the next chunk; returns every packet it completes, in stream order. Never throws
   * on input: framing errors go to `onError` and skipped bytes to `onResync`.
   */
  push(chunk: Uint8Array): Packet[] {
    if (chunk.length === 0) return NO_PACKETS;
    let out: Packet[] = NO_PACKETS;
    let pos = 0;

    if (this.waiting !== null) {
      pos = this.fillPayload(chunk, 0);
      if (this.waiting !== null) {
        this.consumed += chunk.length;
        return NO_PACKETS;
      }
      out = [this.completed as Packet];
      this.completed = null;
    }

    let bytes = chunk;
    let base = this.consumed;
    if (this.tail !== null) {
      // Only a partial header (< 128 bytes) is ever carried over, so this copy is small
      // and happens at most once per chunk; payload bytes never pass through it.
      const rest = chunk.length - pos;
      const joined = new Uint8Array(this.tail.length + rest);
      joined.set(this.tail, 0);
      joined.set(pos === 0 ? chunk : chunk.subarray(pos), this.tail.length);
      base = this.consumed - this.tail.length;
      this.tail = null;
      bytes = joined;
      pos = 0;
    }
    this.consumed += chunk.length;

    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = bytes.length;
    while (end - pos >= PACKET_SIZE) {
      if (!hasMarkersAt(view, pos)) {
        pos = this.skipTo(bytes, pos + 1, end);
        continue;
      }
      const claim = view.getUint32(pos + Offset.addDataBytes, true);
      if (claim > this.maxPayloadBytes) {
        this.reject(claim, base + pos);
        pos = this.skipTo(bytes, pos + 1, end);
        continue;
      }
      const packet = readPacketAt(bytes, view, pos);
      this.endRun();
      this.packets++;
      pos += PACKET_SIZE;
      if (claim > 0) {
        if (end - pos < claim) {
          // The payload spans chunks: collect it into its own buffer, never into `tail`.
          packet.payload = new Uint8Array(claim);
          this.waiting = packet;
          this.waitingFill = 0;
          this.fillPayload(bytes, pos);
          return out;
        }
        packet.payload = bytes.slice(pos, pos + claim);
        pos += claim;
      }
      if (out === NO_PACKETS) out = [];
      out.push(packet);
    }

    if (pos < end) this.tail = bytes.slice(pos, end);
    return out;
  }

  /**
   * Copy bytes from `source[from..]` into the waiting packet's payload; returns the offset
   * after the last byte used. When the payload is complete it moves to `completed`.
   */
  private fillPayload(source: Uint8Array, from: number): number {
    const packet = this.waiting as Packet;
    const payload = packet.payload as Uint8Array;
    const n = Math.min(payload.length - this.waitingFill, source.length - from);
    payload.set(source.subarray(from, from + n), this.waitingFill);
    this.waitingFill += n;
    if (this.waitingFill === payload.length) {
      this.completed = packet;
      this.waiting = null;
      this.waitingFill = 0;
    }
    return from + n;
  }

  /**
   * Skip garbage from `from`: returns the offset of the next start marker, or of the
   * last bytes that may begin one, or `end`. Counts the skipped bytes in the current run.
   */
  private skipTo(bytes: Uint8Array, from: number, end: number): number {
    let next = indexOfMarker(bytes, from, end);
    if (next < 0) next = partialMarkerStart(bytes, Math.max(from, end - 3), end);
    const skipped = next - (from - 1);
    this.run += skipped;
    this.skippedBytes += skipped;
    return next;
  }

  private endRun(): void {
    if (this.run === 0) return;
    const skippedBytes = this.run;
    this.run = 0;
    this.resyncs++;
    this.onResync?.({ skippedBytes });
  }

  private reject(claim: number, offset: number): void {
    this.errors++;
    this.onError?.(
      new FrameError(`payload claim of ${claim} bytes exceeds the limit of ${this.maxPayloadBytes}; header skipped`, {
        offset,
        claimedBytes: claim,
      }),
    );
  }
}

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

/** The first offset in [from, end) from which the remaining bytes are a prefix of the marker. */
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

