import { PACKET_SIZE } from '../../protocol/constants.js';
import type { PacketInit } from '../../protocol/packet.js';
import type { Transport } from '../../transports/transport.js';

import type { UploadProgress, UploadProgressListener } from '../correlation/pending.js';
export type { UploadProgress, UploadProgressListener };

/** Payload bytes handed to the transport per write (64 KiB). */
export const DEFAULT_UPLOAD_CHUNK_BYTES = 64 * 1024;

/** Options of {@link PacketWriter}. */
export interface PacketWriterOptions {
  /** Payload bytes per transport write (default {@link DEFAULT_UPLOAD_CHUNK_BYTES}). */
  chunkBytes?: number;
  /**
   * Called synchronously just before a packet's first byte is handed to the transport
   * (the state mirror's `noteRequestSent`): the reply, or an event the request causes,
   * cannot be read before it.
   */
  beforeWrite?(sent: PacketInit): void;
  /** An upload progress listener threw; the upload goes on. */
  onListenerError?(error: unknown): void;
}

/** A packet that waited behind an upload was given up (its request settled) before being written. */
export class WriteCancelledError extends Error {
  readonly code = 'CANCELLED' as const;
  constructor() {
    super('the packet was given up before it was written');
    this.name = 'WriteCancelledError';
  }
}

/** What a queued packet is written for: skipped when it has settled by the time its turn comes. */
export interface WriteOwner {
  readonly settled: boolean;
  /** Told just before the packet's first byte is handed to the transport (from then on it may reach the instrument). */
  markStarted?(): void;
}

interface QueuedPacket {
  header: Uint8Array;
  owner: WriteOwner | undefined;
  sent: PacketInit | undefined;
  payload: Uint8Array | undefined;
  onProgress: UploadProgressListener | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes whole packets to one transport, in call order, each contiguous on the wire.
 *
 * Why: a packet's trailing payload must follow its header byte for byte (spec/protocol.md
 * §4 "Trailing payloads"), but a 50 MB payload handed to the transport in one write would sit
 * in memory as one block and give the event loop no turn until the socket took it. So a
 * payload larger than one chunk is written chunk by chunk, awaiting each write (the
 * transport resolves it only when its buffer has room: backpressure), and the reader keeps
 * delivering replies and events between chunks. Packets written while an upload runs wait
 * in FIFO order and go out right after its last byte: the wire format leaves no way to slip
 * them in between.
 *
 * The payload is written from the caller's buffer without a copy: it must not change until
 * the write settles.
 */
export class PacketWriter {
  readonly transport: Transport;
  private readonly chunkBytes: number;
  private readonly options: PacketWriterOptions;
  private readonly waiting: QueuedPacket[] = [];
  private uploading = false;
  private abandoned = false;

  constructor(transport: Transport, options: PacketWriterOptions = {}) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    this.transport = transport;
    this.chunkBytes = chunkBytes;
    this.options = options;
  }

  /** True while a chunked upload is being written (later packets wait behind it). */
  get isUploading(): boolean {
    return this.uploading;
  }

  /** Packets waiting for an upload to finish. */
  get queuedCount(): number {
    return this.waiting.length;
  }

  /**
   * Write `header` (128 bytes whose addDataBytes is the payload's length) and then
   * `payload`. Resolves once the transport accepted the last byte; rejects when it is closed.
   * `sent` is handed to `beforeWrite` right before the first byte goes out.
   *
   * `owner` (the request) is checked when a packet that waited behind an upload comes up:
   * when it has settled (aborted, or gave up waiting) nothing is written and the write
   * rejects with {@link WriteCancelledError}. Without this, bytes of a request nobody
   * waits for would reach the instrument later, and in lease mode its reply could be taken
   * for the reply of the next request with the same code.
   */
  write(header: Uint8Array, sent?: PacketInit, payload?: Uint8Array, onProgress?: UploadProgressListener, owner?: WriteOwner): Promise<void> {
    // Fast path (every packet without a big payload while nothing is uploading): straight to
    // the transport, which keeps call order itself.
    if (this.abandoned) return Promise.reject(new WriteCancelledError());
    if (!this.uploading && this.waiting.length === 0) return this.start(header, sent, payload, onProgress, owner);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ header, owner, sent, payload, onProgress, resolve, reject });
    });
  }

  /**
   * The link is gone: packets still waiting are given up unwritten (each write rejects with
   * WriteCancelledError) and nothing more is written, so a request the client re-queues for
   * the next link is never half-sent on the dead one nor counted as started.
   */
  abandon(): void {
    this.abandoned = true;
    const waiting = this.waiting.splice(0);
    for (const packet of waiting) packet.reject(new WriteCancelledError());
  }

  private start(
    header: Uint8Array,
    sent: PacketInit | undefined,
    payload: Uint8Array | undefined,
    onProgress: UploadProgressListener | undefined,
    owner: WriteOwner | undefined,
  ): Promise<void> {
    const total = payload?.length ?? 0;
    if (payload === undefined || total <= this.chunkBytes) {
      let bytes = header;
      if (payload !== undefined && total > 0) {
        bytes = new Uint8Array(PACKET_SIZE + total);
        bytes.set(header);
        bytes.set(payload, PACKET_SIZE);
      }
      if (sent !== undefined) this.options.beforeWrite?.(sent);
      owner?.markStarted?.();
      const written = this.transport.write(bytes);
      if (onProgress === undefined || payload === undefined) return written;
      return written.then(() => this.report(onProgress, total, total));
    }
    this.uploading = true;
    return this.upload(header, sent, payload, onProgress, owner).finally(() => {
      this.uploading = false;
      this.flush();
    });
  }

  private async upload(
    header: Uint8Array,
    sent: PacketInit | undefined,
    payload: Uint8Array,
    onProgress: UploadProgressListener | undefined,
    owner: WriteOwner | undefined,
  ): Promise<void> {
    const total = payload.length;
    // The header rides with the first chunk: one write fewer, and never a lone header on
    // the wire while the first chunk waits.
    const first = new Uint8Array(PACKET_SIZE + this.chunkBytes);
    first.set(header);
    first.set(payload.subarray(0, this.chunkBytes), PACKET_SIZE);
    if (sent !== undefined) this.options.beforeWrite?.(sent);
    owner?.markStarted?.();
    await this.transport.write(first);
    let done = this.chunkBytes;
    if (onProgress !== undefined) this.report(onProgress, done, total);
    while (done < total) {
      const end = Math.min(total, done + this.chunkBytes);
      await this.transport.write(payload.subarray(done, end));
      done = end;
      if (onProgress !== undefined) this.report(onProgress, done, total);
    }
  }

  /** Start what waited behind an upload, in order, until the next upload begins. */
  private flush(): void {
    while (!this.uploading && !this.abandoned && this.waiting.length > 0) {
      const next = this.waiting.shift() as QueuedPacket;
      if (next.owner?.settled === true) {
        next.reject(new WriteCancelledError());
        continue;
      }
      let written: Promise<void>;
      try {
        written = this.start(next.header, next.sent, next.payload, next.onProgress, next.owner);
      } catch (error) {
        next.reject(error);
        continue;
      }
      written.then(next.resolve, next.reject);
    }
  }

  private report(listener: UploadProgressListener, sent: number, total: number): void {
    try {
      listener({ sent, total });
    } catch (error) {
      this.options.onListenerError?.(error);
    }
  }
}
