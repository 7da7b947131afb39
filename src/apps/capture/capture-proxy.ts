import net from 'node:net';
import { SafeEmitter } from '../../../transports/safe-emitter.js';
import type { Direction } from './capture-format.js';
import { CaptureWriter } from './capture-writer.js';

/** Options of {@link CaptureProxy.start}. */
export interface CaptureProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Listen address (default 127.0.0.1) and port (0: any free one). */
  host?: string;
  port?: number;
  /** The JSONL capture file. */
  out: string;
  /** Also write pcapng here. */
  pcapng?: string;
  /** Header `source` (default `flamingo capture`). */
  source?: string;
  /** Connect timeout to the upstream for each client (default 2000 ms). */
  connectTimeoutMs?: number;
}

/** Events of {@link CaptureProxy}. */
export type CaptureProxyEvents = {
  /** A human-readable line per connection and per stopped output. */
  log: [line: string];
  /** An output file stopped recording (the traffic goes on). */
  captureStopped: [message: string];
  /** Both sides of a connection have closed. */
  closed: [conn: number];
};

/**
 * A transparent recording proxy: each client connection gets its own upstream connection,
 * bytes are forwarded unchanged in both directions (with backpressure: a slow side pauses
 * the other, nothing piles up), and each chunk is handed to a {@link CaptureWriter} after it
 * was forwarded. Recording can only stop itself, never the traffic (spec/capture.md).
 */
export class CaptureProxy extends SafeEmitter<CaptureProxyEvents> {
  private readonly sockets = new Set<net.Socket>();
  private nextConn = 1;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: net.Server,
    readonly writer: CaptureWriter,
    private readonly options: CaptureProxyOptions,
  ) {
    super();
  }

  /** Open the output files (rejecting when one cannot be), then listen. */
  static async start(options: CaptureProxyOptions): Promise<CaptureProxy> {
    let proxy: CaptureProxy | null = null;
    const writer = new CaptureWriter({
      out: options.out,
      ...(options.pcapng !== undefined ? { pcapng: options.pcapng } : {}),
      source: options.source ?? 'flamingo capture',
      upstream: `${options.upstreamHost}:${options.upstreamPort}`,
      onStop: (message) => {
        proxy?.emit('captureStopped', message);
        proxy?.emit('log', `capture stopped: ${message}; traffic is still forwarded`);
      },
    });
    await writer.opened();
    const server = net.createServer({ allowHalfOpen: true });
    proxy = new CaptureProxy(server, writer, options);
    const p = proxy;
    server.on('connection', (socket) => p.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** Where the proxy listens. */
  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Stop listening, close every connection, finish the files. Idempotent. */
  close(reason = 'closed'): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => {
        for (const s of this.sockets) s.destroy();
        this.server.close(() => resolve());
      });
      await this.writer.end(reason);
    })();
    return this.closing;
  }

  private accept(client: net.Socket): void {
    const conn = this.nextConn++;
    const o = this.options;
    this.sockets.add(client);
    client.pause();
    const upstream = net.createConnection({ host: o.upstreamHost, port: o.upstreamPort, noDelay: true, allowHalfOpen: true });
    this.sockets.add(upstream);
    client.setNoDelay(true);
    const clientAddress = { host: client.remoteAddress ?? '?', port: client.remotePort ?? 0 };
    const timer = setTimeout(
      () => upstream.destroy(new Error(`no answer from ${o.upstreamHost}:${o.upstreamPort} within ${o.connectTimeoutMs ?? 2000} ms`)),
      o.connectTimeoutMs ?? 2000,
    );
    let opened = false;
    let closedBy: 'client' | 'server' | null = null;
    let error: Error | undefined;
    let open = 2;
    upstream.once('connect', () => {
      clearTimeout(timer);
      opened = true;
      this.writer.open(conn, clientAddress, { host: o.upstreamHost, port: o.upstreamPort });
      this.emit('log', `#${conn} ${clientAddress.host}:${clientAddress.port} connected`);
      client.resume();
    });
    this.pipe(conn, client, upstream, 'c2s');
    this.pipe(conn, upstream, client, 's2c');
    const ended = (side: 'client' | 'server') => (err?: Error) => {
      closedBy ??= side;
      error ??= err;
    };
    client.on('error', ended('client'));
    upstream.on('error', ended('server'));
    client.on('end', () => ended('client')());
    upstream.on('end', () => ended('server')());
    const onClose = (socket: net.Socket, other: net.Socket, side: 'client' | 'server') => () => {
      this.sockets.delete(socket);
      closedBy ??= side;
      // What the closing side sent has been forwarded; let the other side finish writing it.
      if (!other.destroyed) other.end();
      if (--open > 0) return;
      clearTimeout(timer);
      if (opened) this.writer.close(conn, closedBy, error);
      this.emit(
        'log',
        opened ? `#${conn} closed by the ${closedBy}${error ? `: ${error.message}` : ''}` : `#${conn} upstream unreachable: ${error?.message ?? 'closed'}`,
      );
      this.emit('closed', conn);
    };
    client.once('close', onClose(client, upstream, 'client'));
    upstream.once('close', onClose(upstream, client, 'server'));
  }

  /** Forward `from` → `to` unchanged, pausing `from` while `to` is full; then record. */
  private pipe(conn: number, from: net.Socket, to: net.Socket, dir: Direction): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.destroyed && !to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
      try {
        this.writer.chunk(conn, dir, chunk);
      } catch (error) {
        // Recording must never stop the traffic: an unexpected failure ends recording only.
        this.emit('log', `capture error, recording goes on for the other bytes: ${(error as Error).message}`);
      }
    });
    // A half-close is forwarded as one: the other side may still answer.
    from.on('end', () => {
      if (!to.destroyed) to.end();
    });
  }
}
