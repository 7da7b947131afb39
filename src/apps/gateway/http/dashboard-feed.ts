import { commandName } from '../../../../protocol/commands.js';
import type { Packet } from '../../../../protocol/packet.js';

/** One line of the dashboard's "last events" list. */
export interface DashboardEvent {
  /** Wall-clock time it arrived (ms since the epoch). */
  at: number;
  name: string;
  status: number;
  int32Data0: number;
  int32Data1: number;
  value: number;
}

/** What one dashboard update carries: everything the page shows, so any update is whole. */
export interface DashboardView {
  /** The gateway's state mirror (`InstrumentSnapshot`) and /health body, as plain data. */
  snapshot: unknown;
  health: unknown;
  /** Number of the latest live frame the relay passed on (its PNG: /frame.png), or null. */
  frame: number | null;
}

/** The part of a WebSocket the feed uses (a `ws` WebSocket satisfies it). */
export interface FeedSocket {
  /** Bytes queued and not yet handed to the network. */
  readonly bufferedAmount: number;
  send(data: string): void;
  terminate(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** Options of {@link DashboardFeed}. */
export interface DashboardFeedOptions {
  /** Current view, read at each flush. */
  view(): DashboardView;
  /** Updates are coalesced: at most one per this many ms (default 100). */
  intervalMs?: number;
  /** A socket with more queued than this is cut off as a slow reader (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Events kept for the "last events" list (default 20). */
  eventCount?: number;
  /** A socket was cut off as a slow reader. */
  onSlowReader?(): void;
  /** Open pages are refreshed at least this often (default 1000 ms), for clocks and the lease holder. */
  heartbeatMs?: number;
}

/**
 * Pushes the dashboard's view to every open page over its WebSocket. Changes are coalesced
 * (a flood of events costs one message per interval, each a whole view, so a page never
 * needs an earlier message). A page that stops reading is cut off once its queue passes
 * `maxBufferedBytes`, like a slow gateway session: nothing buffers without bound.
 */
export class DashboardFeed {
  private readonly options: DashboardFeedOptions;
  private readonly sockets = new Set<FeedSocket>();
  /** The last events as received (packets are never mutated) and when: no object made per event. */
  private readonly ring: (Packet | undefined)[];
  private readonly ringAt: Float64Array;
  private ringNext = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: DashboardFeedOptions) {
    this.options = options;
    const count = options.eventCount ?? 20;
    this.ring = new Array<Packet | undefined>(count).fill(undefined);
    this.ringAt = new Float64Array(count);
  }

  /** Pages open now. */
  get size(): number {
    return this.sockets.size;
  }

  /** A page connected: it gets the current view at once. */
  add(socket: FeedSocket): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.remove(socket));
    // Times and the lease holder change without an event: refresh open pages every second.
    this.heartbeat ??= setInterval(() => this.changed(), this.options.heartbeatMs ?? 1000).unref();
    this.sendTo(socket, this.message());
  }

  /** Something the page shows changed: schedule an update. */
  changed(): void {
    if (this.timer !== null || this.closed || this.sockets.size === 0) return;
    this.timer = setTimeout(() => this.flush(), this.options.intervalMs ?? 100);
  }

  /** An event arrived from the instrument: remember it for the list and schedule an update. */
  event(packet: Packet): void {
    this.ring[this.ringNext] = packet;
    this.ringAt[this.ringNext] = Date.now();
    this.ringNext = (this.ringNext + 1) % this.ring.length;
    this.changed();
  }

  /** The remembered events, newest first. */
  lastEvents(): DashboardEvent[] {
    const out: DashboardEvent[] = [];
    for (let i = 1; i <= this.ring.length; i++) {
      const index = (this.ringNext - i + this.ring.length) % this.ring.length;
      const p = this.ring[index];
      if (p === undefined) continue;
      out.push({
        at: this.ringAt[index] as number,
        name: commandName(p.code),
        status: p.status,
        int32Data0: p.int32Data0,
        int32Data1: p.int32Data1,
        value: p.value,
      });
    }
    return out;
  }

  /** Close every page's socket and stop updating. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.stopHeartbeat();
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
  }

  private remove(socket: FeedSocket): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) this.stopHeartbeat();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private flush(): void {
    this.timer = null;
    if (this.sockets.size === 0) return;
    const message = this.message();
    for (const socket of [...this.sockets]) this.sendTo(socket, message);
  }

  private message(): string {
    return JSON.stringify({ ...this.options.view(), events: this.lastEvents() });
  }

  private sendTo(socket: FeedSocket, message: string): void {
    if (socket.bufferedAmount + message.length > (this.options.maxBufferedBytes ?? 1024 * 1024)) {
      this.remove(socket);
      socket.terminate();
      this.options.onSlowReader?.();
      return;
    }
    socket.send(message);
  }
}
