import net from 'node:net';
import { TransportBase, TransportClosedError } from './transport.js';

/** Options of {@link connectTcp}. */
export interface TcpConnectOptions {
  host?: string;
  port: number;
  /** Give up connecting after this long (default 2000 ms, as the public client does). */
  connectTimeoutMs?: number;
  /** TCP keepalive idle time before the first probe (default 30 s). */
  keepAliveInitialDelayMs?: number;
  /** Abort the connect attempt. */
  signal?: AbortSignal;
}

/** Error of a failed connect; the message names host:port. */
export class ConnectError extends Error {
  readonly code: string;
  readonly host: string;
  readonly port: number;
  constructor(host: string, port: number, reason: string, code: string, cause?: unknown) {
    super(`cannot connect to ${host}:${port}: ${reason}`, { cause });
    this.name = 'ConnectError';
    this.code = code;
    this.host = host;
    this.port = port;
  }
}

/** A Transport over a node:net socket: TCP_NODELAY, keepalive, write backpressure. */
export class TcpTransport extends TransportBase {
  readonly description: string;
  readonly socket: net.Socket;

  constructor(socket: net.Socket, description?: string) {
    super();
    this.socket = socket;
    this.description = description ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => this.closed(error));
    socket.on('close', () => this.closed());
    // A peer that ends its side has nothing more to say; finish ours so the socket closes.
    socket.on('end', () => socket.end());
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(new TransportClosedError(this.description));
    }
    return new Promise((resolve, reject) => {
      let flushed = false;
      let drained = false;
      let settled = false;
      const settle = (error?: Error | null) => {
        if (settled) return;
        if (error) {
          settled = true;
          this.socket.off('drain', onDrain);
          this.socket.off('close', onClose);
          reject(new TransportClosedError(this.description, { cause: error }));
          return;
        }
        if (flushed || drained) {
          settled = true;
          this.socket.off('drain', onDrain);
          this.socket.off('close', onClose);
          resolve();
        }
      };
      const onDrain = () => {
        drained = true;
        settle();
      };
      const onClose = () => settle(new Error('socket closed before the write was accepted'));
      // write() returns false when the socket's buffer is over its high-water mark: the
      // caller then waits for 'drain' instead of piling more bytes into memory.
      const accepted = this.socket.write(bytes, (error) => {
        if (error) settle(error);
        else {
          flushed = true;
          settle();
        }
      });
      if (accepted) {
        settled = true;
        resolve();
        return;
      }
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.socket.end();
      // Do not wait forever for a peer that never closes its side.
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
    }
    return this.whenClosed();
  }

  destroy(error?: Error): void {
    this.socket.destroy(error);
    this.closed(error);
  }
}

/**
 * Connect over TCP with a connect timeout; the error names host:port.
 * Sets TCP_NODELAY and keepalive (idle 30 s) as the public client does.
 */
export function connectTcp(options: TcpConnectOptions): Promise<TcpTransport> {
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  const timeoutMs = options.connectTimeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ConnectError(host, port, 'aborted', 'ABORTED', options.signal.reason));
      return;
    }
    const socket = net.createConnection({ host, port, noDelay: true });
    const fail = (error: ConnectError) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException) =>
      fail(new ConnectError(host, port, error.code === 'ECONNREFUSED' ? 'connection refused' : error.message, error.code ?? 'ECONNECT', error));
    const onAbort = () => fail(new ConnectError(host, port, 'aborted', 'ABORTED', options.signal?.reason));
    const timer = setTimeout(() => fail(new ConnectError(host, port, `no answer within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      socket.setKeepAlive(true, options.keepAliveInitialDelayMs ?? 30_000);
      resolve(new TcpTransport(socket, `${host}:${port}`));
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A TCP listener that hands each accepted connection over as a Transport. */
export interface TcpListener {
  readonly host: string;
  readonly port: number;
  /** Stop accepting and destroy every open connection; resolves when the server is closed. */
  close(): Promise<void>;
}

/** Listen on host:port (port 0 picks a free one) and call `onConnection` for each client. */
export function listenTcp(
  options: { host?: string; port?: number },
  onConnection: (transport: TcpTransport) => void,
): Promise<TcpListener> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(new TcpTransport(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        host,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
