import { Deframer } from '../../../protocol/deframer.js';
import { PACKET_SIZE } from '../../../protocol/constants.js';
import { packetRecord, toHex, type CaptureRecord, type Direction } from './capture-format.js';

/** Something that happened inside one push(), tied to the packet it precedes. */
interface Pending {
  /** The deframer's packet count when it happened: it precedes that packet. */
  before: number;
  kind: 'resync' | 'error';
  bytes: number;
  message: string;
}

/**
 * Turns one direction of one connection into capture records: every packet with its exact
 * wire bytes, and every byte that was not part of a packet as `garbage` (then a `resync`
 * when the run ends). Framing is the protocol's Deframer; this class only attributes the
 * raw bytes, using its accounting invariant (spec/capture.md §Garbage): bytes pushed =
 * Σ(128 + addDataBytes) over packets + skippedBytes + bufferedBytes, in stream order.
 * Holds at most the deframer's buffered bytes plus one chunk. Pure: records go to `emit`.
 */
export class StreamRecorder {
  private readonly deframer: Deframer;
  /** Bytes received and not yet attributed, as a queue of chunks. */
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private pending: Pending[] = [];
  /** Skipped bytes already written as garbage. */
  private skippedWritten = 0;
  /** Of those, the ones of the run that has not ended yet. */
  private openRunWritten = 0;
  private t = 0;

  constructor(
    private readonly conn: number,
    private readonly dir: Direction,
    private readonly emit: (record: CaptureRecord) => void,
    maxPayloadBytes?: number,
  ) {
    this.deframer = new Deframer({
      ...(maxPayloadBytes !== undefined ? { maxPayloadBytes } : {}),
      onResync: ({ skippedBytes }) => this.pending.push({ before: this.deframer.packets, kind: 'resync', bytes: skippedBytes, message: '' }),
      onError: (error) => this.pending.push({ before: this.deframer.packets, kind: 'error', bytes: 0, message: error.message }),
    });
  }

  /** Record a chunk that arrived at `t` ms. The chunk is copied only where it must outlive the call. */
  push(chunk: Uint8Array, t: number): void {
    if (chunk.length === 0) return;
    this.t = t;
    this.queue.push(chunk);
    const batch = this.deframer.push(chunk);
    const first = this.deframer.packets - batch.length;
    let p = 0;
    for (let i = 0; i < batch.length; i++) {
      while (p < this.pending.length && (this.pending[p] as Pending).before <= first + i) this.flushPending(this.pending[p++] as Pending);
      const packet = batch[i]!;
      this.emit(packetRecord(t, this.conn, this.dir, packet, this.take(PACKET_SIZE + packet.addDataBytes)));
    }
    while (p < this.pending.length) this.flushPending(this.pending[p++] as Pending);
    this.pending = [];
    // Garbage of a run that has not ended yet is already known as garbage: write it now,
    // so a stream of nothing but garbage never accumulates.
    const open = this.deframer.skippedBytes - this.skippedWritten;
    if (open > 0) {
      this.writeGarbage(open);
      this.openRunWritten += open;
    }
    this.compact();
    // The caller may reuse its chunk after push(): what is still held becomes our own copy.
    const last = this.queue.length - 1;
    if (last >= 0 && this.queue[last] === chunk) this.queue[last] = new Uint8Array(chunk);
  }

  /** The connection ended: bytes still held (a packet cut off mid-way) become incomplete garbage. */
  end(t: number): void {
    const left = this.queuedBytes();
    if (left > 0) this.emit({ type: 'garbage', t, conn: this.conn, dir: this.dir, hex: toHex(this.take(left)), incomplete: true });
    this.compact();
  }

  private flushPending(item: Pending): void {
    if (item.kind === 'error') {
      this.emit({ type: 'frameError', t: this.t, conn: this.conn, dir: this.dir, message: item.message });
      return;
    }
    const rest = item.bytes - this.openRunWritten;
    if (rest > 0) this.writeGarbage(rest);
    this.openRunWritten = 0;
    this.emit({ type: 'resync', t: this.t, conn: this.conn, dir: this.dir, skippedBytes: item.bytes });
  }

  private writeGarbage(n: number): void {
    this.skippedWritten += n;
    this.emit({ type: 'garbage', t: this.t, conn: this.conn, dir: this.dir, hex: toHex(this.take(n)) });
  }

  private queuedBytes(): number {
    let n = -this.head;
    for (const c of this.queue) n += c.length;
    return n;
  }

  /** The next `n` unattributed bytes, in stream order (a view when they lie in one chunk). */
  private take(n: number): Uint8Array {
    const first = this.queue[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.queue[0]!;
      const k = Math.min(c.length - this.head, n - filled);
      out.set(c.subarray(this.head, this.head + k), filled);
      filled += k;
      this.head += k;
      if (this.head === c.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    return out;
  }

  /** Drop fully attributed chunks; keep a partial tail as its own copy (the chunk may be reused). */
  private compact(): void {
    while (this.queue.length > 0 && this.head >= this.queue[0]!.length) {
      this.head -= this.queue[0]!.length;
      this.queue.shift();
    }
    if (this.queue.length > 0 && this.head > 0) {
      this.queue[0] = new Uint8Array(this.queue[0]!.subarray(this.head));
      this.head = 0;
    }
  }
}
