import { fragment, SeededRandom } from './random.js';
import { TransportBase, TransportClosedError } from './transport.js';

/** Options of {@link createMemoryPair}. */
export interface MemoryPairOptions {
  /** Cut every write into random pieces of 1..N bytes (0: deliver writes whole). */
  fragmentMaxBytes?: number;
  /** Delay every write by this long before the peer sees it (order is kept). */
  latencyMs?: number;
  /** Seed of the fragmentation (default 1). */
  seed?: number;
  /** Bytes a paused or slow reader may hold before the writer's write() waits (default 1 MiB). */
  highWaterBytes?: number;
}

let nextId = 1;
const END = Symbol('end');

/**
 * One end of an in-process byte pipe. Delivery is always asynchronous (as on a socket),
 * in order, optionally cut into fragments and delayed; a paused reader backs its writer up.
 */
export class MemoryTransport extends TransportBase {
  readonly description: string;
  peer!: MemoryTransport;
  private readonly options: Required<Omit<MemoryPairOptions, 'seed'>>;
  private readonly random: SeededRandom;
  private inbox: (Uint8Array | typeof END)[] = [];
  private inboxBytes = 0;
  private paused = false;
  private pumpScheduled = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private drainWaiters: ((closed: boolean) => void)[] = [];
  private ending = false;

  constructor(name: string, options: MemoryPairOptions, random: SeededRandom) {
    super();
    this.description = name;
    this.options = {
      fragmentMaxBytes: options.fragmentMaxBytes ?? 0,
      latencyMs: options.latencyMs ?? 0,
      highWaterBytes: options.highWaterBytes ?? 1024 * 1024,
    };
    this.random = random;
  }

  write(bytes: Uint8Array): boolean {
    if (this.isClosed || this.ending) throw new TransportClosedError(this.description);
    // Copy: the caller may reuse its buffer as soon as write() returns, as with a socket.
    const pieces = fragment(bytes.slice(), this.options.fragmentMaxBytes, this.random);
    this.send(pieces);
    return this.peer.hasRoom();
  }

  whenWritable(): Promise<void> {
    if (this.isClosed) return Promise.reject(new TransportClosedError(this.description));
    return this.peer.waitForRoom(this.description);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedulePump();
  }

  close(): Promise<void> {
    if (!this.isClosed && !this.ending) {
      this.ending = true;
      this.send([END]);
    }
    return this.whenClosed();
  }

  destroy(error?: Error): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inbox = [];
    this.inboxBytes = 0;
    this.closed(error);
    this.wakeWriters();
    if (!this.peer.isClosed) this.peer.lost();
  }

  private send(pieces: (Uint8Array | typeof END)[]): void {
    if (this.options.latencyMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.peer.enqueue(pieces);
      }, this.options.latencyMs);
      this.timers.add(timer);
    } else {
      this.peer.enqueue(pieces);
    }
  }

  private enqueue(pieces: (Uint8Array | typeof END)[]): void {
    if (this.isClosed) return;
    for (const p of pieces) {
      this.inbox.push(p);
      if (p !== END) this.inboxBytes += p.length;
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.paused || this.isClosed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.paused && !this.isClosed && this.inbox.length > 0) {
      const piece = this.inbox.shift() as Uint8Array | typeof END;
      if (piece === END) {
        this.inbox = [];
        this.inboxBytes = 0;
        this.closed();
        this.peer.finish();
        break;
      }
      this.inboxBytes -= piece.length;
      this.received(piece);
    }
    this.wakeWriters();
  }

  /** The writer's bytes still in flight to this side (latency) are not counted: they cannot pile up unboundedly faster than the writer writes. */
  private hasRoom(): boolean {
    return this.inboxBytes <= this.options.highWaterBytes || this.isClosed;
  }

  /** Resolves when this (reading) side has room; rejects when the pipe closes first. */
  private waitForRoom(writer: string): Promise<void> {
    if (this.isClosed) return Promise.reject(new TransportClosedError(writer));
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.drainWaiters.push((closed) =>
        closed ? reject(new TransportClosedError(writer, { cause: new Error('closed before the buffer drained') })) : resolve(),
      ),
    );
  }

  private wakeWriters(): void {
    if (!this.hasRoom()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w(this.isClosed);
  }

  /** The peer read our END: our side is finished too. */
  private finish(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.closed();
  }

  /** The peer was destroyed: like a reset connection. */
  private lost(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inbox = [];
    this.inboxBytes = 0;
    this.closed(new Error(`${this.description}: connection reset by peer`));
    this.wakeWriters();
  }
}

/** Two connected in-memory transports: what one writes, the other reads. */
export function createMemoryPair(options: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const id = nextId++;
  const random = new SeededRandom(options.seed ?? 1);
  const a = new MemoryTransport(`memory#${id}a`, options, random);
  const b = new MemoryTransport(`memory#${id}b`, options, random);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
