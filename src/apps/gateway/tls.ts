import type net from 'node:net';
import tls from 'node:tls';
import { isLoopbackHost } from './loopback.js';
import { listenTcp, TcpTransport, type TcpListener } from '../../../transports/tcp.js';

export { connectTls, type ClientTlsOptions } from '../../../transports/tls.js';

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

/** Listen on plain TCP, or TLS when `options` are given; each client becomes a TcpTransport. */
export function listenGatewayPort(
  address: { host?: string; port?: number },
  options: GatewayTlsOptions | undefined,
  onConnection: (transport: TcpTransport) => void,
): Promise<TcpListener> {
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

/** The warning for a listen address the network can reach without TLS, or undefined. */
export function plaintextWarning(host: string, tlsEnabled: boolean): string | undefined {
  if (tlsEnabled || isLoopbackHost(host)) return undefined;
  return `listening on ${host} without TLS: the access token and all traffic are readable on the network (use --tls-cert and --tls-key)`;
}
