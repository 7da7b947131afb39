import net from 'node:net';
import tls from 'node:tls';
import { ConnectError, TcpTransport } from './tcp.js';

/**
 * TLS options of a client of a TLS server (a gateway started with `tls`: its command,
 * read-only and live ports). Here rather than beside the gateway so that both
 * `connectGateway` and the live-image stream (src/live/) can connect with them.
 */
export interface ClientTlsOptions {
  /** CA to trust for the server's certificate (default: the system's CAs). */
  ca?: string | Buffer;
  /** Client certificate and key, when the server requires one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name the certificate must carry (default: the host). */
  servername?: string;
}

/**
 * Connect with TLS; resolves after the handshake (the server's certificate checked).
 * Rejects with a ConnectError: `ETIMEDOUT` after `timeoutMs` without a handshake,
 * `ABORTED` when `signal` aborts first, else the socket's or the handshake's error code.
 */
export function connectTls(host: string, port: number, options: ClientTlsOptions, timeoutMs = 2000, signal?: AbortSignal): Promise<TcpTransport> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ConnectError(host, port, 'aborted', 'ABORTED', signal.reason));
      return;
    }
    const socket = tls.connect({
      host,
      port,
      servername: options.servername ?? (net.isIP(host) === 0 ? host : undefined),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
    });
    const timer = setTimeout(() => fail(new ConnectError(host, port, `no TLS handshake within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    const onAbort = (): void => fail(new ConnectError(host, port, 'aborted', 'ABORTED', signal?.reason));
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: ConnectError): void => {
      settle();
      socket.destroy();
      reject(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error: NodeJS.ErrnoException) => fail(new ConnectError(host, port, `TLS: ${error.message}`, error.code ?? 'ETLS', error)));
    socket.once('secureConnect', () => {
      settle();
      socket.removeAllListeners('error');
      socket.setKeepAlive(true, 30_000);
      resolve(new TcpTransport(socket, `${host}:${port} (TLS)`));
    });
  });
}
