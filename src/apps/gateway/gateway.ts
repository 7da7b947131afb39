import createDebug from 'debug';
import { encodePacket } from '../../../protocol/codec.js';
import { LIVE_PORT_OFFSET } from '../../../protocol/constants.js';
import type { Packet } from '../../../protocol/packet.js';
import type { TcpListener } from '../../../transports/tcp.js';
import type { Transport } from '../../../transports/transport.js';
import { FlamingoClient } from '../../client/client.js';
import type { CorrelationMode } from '../../client/client.js';
import { ArgumentError } from '../../errors.js';
import { SafeEmitter } from '../../../transports/safe-emitter.js';
import { isLoopbackHost, tokenBytes } from './access.js';
import { checkGatewayOptions, type GatewayOptions } from './gateway-options.js';
import { DownstreamSession, describeEnd } from './downstream-session.js';
import { GatewayMonitor } from './http/monitor.js';
import { serveHttp } from './http/serve.js';
import type { GatewayHttpServer } from './http/server.js';
import type { SessionEnd, SessionHost } from './downstream-session.js';
import { LeaseBroker } from './lease-broker.js';
import { LiveRelay } from './live-relay.js';
import { listenGatewayPort, plaintextWarning } from './tls.js';

/** The gateway's log lines also go to `DEBUG=flamingo:gateway`. */
const gatewayLog = createDebug('flamingo:gateway');

/** Default port the gateway listens on (its live relay: this + 1). */
export const DEFAULT_GATEWAY_PORT = 53800;

/** Where the gateway listens. */
export interface GatewayAddress {
  host: string;
  port: number;
  /** The live-image relay port, when relaying. */
  livePort: number | undefined;
  /** The read-only port, when configured. */
  readOnlyPort: number | undefined;
  /** The HTTP port (/health, /metrics, dashboard), when serving. */
  httpPort: number | undefined;
}

/** One connected client. */
export interface GatewaySessionInfo {
  id: number;
  description: string;
  readOnly: boolean;
}

/** Counters of the gateway's life so far. */
export interface GatewayStats {
  /** Connections accepted (including refused ones). */
  connections: number;
  /** Clients connected now (past the token check). */
  open: number;
  /** Connections closed for a missing or wrong token (command and live ports). */
  rejected: number;
  /** Clients cut off because they did not read fast enough. */
  slowDisconnects: number;
  /** Commands refused on the read-only port. */
  readOnlyRefused: number;
  /** Requests answered (including failure replies made by the gateway). */
  requests: number;
  /** Failure replies the gateway made (instrument lost or silent, refused, overloaded). */
  failures: number;
  /** Unsolicited events received from the instrument (each fanned out to every client once). */
  events: number;
  /** Times the instrument connection was lost. */
  upstreamLosses: number;
}

/** Events of {@link FlamingoGateway}. */
export type GatewayEvents = {
  /** A human-readable line for every connection, refusal, cut-off and upstream change. */
  log: [line: string];
  /** A client passed the token check (or none was needed). */
  opened: [session: GatewaySessionInfo];
  /** A client left or was closed; `reason` in words. */
  closed: [session: GatewaySessionInfo & { reason: string; end: SessionEnd }];
  /** The instrument connection was lost (in-flight requests got failure replies). */
  upstreamDown: [error: Error | undefined];
  /** The instrument connection is back. */
  upstreamUp: [];
  /** An exception from a listener. */
  error: [error: Error];
};

/**
 * Many apps, one microscope: ONE connection to the instrument shared by many downstream
 * clients that speak the same protocol. Each reply goes back to the client that asked, with
 * that client's own sequence fields; every unsolicited event goes to every client once;
 * a client can take an exclusive lease across all clients (LEASE_ACQUIRE / LEASE_RELEASE);
 * a slow client is cut off instead of stalling the others; a lost instrument connection
 * fails the requests in flight and is re-established with backoff. Live images are relayed
 * on the port after the command port. Access and extension codes: spec/protocol.md.
 *
 * ```ts
 * const gateway = await FlamingoGateway.start({ upstreamPort: 53717, port: 53800 });
 * const app = await FlamingoClient.connect({ port: 53800 });
 * ```
 */
export class FlamingoGateway extends SafeEmitter<GatewayEvents> {
  /** The one client connected to the instrument. */
  readonly upstream: FlamingoClient;
  /** The exclusive lease shared by the downstream clients. */
  readonly leases: LeaseBroker;
  /** What is insecure about this configuration (e.g. a non-loopback listen without TLS), in words. */
  readonly warnings: string[] = [];
  private readonly options: GatewayOptions;
  private readonly host: SessionHost;
  private readonly sessionsById = new Map<number, DownstreamSession>();
  private readonly servers: TcpListener[] = [];
  private live: LiveRelay | null = null;
  /** What the HTTP side shows, when serving HTTP. */
  private readonly monitor: GatewayMonitor | null;
  private http: GatewayHttpServer | null = null;
  private addressValue: GatewayAddress | null = null;
  private nextId = 1;
  private closing: Promise<void> | null = null;
  private stopping = false;
  private readonly counters = { connections: 0, rejected: 0, slowDisconnects: 0, readOnlyRefused: 0, requests: 0, failures: 0, events: 0, upstreamLosses: 0 };

  private constructor(options: GatewayOptions, upstream: FlamingoClient, token: Uint8Array | null) {
    super();
    this.options = options;
    this.upstream = upstream;
    this.leases = new LeaseBroker(upstream);
    this.host = {
      upstream,
      leases: this.leases,
      token,
      maxOutgoingBytes: options.maxOutgoingBytes ?? 1024 * 1024,
      maxPendingPerSession: options.maxPendingPerSession ?? 256,
      maxPayloadBytes: options.maxPayloadBytes ?? 16 * 1024 * 1024,
      helloTimeoutMs: options.helloTimeoutMs ?? 5000,
      opened: (session) => this.sessionOpened(session),
      closed: (session, end) => this.sessionClosed(session, end),
      refusedReadOnly: () => {
        this.counters.readOnlyRefused++;
      },
    };
    this.monitor = options.http === undefined ? null : this.makeMonitor();
    upstream.on('event', this.fanOut);
    upstream.on('disconnect', ({ error }) => {
      this.counters.upstreamLosses++;
      this.log(`instrument connection lost${error ? `: ${error.message}` : ''}; requests in flight failed`);
      this.emit('upstreamDown', error);
    });
    upstream.on('reconnecting', ({ attempt, delayMs }) => this.log(`reconnecting to the instrument (attempt ${attempt}) in ${delayMs} ms`));
    upstream.on('reconnected', () => {
      this.log('instrument connection re-established');
      this.emit('upstreamUp');
    });
    upstream.on('error', (error) => this.log(`instrument connection error: ${error.message}`));
  }

  /**
   * Connect to the instrument, then listen. Rejects with ArgumentError, before any socket
   * opens, when an option is unknown or out of its range (GATEWAY_OPTIONS_SCHEMA) or a
   * non-loopback address is given without a token; with ConnectError when the instrument
   * cannot be reached; or when a port is taken.
   */
  static async start(options: GatewayOptions): Promise<FlamingoGateway> {
    // Every option at the door: a bad one used to start the gateway and crash it on the
    // first app that connected (issue 18).
    checkGatewayOptions(options);
    const host = options.host ?? '127.0.0.1';
    if (options.token === undefined && !isLoopbackHost(host)) {
      throw new ArgumentError(`listening on ${host} (not loopback) requires a token`);
    }
    const token = options.token === undefined ? null : tokenBytes(options.token);
    const upstreamHost = options.upstreamHost ?? '127.0.0.1';
    const upstream = await FlamingoClient.connect({
      host: upstreamHost,
      port: options.upstreamPort,
      mode: options.mode ?? 'auto',
      ...(options.upstreamTransport !== undefined ? { transport: options.upstreamTransport } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.queueTimeoutMs !== undefined ? { queueTimeoutMs: options.queueTimeoutMs } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      // 'fail': a request made while the instrument is away gets a failure reply at once,
      // rather than reaching the instrument seconds later when its sender has given up.
      reconnect: { ...options.reconnect, whileDown: 'fail' },
    });
    const gateway = new FlamingoGateway(options, upstream, token);
    const warning = plaintextWarning(host, options.tls !== undefined);
    if (warning !== undefined) gateway.warnings.push(warning);
    try {
      await gateway.listen(host, upstreamHost, token);
    } catch (error) {
      await gateway.close();
      throw error;
    }
    return gateway;
  }

  /** Where the gateway listens. */
  get address(): GatewayAddress {
    if (this.addressValue === null) throw new Error('the gateway is not listening');
    return this.addressValue;
  }

  /** The upstream correlation mode in use. */
  get mode(): CorrelationMode {
    return this.upstream.mode;
  }

  /** The live-image relay, when enabled. */
  get liveRelay(): LiveRelay | null {
    return this.live;
  }

  /** Clients connected now. */
  get sessions(): GatewaySessionInfo[] {
    return [...this.sessionsById.values()].filter((s) => s.isOpen).map((s) => ({ id: s.id, description: s.description, readOnly: s.readOnly }));
  }

  /** Counters so far. */
  get stats(): GatewayStats {
    let requests = this.counters.requests;
    let failures = this.counters.failures;
    for (const s of this.sessionsById.values()) {
      requests += s.requests;
      failures += s.failures;
    }
    return { ...this.counters, requests, failures, open: this.sessions.length };
  }

  /** Serve one client over any transport (e.g. one end of createMemoryPair). Returns its id. */
  attach(transport: Transport, options: { readOnly?: boolean } = {}): number {
    const id = this.nextId++;
    this.counters.connections++;
    if (this.stopping) {
      transport.destroy();
      return id;
    }
    const session = new DownstreamSession(id, transport, options.readOnly === true, this.host);
    this.sessionsById.set(id, session);
    session.start();
    return id;
  }

  /** Cut one client off (as if its connection failed). */
  disconnect(id: number): void {
    this.sessionsById.get(id)?.end({ kind: 'gateway' });
  }

  /** Stop listening, close every client and the instrument connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async listen(host: string, upstreamHost: string, token: Uint8Array | null): Promise<void> {
    const options = this.options;
    const port = options.port ?? DEFAULT_GATEWAY_PORT;
    const main = await listenGatewayPort({ host, port }, options.tls, (t) => this.attach(t));
    this.servers.push(main);
    let livePort: number | undefined;
    if (options.livePort !== false) {
      this.live = new LiveRelay({
        upstreamHost,
        upstreamPort: options.upstreamLivePort ?? options.upstreamPort + LIVE_PORT_OFFSET,
        token,
        ...(options.tls !== undefined ? { tls: options.tls } : {}),
        ...(options.maxQueuedFrames !== undefined ? { maxQueuedFrames: options.maxQueuedFrames } : {}),
        ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.helloTimeoutMs !== undefined ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
      });
      this.live.on('log', (line) => this.log(line));
      this.live.on('rejected', () => {
        this.counters.rejected++;
      });
      const monitor = this.monitor;
      if (monitor !== null) this.live.on('frame', (number, frame) => monitor.liveFrame(number, frame));
      livePort = await this.live.listen(host, options.livePort ?? (main.port === 0 || port === 0 ? 0 : main.port + LIVE_PORT_OFFSET));
    }
    let readOnlyPort: number | undefined;
    if (options.readOnlyPort !== undefined) {
      const readOnly = await listenGatewayPort({ host, port: options.readOnlyPort }, options.tls, (t) => this.attach(t, { readOnly: true }));
      this.servers.push(readOnly);
      readOnlyPort = readOnly.port;
    }
    let httpPort: number | undefined;
    if (options.http !== undefined && this.monitor !== null) {
      this.http = await serveHttp(this.monitor, { ...options, http: options.http }, this.host.maxOutgoingBytes, (line) => this.log(line), this.warnings);
      httpPort = this.http.address.port;
    }
    this.addressValue = { host: main.host, port: main.port, livePort, readOnlyPort, httpPort };
  }

  private makeMonitor(): GatewayMonitor {
    return new GatewayMonitor({
      upstream: this.upstream,
      sessionCount: () => this.sessions.length,
      leaseHolder: () => (this.leases.holder instanceof DownstreamSession ? { id: this.leases.holder.id, description: this.leases.holder.description } : null),
      leaseWaiting: () => this.leases.waitingCount,
      slowSessions: () => this.counters.slowDisconnects,
      upstreamLosses: () => this.counters.upstreamLosses,
    });
  }

  /** An instrument event: encoded once, sent to every open client. */
  private readonly fanOut = (packet: Packet): void => {
    this.counters.events++;
    this.monitor?.event(packet);
    if (this.sessionsById.size === 0) return;
    const bytes = encodePacket(packet);
    for (const session of this.sessionsById.values()) session.sendEvent(bytes);
  };

  private sessionOpened(session: DownstreamSession): void {
    const info = { id: session.id, description: session.description, readOnly: session.readOnly };
    this.log(`#${session.id} connected from ${session.description}${session.readOnly ? ' (read-only)' : ''}`);
    this.emit('opened', info);
    this.monitor?.changed();
  }

  private sessionClosed(session: DownstreamSession, end: SessionEnd): void {
    if (!this.sessionsById.delete(session.id)) return;
    this.counters.requests += session.requests;
    this.counters.failures += session.failures;
    if (end.kind === 'token') this.counters.rejected++;
    if (end.kind === 'slow') this.counters.slowDisconnects++;
    const reason = describeEnd(end);
    this.log(`#${session.id} ${reason}`);
    this.emit('closed', { id: session.id, description: session.description, readOnly: session.readOnly, reason, end });
    this.monitor?.changed();
  }

  private log(line: string): void {
    if (gatewayLog.enabled) gatewayLog('%s', line);
    this.emit('log', line);
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    // Sessions first, so each is logged as closed by the gateway (closing the listeners
    // would destroy their sockets and report them as plain disconnects).
    for (const session of [...this.sessionsById.values()]) session.end({ kind: 'gateway' });
    const servers = this.servers.splice(0);
    await Promise.all([...servers.map((l) => l.close()), this.http?.close()]);
    await this.live?.close();
    this.upstream.off('event', this.fanOut);
    await this.upstream.close();
  }
}
