import fs from 'node:fs';

/** Options of {@link FileSink}. */
export interface FileSinkOptions {
  /** Bytes that may wait for the disk before the capture gives up (default 64 MiB). */
  maxBacklogBytes?: number;
  /** Called once when the sink stops for good, with the reason in words. */
  onStop?: (message: string) => void;
}

/**
 * An append-only output file that never blocks or fails its writer: a write error (full
 * disk, unwritable file) or a disk that cannot keep up stops the SINK, with one clear
 * message, and every later write is dropped. The traffic being recorded is never told to
 * wait (spec/capture.md §Failure).
 */
export class FileSink {
  private readonly stream: fs.WriteStream;
  private readonly maxBacklog: number;
  private readonly onStop: ((message: string) => void) | undefined;
  private stoppedWith: string | null = null;
  /** Bytes handed to the stream. */
  written = 0;

  constructor(
    readonly path: string,
    options: FileSinkOptions = {},
  ) {
    this.maxBacklog = options.maxBacklogBytes ?? 64 * 1024 * 1024;
    this.onStop = options.onStop;
    this.stream = fs.createWriteStream(path, { flags: 'w' });
    this.stream.on('error', (error) => this.stop(`cannot write ${path}: ${error.message}`));
  }

  /** Resolves once the file is open; rejects when it cannot be (nothing is running yet). */
  opened(): Promise<void> {
    if (this.stoppedWith !== null) return Promise.reject(new Error(this.stoppedWith));
    if (this.stream.pending === false) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        this.stream.off('ready', onReady);
        reject(new Error(`cannot write ${this.path}: ${error.message}`));
      };
      const onReady = () => {
        this.stream.off('error', onError);
        resolve();
      };
      this.stream.once('ready', onReady);
      this.stream.once('error', onError);
    });
  }

  /** Null while recording; the reason once stopped. */
  get stopped(): string | null {
    return this.stoppedWith;
  }

  /** Append; never throws, never waits. */
  write(bytes: Uint8Array | string): void {
    if (this.stoppedWith !== null) return;
    if (this.stream.writableLength > this.maxBacklog) {
      this.stop(`${this.path}: the disk did not keep up (${this.stream.writableLength} bytes waiting)`);
      return;
    }
    this.written += typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
    this.stream.write(bytes);
  }

  /** Flush and close; resolves also when the sink had stopped. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.destroyed || this.stream.closed) {
        resolve();
        return;
      }
      this.stream.once('close', () => resolve());
      if (this.stoppedWith !== null) this.stream.destroy();
      else this.stream.end();
    });
  }

  private stop(message: string): void {
    if (this.stoppedWith !== null) return;
    this.stoppedWith = message;
    this.stream.destroy();
    this.onStop?.(message);
  }
}
