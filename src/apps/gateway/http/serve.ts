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

/** Start the HTTP side for `monitor` and connect the dashboard feed to its notifications. */
export async function serveHttp(
  monitor: GatewayMonitor,
  listen: GatewayHttpListen,
  token: string | undefined,
  defaultMaxBufferedBytes: number,
  log: (line: string) => void,
): Promise<GatewayHttpServer> {
  const http = await GatewayHttpServer.listen(monitor, {
    host: listen.host ?? '127.0.0.1',
    port: listen.port,
    token,
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
  log(`HTTP (health, metrics, dashboard) on ${http.address.host}:${http.address.port}`);
  return http;
}
