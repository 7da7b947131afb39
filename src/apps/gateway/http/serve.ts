import { plaintextWarning, type GatewayTlsOptions } from '../tls.js';
import type { GatewayMonitor } from './monitor.js';
import { GatewayHttpServer } from './server.js';

/** Where and how the gateway's HTTP side listens (spec/observability.md). */
export interface GatewayHttpListen {
  /** Default 127.0.0.1; any other host requires the gateway's token. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Dashboard updates are coalesced to at most one per this many ms (default 100). */
  updateIntervalMs?: number;
  /** A dashboard socket with more than this queued is cut off (default: the sessions' maxOutgoingBytes). */
  maxBufferedBytes?: number;
}

/**
 * Start the HTTP side for `monitor` and connect the dashboard feed to its notifications.
 * The gateway's access rules apply: its token (required off loopback, checked by the
 * gateway before this), and its TLS certificate, so HTTP is HTTPS whenever the command port
 * is TLS. Off loopback without TLS, a warning joins `warnings`, as for the command port.
 */
export async function serveHttp(
  monitor: GatewayMonitor,
  access: { http: GatewayHttpListen; token?: string | undefined; tls?: GatewayTlsOptions | undefined },
  defaultMaxBufferedBytes: number,
  log: (line: string) => void,
  warnings: string[],
): Promise<GatewayHttpServer> {
  const listen = access.http;
  const host = listen.host ?? '127.0.0.1';
  const warning = plaintextWarning(host, access.tls !== undefined);
  if (warning !== undefined) warnings.push(`HTTP ${warning}`);
  const http = await GatewayHttpServer.listen(monitor, {
    host,
    port: listen.port,
    token: access.token,
    tls: access.tls,
    updateIntervalMs: listen.updateIntervalMs,
    maxBufferedBytes: listen.maxBufferedBytes ?? defaultMaxBufferedBytes,
    onSlowReader: () => {
      monitor.slowPage();
      log('dashboard page cut off: slow reader');
    },
  });
  const feed = http.feed;
  monitor.onChange = () => feed.changed();
  monitor.onEvent = (packet) => feed.event(packet);
  log(`${access.tls !== undefined ? 'HTTPS' : 'HTTP'} (health, metrics, dashboard) on ${http.address.host}:${http.address.port}`);
  return http;
}
