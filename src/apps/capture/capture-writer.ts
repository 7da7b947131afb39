import { captureHeader, encodeLine, type CaptureRecord, type Direction } from './capture-format.js';
import { FileSink } from './capture-sink.js';
import { endpoint, enhancedPacketBlock, pcapngPreamble, SyntheticTcpStream } from './pcapng.js';
import { StreamRecorder } from './stream-recorder.js';

/** Options of {@link CaptureWriter}. */
export interface CaptureWriterOptions {
  /** The JSONL file. */
  out: string;
  /** An optional pcapng file of the same traffic. */
  pcapng?: string;
  /** Header `source`, e.g. `flamingo capture 0.1.0`. */
  source: string;
  /** The server the traffic goes to, `host:port`. */
  upstream: string;
  /** Called once per output that stops (full disk, unwritable file), with the reason. */
  onStop?: (message: string) => void;
  /** Backlog limit of each file (default 64 MiB). */
  maxBacklogBytes?: number;
}

interface Connection {
  c2s: StreamRecorder;
  s2c: StreamRecorder;
  tcp: SyntheticTcpStream;
}

/**
 * Records connections into a JSONL capture (and optionally pcapng). Every method returns
 * at once and never throws: a failing file stops that file's recording only.
 */
export class CaptureWriter {
  private readonly jsonl: FileSink;
  private readonly pcap: FileSink | null;
  private readonly connections = new Map<number, Connection>();
  private readonly startMs: number;
  private readonly startUs: number;
  private readonly emitRecord = (record: CaptureRecord): void => this.jsonl.write(encodeLine(record));
  /** Records written. */
  records = 0;

  constructor(options: CaptureWriterOptions) {
    const sinkOptions = {
      ...(options.onStop !== undefined ? { onStop: options.onStop } : {}),
      ...(options.maxBacklogBytes !== undefined ? { maxBacklogBytes: options.maxBacklogBytes } : {}),
    };
    this.jsonl = new FileSink(options.out, sinkOptions);
    this.pcap = options.pcapng === undefined ? null : new FileSink(options.pcapng, sinkOptions);
    const wall = Date.now();
    this.startMs = performance.now();
    const header = captureHeader(options.source, options.upstream, wall);
    this.startUs = header.startedAtUs;
    this.jsonl.write(encodeLine(header));
    this.pcap?.write(pcapngPreamble());
  }

  /** Resolves when every file is open; rejects with the reason when one cannot be. */
  async opened(): Promise<void> {
    await Promise.all([this.jsonl.opened(), this.pcap?.opened()]);
  }

  /** Reasons of the files that stopped (empty while all record). */
  get stopped(): string[] {
    return [this.jsonl.stopped, this.pcap?.stopped ?? null].filter((s): s is string => s !== null);
  }

  /** Milliseconds since the capture started, to the microsecond. */
  now(): number {
    return Math.round((performance.now() - this.startMs) * 1000) / 1000;
  }

  /** A connection opened between `client` and `server` (`host:port` each). */
  open(conn: number, client: { host: string; port: number }, server: { host: string; port: number }): void {
    const t = this.now();
    const emit = (record: CaptureRecord) => {
      this.records++;
      this.emitRecord(record);
    };
    const tcp = new SyntheticTcpStream(endpoint(client.host, client.port, `10.0.0.${(conn % 250) + 2}`), endpoint(server.host, server.port, '10.0.1.1'));
    this.connections.set(conn, { c2s: new StreamRecorder(conn, 'c2s', emit), s2c: new StreamRecorder(conn, 's2c', emit), tcp });
    emit({ type: 'open', t, conn, client: `${client.host}:${client.port}`, server: `${server.host}:${server.port}` });
    this.writePcap(t, tcp.open());
  }

  /** Bytes that went from one side to the other, exactly as forwarded. */
  chunk(conn: number, dir: Direction, bytes: Uint8Array): void {
    const c = this.connections.get(conn);
    if (c === undefined) return;
    const t = this.now();
    if (this.jsonl.stopped === null) c[dir].push(bytes, t);
    this.writePcap(t, c.tcp.data(dir, bytes));
  }

  /** The connection ended; `by` says which side ended it. */
  close(conn: number, by: 'client' | 'server' | 'proxy', error?: Error): void {
    const c = this.connections.get(conn);
    if (c === undefined) return;
    this.connections.delete(conn);
    const t = this.now();
    c.c2s.end(t);
    c.s2c.end(t);
    this.records++;
    this.emitRecord({ type: 'close', t, conn, by, ...(error !== undefined ? { error: error.message } : {}) });
    this.writePcap(t, c.tcp.close());
  }

  /** Close every open connection's record, write the trailer and close the files. */
  async end(reason: string): Promise<void> {
    for (const conn of [...this.connections.keys()]) this.close(conn, 'proxy');
    this.emitRecord({ type: 'end', t: this.now(), reason });
    await Promise.all([this.jsonl.close(), this.pcap?.close()]);
  }

  private writePcap(t: number, packets: Uint8Array[]): void {
    if (this.pcap === null || this.pcap.stopped !== null) return;
    const timeUs = this.startUs + t * 1000;
    for (const p of packets) this.pcap.write(enhancedPacketBlock(p, timeUs));
  }
}
