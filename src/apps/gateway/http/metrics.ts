import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { commandSpec } from '../../../../protocol/commands.js';
import type { StatsObserver } from '../../../client/stats.js';

/** What the metrics read when scraped (the gateway, without importing it: no cycle). */
export interface MetricsSource {
  /** Clients connected now. */
  sessionCount(): number;
  /** Downstream clients cut off as slow readers so far (TCP sessions and dashboard sockets). */
  slowReadersCutOff(): number;
  /** Times the upstream link came back after being lost. */
  upstreamReconnects(): number;
  /** Times the upstream link was lost. */
  upstreamLosses(): number;
}

/** Round-trip buckets in seconds: 0.5 ms to 30 s, roughly ×2.5 per step. */
const ROUND_TRIP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Label values kept per metric; further unknown codes share one label, so the series stay bounded. */
const MAX_CODE_LABELS = 128;

/** A code as a label: the command's name, its hex code when unknown, 'OTHER' past the cap. */
function labelOf(code: number, known: number): string {
  return known < MAX_CODE_LABELS ? (commandSpec(code)?.name ?? `0x${code.toString(16).padStart(4, '0')}`) : 'OTHER';
}

/**
 * A metric's labelled child per code, made once: prom-client hashes the label object on
 * every `inc({ command })`, which would be an allocation and a string build per event.
 */
class ChildPerCode<T> {
  private readonly children = new Map<number, T>();
  private other: T | null = null;
  constructor(private readonly make: (label: string) => T) {}
  of(code: number): T {
    const child = this.children.get(code);
    if (child !== undefined) return child;
    if (this.children.size >= MAX_CODE_LABELS) {
      if (this.other === null) this.other = this.make('OTHER');
      return this.other;
    }
    const made = this.make(labelOf(code, this.children.size));
    this.children.set(code, made);
    return made;
  }
}

/**
 * The gateway's Prometheus metrics (prom-client), in a registry of its own so two gateways
 * in one process do not share series. Per-command series come from the upstream client's
 * stats observer; gauges and totals owned elsewhere are read at scrape time.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: ChildPerCode<{ inc(): void }>;
  private readonly roundTrip: ChildPerCode<{ observe(value: number): void }>;
  private readonly turnWait: Histogram;
  private readonly events: ChildPerCode<{ inc(): void }>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const requests = new Counter({
      name: 'flamingo_upstream_requests_total',
      help: 'Requests written to the instrument, per command',
      labelNames: ['command'],
      registers,
    });
    this.requests = new ChildPerCode((command) => requests.labels(command));
    const roundTrip = new Histogram({
      name: 'flamingo_upstream_round_trip_seconds',
      help: 'Time from writing a request to the instrument to its matched reply, per command',
      labelNames: ['command'],
      buckets: ROUND_TRIP_BUCKETS,
      registers,
    });
    this.roundTrip = new ChildPerCode((command) => roundTrip.labels(command));
    this.turnWait = new Histogram({
      name: 'flamingo_upstream_turn_wait_seconds',
      help: 'Time a request waited for its turn (lease, in-flight window, exclusive gate) before being written',
      buckets: ROUND_TRIP_BUCKETS,
      registers,
    });
    const events = new Counter({
      name: 'flamingo_events_total',
      help: 'Unsolicited events from the instrument, per command',
      labelNames: ['command'],
      registers,
    });
    this.events = new ChildPerCode((command) => events.labels(command));
    new Gauge({
      name: 'flamingo_gateway_sessions',
      help: 'Downstream clients connected now',
      registers,
      collect() {
        this.set(source.sessionCount());
      },
    });
    new Counter({
      name: 'flamingo_gateway_slow_readers_cut_off_total',
      help: 'Downstream clients (sessions and dashboard sockets) cut off for not reading fast enough, since start',
      registers,
      collect() {
        this.reset();
        this.inc(source.slowReadersCutOff());
      },
    });
    new Counter({
      name: 'flamingo_upstream_reconnects_total',
      help: 'Times the instrument connection was re-established, since start',
      registers,
      collect() {
        this.reset();
        this.inc(source.upstreamReconnects());
      },
    });
    new Counter({
      name: 'flamingo_upstream_losses_total',
      help: 'Times the instrument connection was lost, since start',
      registers,
      collect() {
        this.reset();
        this.inc(source.upstreamLosses());
      },
    });
  }

  /** The hook the upstream client's stats call for every measurement. */
  readonly observer: StatsObserver = {
    sent: (code) => this.requests.of(code).inc(),
    roundTrip: (code, ms) => this.roundTrip.of(code).observe(ms / 1000),
    turnWait: (ms) => this.turnWait.observe(ms / 1000),
  };

  /** An event arrived from the instrument. */
  event(code: number): void {
    this.events.of(code).inc();
  }

  /** The Prometheus text exposition and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
