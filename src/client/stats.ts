import { commandSpec } from '../../protocol/commands.js';
import { LatencyHistogram } from './histogram.js';
import type { LatencySummary } from './histogram.js';

export type { LatencySummary } from './histogram.js';

/** Counters of one client since it was made or last reset. */
export interface ClientCounters {
  /** Requests and sends handed to the transport. */
  sent: number;
  /** Replies matched to a waiting request. */
  replies: number;
  /** Packets classed as events (no pending request claimed them). */
  events: number;
  /** Replies nobody waited for any more (late replies after a timeout or abort). */
  unmatched: number;
  /** Requests whose reply did not come in time. */
  timeouts: number;
  /** Lease-mode fences written after a timeout (spec/correlation.md). */
  fences: number;
  /** Times the deframer skipped garbage to find the next packet. */
  resyncs: number;
  /** Bytes skipped by those resyncs. */
  skippedBytes: number;
  /** Times the link came back after being lost. */
  reconnects: number;
  /** Events an event stream dropped because its consumer was behind (oldest first). */
  droppedEvents: number;
}

/** What {@link ClientStats.snapshot} returns: plain data, safe to serialise. */
export interface ClientStatsSnapshot extends ClientCounters {
  /** Round trip (written → reply matched) per command name, in milliseconds. */
  roundTrip: Record<string, LatencySummary>;
  /** Round trip of every command together. */
  roundTripAll: LatencySummary;
  /**
   * Time a request waited for its turn (the lease in lease mode, a slot of the in-flight
   * window in sequenced mode, the exclusive gate) before being written: the lock contention.
   */
  turnWait: LatencySummary;
  /** Wall-clock time (ms since the epoch) the last packet arrived, or null. */
  lastPacketAt: number | null;
  /** Wall-clock time (ms since the epoch) the counters started (made or reset). */
  since: number;
}

/**
 * Told every measured round trip and turn wait as it happens (e.g. the gateway feeding
 * Prometheus histograms). Must not throw.
 */
export interface StatsObserver {
  sent(code: number): void;
  roundTrip(code: number, ms: number): void;
  turnWait(ms: number): void;
}

/**
 * Command codes that get a histogram of their own. A command table has far fewer; codes
 * past the cap (raw requests with made-up codes) share the {@link OTHER} histogram, so the
 * memory stays bounded whatever codes a caller sends.
 */
const MAX_COMMAND_HISTOGRAMS = 128;
const OTHER = -1;

/**
 * A client's counters and latency histograms. Every record is a counter increment or a
 * histogram bucket increment: no allocation per request (a command's histogram is made
 * the first time that command is measured, at most 128 of them, `OTHER` after that).
 * `reset()` zeroes everything in place.
 */
export class ClientStats {
  /** The live counters; read them directly or through {@link snapshot}. */
  readonly counters: ClientCounters = emptyCounters();
  /** Optional hook told each measurement (set by the gateway for its /metrics). */
  observer: StatsObserver | null = null;
  private readonly perCommand = new Map<number, LatencyHistogram>();
  private readonly all = new LatencyHistogram();
  private readonly wait = new LatencyHistogram();
  private lastPacket: number | null = null;
  private sinceValue = Date.now();

  /** A request (or a send) with `code` was handed to the transport. */
  noteSent(code: number): void {
    this.counters.sent++;
    this.observer?.sent(code);
  }

  /** A request's reply matched it, `ms` after it was written. */
  recordRoundTrip(code: number, ms: number): void {
    this.counters.replies++;
    this.histogramFor(code).record(ms);
    this.all.record(ms);
    this.observer?.roundTrip(code, ms);
  }

  /** A request waited `ms` for its turn before being written. */
  recordTurnWait(ms: number): void {
    this.wait.record(ms);
    this.observer?.turnWait(ms);
  }

  /** Wall-clock time (ms since the epoch) the last packet arrived, or null. */
  get lastPacketAt(): number | null {
    return this.lastPacket;
  }

  /** Packets arrived (any kind); called once per received chunk that completed one. */
  notePacket(): void {
    this.lastPacket = Date.now();
  }

  /** Counters, per-command round-trip summaries and the turn-wait summary, as plain data. */
  snapshot(): ClientStatsSnapshot {
    const roundTrip: Record<string, LatencySummary> = {};
    for (const [code, histogram] of this.perCommand) roundTrip[code === OTHER ? 'OTHER' : nameOf(code)] = histogram.summary();
    return {
      ...this.counters,
      roundTrip,
      roundTripAll: this.all.summary(),
      turnWait: this.wait.summary(),
      lastPacketAt: this.lastPacket,
      since: this.sinceValue,
    };
  }

  /** Zero every counter and histogram (in place; nothing is reallocated). */
  reset(): void {
    Object.assign(this.counters, emptyCounters());
    for (const histogram of this.perCommand.values()) histogram.reset();
    this.all.reset();
    this.wait.reset();
    this.sinceValue = Date.now();
  }

  private histogramFor(code: number): LatencyHistogram {
    let histogram = this.perCommand.get(code);
    if (histogram !== undefined) return histogram;
    const key = this.perCommand.size < MAX_COMMAND_HISTOGRAMS - 1 ? code : OTHER;
    histogram = this.perCommand.get(key);
    if (histogram === undefined) {
      histogram = new LatencyHistogram();
      this.perCommand.set(key, histogram);
    }
    return histogram;
  }
}

function nameOf(code: number): string {
  return commandSpec(code)?.name ?? `0x${code.toString(16).padStart(4, '0')}`;
}

function emptyCounters(): ClientCounters {
  return { sent: 0, replies: 0, events: 0, unmatched: 0, timeouts: 0, fences: 0, resyncs: 0, skippedBytes: 0, reconnects: 0, droppedEvents: 0 };
}
