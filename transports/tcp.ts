import net from 'node:net';
import { TransportBase, TransportClosedError } from './transport.js';
import { WriteCoalescer } from './write-coalescer.js';

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
  /** The first write of a tick goes out at once, the later small ones are gathered into one socket write (transports/write-coalescer.ts). */
  private readonly gathered: WriteCoalescer;
  /** Settles when a full socket drains (or closes); shared by the writers waiting on it. */
  private room: Promise<void> | null = null;

  constructor(socket: net.Socket, description?: string) {
    super();
    this.socket = socket;
    this.description = description ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    this.gathered = new WriteCoalescer((bytes) => this.writeToSocket(bytes));
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => this.closed(error));
    socket.on('close', () => this.closed());
    // A peer that ends its side has nothing more to say; finish ours so the socket closes.
    // The transport is closed from here: the socket refuses writes at once, while its
    // 'close' comes only in a later event-loop phase. Left "open" until then, the client's
    // link stayed up and wrote requests into the dead socket instead of queuing them for
    // the reconnect (test/regressions/tcp-peer-end-window.test.ts).
    socket.on('end', () => {
      // What this tick wrote goes out before our FIN, as Node's end() does with corked bytes.
      this.gathered.flush();
      socket.end();
      this.closed();
    });
  }

  write(bytes: Uint8Array): boolean {
    const socket = this.socket;
    if (this.isClosed || socket.destroyed || !socket.writable) throw new TransportClosedError(this.description);
    const now = this.gathered.write(bytes);
    // Over the high-water mark counting what is gathered: hand it to the socket now, so that
    // whenWritable() waits for the socket's own 'drain' (the bytes are queued all the same).
    if (socket.writableLength + this.gathered.pendingBytes >= socket.writableHighWaterMark) {
      this.gathered.flush();
      return !socket.writableNeedDrain;
    }
    return now;
  }

  /**
   * The socket's own answer: false once its buffer is over the high-water mark. A failure
   * after acceptance surfaces as the socket's 'error'/'close', which closes this transport;
   * a socket already destroyed (by the peer, within this tick) drops the bytes as it would.
   */
  private writeToSocket(bytes: Uint8Array): boolean {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return false;
    return socket.write(bytes);
  }

  whenWritable(): Promise<void> {
    const socket = this.socket;
    if (this.isClosed || socket.destroyed) return Promise.reject(new TransportClosedError(this.description));
    if (!socket.writableNeedDrain) return Promise.resolve();
    this.room ??= this.waitForRoom();
    return this.room;
  }

  /**
   * One promise shared by every write made while the socket is full: a burst of writers
   * waits on a single pair of 'drain'/'close' listeners, not a pair each (which would
   * grow with the burst and trip MaxListenersExceededWarning).
   */
  private waitForRoom(): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        socket.off('close', onClose);
        this.room = null;
        resolve();
      };
      const onClose = () => {
        socket.off('drain', onDrain);
        this.room = null;
        reject(new TransportClosedError(this.description, { cause: new Error('socket closed before the write was accepted') }));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
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
      this.gathered.flush();
      this.socket.end();
      // Do not wait forever for a peer that never closes its side.
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
      return this.whenClosed();
    }
    // Closed by the peer's end: both sides are ended and the socket closes on its own;
    // wait for it, so that nothing outlives close().
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  destroy(error?: Error): void {
    // Bytes written in this tick are still gathered: hand them to the kernel first, so that
    // "write, then drop" behaves as it does without corking (the peer gets the bytes).
    this.gathered.flush();
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
export function listenTcp(options: { host?: string; port?: number }, onConnection: (transport: TcpTransport) => void): Promise<TcpListener> {
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
