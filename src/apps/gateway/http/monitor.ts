import type { ImageFrame } from '../../../../protocol/image.js';
import type { Packet } from '../../../../protocol/packet.js';
import type { FlamingoClient } from '../../../client/client.js';
import { frameToPng } from '../../../live/png.js';
import type { ConnectionState } from '../../../state/types.js';
import type { DashboardView } from './dashboard-feed.js';
import { buildHealth } from './health.js';
import type { GatewayHealth } from './health.js';
import { GatewayMetrics } from './metrics.js';
import type { HttpSource } from './server.js';

/** What the monitor reads from its gateway (functions, so this module does not import it). */
export interface MonitoredGateway {
  readonly upstream: FlamingoClient;
  sessionCount(): number;
  /** The session holding the lease, or null. */
  leaseHolder(): { id: number; description: string } | null;
  leaseWaiting(): number;
  /** TCP sessions cut off as slow readers so far. */
  slowSessions(): number;
  upstreamLosses(): number;
}

/**
 * Everything the gateway's HTTP side shows, kept up to date from the gateway's own events:
 * the upstream link's state and since when, the latest live frame (its PNG made only when
 * asked, once per frame), Prometheus metrics, and the dashboard's change notifications.
 */
export class GatewayMonitor implements HttpSource {
  readonly metrics: GatewayMetrics;
  private readonly gateway: MonitoredGateway;
  private readonly startedAt = Date.now();
  private linkState: ConnectionState;
  private linkSince = Date.now();
  private frame: ImageFrame | null = null;
  /** The relay's count of the latest frame (the live header carries no frame number). */
  private frameNumber = 0;
  private framePng: { frame: number; png: Uint8Array } | null = null;
  private slowPages = 0;
  /** Told when anything the dashboard shows changed (the HTTP server's feed). */
  onChange: (() => void) | null = null;
  /** Told every instrument event (the feed's "last events" list). */
  onEvent: ((packet: Packet) => void) | null = null;

  constructor(gateway: MonitoredGateway) {
    this.gateway = gateway;
    this.linkState = gateway.upstream.state.snapshot().connection.state ?? 'connected';
    this.metrics = new GatewayMetrics({
      sessionCount: () => gateway.sessionCount(),
      slowReadersCutOff: () => gateway.slowSessions() + this.slowPages,
      upstreamReconnects: () => gateway.upstream.statsRecorder.counters.reconnects,
      upstreamLosses: () => gateway.upstreamLosses(),
    });
    gateway.upstream.statsRecorder.observer = this.metrics.observer;
    gateway.upstream.state.on('change', (next) => {
      const state = next.connection.state;
      if (state !== undefined && state !== this.linkState) {
        this.linkState = state;
        this.linkSince = Date.now();
      }
      this.onChange?.();
    });
  }

  /** An instrument event passed through the gateway. */
  event(packet: Packet): void {
    this.metrics.event(packet.code);
    this.onEvent?.(packet);
  }

  /** A live frame went out to the viewers; `number` is the relay's count. */
  liveFrame(number: number, frame: ImageFrame): void {
    this.frame = frame;
    this.frameNumber = number;
    this.onChange?.();
  }

  /** Sessions, lease or link changed. */
  changed(): void {
    this.onChange?.();
  }

  /** A dashboard page was cut off as a slow reader. */
  slowPage(): void {
    this.slowPages++;
  }

  health(): GatewayHealth {
    const upstream = this.gateway.upstream;
    return buildHealth({
      state: this.linkState,
      mode: upstream.mode,
      sinceMs: this.linkSince,
      sessions: this.gateway.sessionCount(),
      leaseHolder: this.gateway.leaseHolder(),
      leaseWaiting: this.gateway.leaseWaiting(),
      lastPacketAtMs: upstream.statsRecorder.lastPacketAt,
      startedAtMs: this.startedAt,
    });
  }

  dashboardView(): DashboardView {
    return {
      snapshot: this.gateway.upstream.state.snapshot(),
      health: this.health(),
      frame: this.frame === null ? null : this.frameNumber,
    };
  }

  latestFramePng(): { frame: number; png: Uint8Array } | null {
    const frame = this.frame;
    if (frame === null) return null;
    const number = this.frameNumber;
    if (this.framePng?.frame !== number) this.framePng = { frame: number, png: frameToPng(frame).png };
    return this.framePng;
  }
}
