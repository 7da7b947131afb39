import { createServer } from 'node:http';
import { createServer as createSecureServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { tokenBytes } from '../access.js';
import type { GatewayTlsOptions } from '../tls.js';
import { DashboardFeed } from './dashboard-feed.js';
import type { DashboardView } from './dashboard-feed.js';
import { DASHBOARD_HTML, DASHBOARD_SCRIPT } from './dashboard-page.js';
import type { GatewayHealth } from './health.js';
import type { GatewayMetrics } from './metrics.js';

/** What the HTTP side reads from the gateway (an interface, so http/ does not import the gateway). */
export interface HttpSource {
  health(): GatewayHealth;
  dashboardView(): DashboardView;
  /** The latest live frame as PNG with its number, or null before the first one. */
  latestFramePng(): { frame: number; png: Uint8Array } | null;
  readonly metrics: GatewayMetrics;
}

/** Options of {@link GatewayHttpServer.listen}. */
export interface GatewayHttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** When set, every request must carry it (`Authorization: Bearer …` or `?token=…`). */
  token?: string | undefined;
  /** Serve HTTPS (and wss) with the gateway's certificate; with `ca`, client certificates are required. */
  tls?: GatewayTlsOptions | undefined;
  /** Dashboard updates are coalesced to at most one per this many ms (default 100). */
  updateIntervalMs?: number | undefined;
  /** A dashboard socket with more than this queued is cut off (default 1 MiB). */
  maxBufferedBytes?: number | undefined;
  /** A dashboard socket was cut off for not reading. */
  onSlowReader?: (() => void) | undefined;
}

const PATHS = new Set(['/', '/dashboard.js', '/health', '/metrics', '/frame.png', '/ws']);
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'";

/**
 * The gateway's read-only HTTP side: `/health` (JSON), `/metrics` (Prometheus text), `/`
 * (the dashboard page, `/dashboard.js` its script, `/frame.png` the latest live frame) and
 * `/ws` (the dashboard's live updates). Unknown paths get 404, anything but GET 405
 * (spec/observability.md). Every answer is built from fields the gateway already keeps,
 * so it never waits on the instrument or on an upload in progress.
 */
export class GatewayHttpServer {
  /** The dashboard pages' update feed. */
  readonly feed: DashboardFeed;
  private readonly server: Server;
  private readonly sockets: WebSocketServer;
  private readonly source: HttpSource;
  private readonly token: Uint8Array | null;
  private addressValue: { host: string; port: number } = { host: '', port: 0 };
  private closing: Promise<void> | null = null;

  private constructor(source: HttpSource, options: GatewayHttpOptions) {
    this.source = source;
    this.token = options.token === undefined ? null : tokenBytes(options.token);
    this.feed = new DashboardFeed({
      view: () => source.dashboardView(),
      ...(options.updateIntervalMs !== undefined ? { intervalMs: options.updateIntervalMs } : {}),
      ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
      ...(options.onSlowReader !== undefined ? { onSlowReader: options.onSlowReader } : {}),
    });
    // The page sends nothing; a tiny payload limit keeps a misbehaving peer from costing memory.
    this.sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 });
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    const tls = options.tls;
    this.server =
      tls === undefined
        ? createServer(handler)
        : createSecureServer(
            { cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) },
            handler,
          );
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 10_000;
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Listen on `options.host:options.port`. */
  static async listen(source: HttpSource, options: GatewayHttpOptions): Promise<GatewayHttpServer> {
    const http = new GatewayHttpServer(source, options);
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(options.port, options.host, () => {
        http.server.off('error', reject);
        resolve();
      });
    });
    const address = http.server.address();
    if (address !== null && typeof address === 'object') http.addressValue = { host: address.address, port: address.port };
    return http;
  }

  /** Where it listens. */
  get address(): { host: string; port: number } {
    return this.addressValue;
  }

  /** Stop listening and close every connection and dashboard socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.feed.close();
      this.sockets.close();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private authorised(req: IncomingMessage, url: URL): boolean {
    if (this.token === null) return true;
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') === true ? header.slice(7) : url.searchParams.get('token');
    if (given === null) return false;
    let bytes: Uint8Array;
    try {
      bytes = tokenBytes(given);
    } catch {
      return false;
    }
    return timingSafeEqual(bytes, this.token);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (!this.authorised(req, url)) {
      send(res, 401, 'text/plain; charset=utf-8', 'token required\n', { 'www-authenticate': 'Bearer' });
      return;
    }
    if (!PATHS.has(url.pathname)) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n', { allow: 'GET' });
      return;
    }
    switch (url.pathname) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, { 'content-security-policy': PAGE_POLICY });
        return;
      case '/dashboard.js':
        send(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_SCRIPT);
        return;
      case '/health': {
        const health = this.source.health();
        send(res, health.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(health)}\n`);
        return;
      }
      case '/metrics':
        this.source.metrics.render().then(
          ({ body, contentType }) => send(res, 200, contentType, body),
          (error: unknown) => send(res, 500, 'text/plain; charset=utf-8', `metrics failed: ${String(error)}\n`),
        );
        return;
      case '/frame.png': {
        const latest = this.source.latestFramePng();
        if (latest === null) {
          send(res, 404, 'text/plain; charset=utf-8', 'no live frame yet\n');
          return;
        }
        send(res, 200, 'image/png', latest.png, { 'x-frame-number': String(latest.frame) });
        return;
      }
      default:
        // '/ws' without an upgrade.
        send(res, 426, 'text/plain; charset=utf-8', 'WebSocket upgrade required\n', { upgrade: 'websocket' });
        return;
    }
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (!this.authorised(req, url)) {
      refuse('401 Unauthorized');
      return;
    }
    if (url.pathname !== '/ws') {
      refuse('404 Not Found');
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      this.feed.add(ws);
    });
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'content-type': type,
    'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
  });
  res.end(body);
}
