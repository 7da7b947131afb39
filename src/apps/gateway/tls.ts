import net from 'node:net';
import tls from 'node:tls';
import { isLoopbackHost } from './loopback.js';
import { ConnectError, listenTcp, TcpTransport, type TcpListener } from '../../../transports/tcp.js';

/**
 * TLS for the gateway's ports (its command, read-only and live ports). PEM text or bytes,
 * as node:tls takes them.
 */
export interface GatewayTlsOptions {
  /** The server certificate (chain), PEM. */
  cert: string | Buffer;
  /** Its private key, PEM. */
  key: string | Buffer;
  /**
   * CA certificate(s), PEM. When given, every client must present a certificate signed by
   * one of them (mutual TLS); a client without one is refused during the handshake.
   */
  ca?: string | Buffer;
}

/** TLS options of a client of the gateway ({@link connectGateway}). */
export interface ClientTlsOptions {
  /** CA to trust for the gateway's certificate (default: the system's CAs). */
  ca?: string | Buffer;
  /** Client certificate and key, when the gateway requires one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name the certificate must carry (default: the host). */
  servername?: string;
}

/** Listen on plain TCP, or TLS when `options` are given; each client becomes a TcpTransport. */
export function listenGatewayPort(address: { host?: string; port?: number }, options: GatewayTlsOptions | undefined, onConnection: (transport: TcpTransport) => void): Promise<TcpListener> {
  if (options === undefined) return listenTcp(address, onConnection);
  const host = address.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ...(options.ca !== undefined ? { ca: options.ca, requestCert: true, rejectUnauthorized: true } : {}),
  });
  // Only a completed handshake becomes a client; a failed one is the peer's problem and is
  // dropped by node:tls (it must not reach the gateway as a session).
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(new TcpTransport(socket));
  });
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port ?? 0, host, () => {
      server.off('error', reject);
      resolve({
        host,
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Connect with TLS; resolves after the handshake (the server's certificate checked). */
export function connectTls(host: string, port: number, options: ClientTlsOptions, timeoutMs = 2000): Promise<TcpTransport> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: options.servername ?? (net.isIP(host) === 0 ? host : undefined),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
    });
    const timer = setTimeout(() => fail(new ConnectError(host, port, `no TLS handshake within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    const fail = (error: ConnectError) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', (error: NodeJS.ErrnoException) => fail(new ConnectError(host, port, `TLS: ${error.message}`, error.code ?? 'ETLS', error)));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setKeepAlive(true, 30_000);
      resolve(new TcpTransport(socket, `${host}:${port} (TLS)`));
    });
  });
}

/** The warning for a listen address the network can reach without TLS, or undefined. */
export function plaintextWarning(host: string, tlsEnabled: boolean): string | undefined {
  if (tlsEnabled || isLoopbackHost(host)) return undefined;
  return `listening on ${host} without TLS: the access token and all traffic are readable on the network (use --tls-cert and --tls-key)`;
}
