/**
 * A raw protocol client for the simulator's tests: bytes in, packets out, through the
 * project's Deframer and encodePacket only (not FlamingoClient, which is tested on its own).
 */
import net from 'node:net';
import { afterEach } from 'vitest';
import {
  createMemoryPair,
  BARE_TEXT_REPLY_CODES,
  Deframer,
  encodePacket,
  Flags,
  type Packet,
  type PacketInit,
  type Transport,
  writeAndWaitForRoom,
} from 'flamingo-protocol';
import type { EventEmitter } from 'eventemitter3';
import { SimulatedMicroscope, type SimulatorEvents, type SimulatorOptions } from 'flamingo-protocol/sim';

// A safety net against hangs, not a synchronisation delay: generous because the machine is
// shared with other test runs.
const DEFAULT_TIMEOUT_MS = 10_000;

type Sink = { write(bytes: Uint8Array): void; end(): void; destroy(): void };

/** Receives packets into a queue; `next` takes the first match (waiting when none yet). */
export class WireClient {
  /** Every packet received, in order (never consumed). */
  readonly received: Packet[] = [];
  /** Every chunk exactly as it arrived (for fragmentation tests). */
  readonly chunks: Uint8Array[] = [];
  readonly deframer = new Deframer({ bareTextCodes: BARE_TEXT_REPLY_CODES });
  closed = false;
  private queue: Packet[] = [];
  private waiters: { match: (p: Packet) => boolean; resolve: (p: Packet) => void; reject: (e: Error) => void }[] = [];
  private closeWaiters: (() => void)[] = [];

  constructor(private readonly sink: Sink) {}

  /** Feed bytes from the wire. */
  data(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    for (const p of this.deframer.push(chunk)) {
      this.received.push(p);
      const i = this.waiters.findIndex((w) => w.match(p));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w?.resolve(p);
      } else this.queue.push(p);
    }
  }

  ended(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed while waiting for a packet'));
    for (const w of this.closeWaiters.splice(0)) w();
  }

  send(init: PacketInit): void {
    this.sink.write(encodePacket(init));
  }

  writeRaw(bytes: Uint8Array): void {
    this.sink.write(bytes);
  }

  /** Send with TRIGGER_CALL_BACK and wait for the reply (first later packet with the code, from the queue too). */
  request(init: PacketInit, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Packet> {
    const code = init.code ?? 0;
    const waiting = this.next((p) => p.code === code, timeoutMs);
    this.send({ ...init, cmdDataBits0: ((init.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0 });
    return waiting;
  }

  /** The first queued or future packet that matches; rejects after timeoutMs. */
  next(match: (p: Packet) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Packet> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as Packet);
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching packet within ${timeoutMs} ms; received ${this.received.map((p) => p.code.toString(16)).join(',')}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (p: Packet) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Packets with this code still queued (not taken by next/request). */
  pending(code?: number): Packet[] {
    return code === undefined ? [...this.queue] : this.queue.filter((p) => p.code === code);
  }

  whenClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): void {
    this.sink.end();
  }

  destroy(): void {
    this.sink.destroy();
  }
}

/** A client on one end of a memory pair whose other end the simulator serves. */
export function memoryClient(
  sim: SimulatedMicroscope,
  options: Parameters<typeof createMemoryPair>[0] = {},
): { client: WireClient; id: number; transport: Transport } {
  const [mine, theirs] = createMemoryPair(options);
  const client = new WireClient({
    write: (b) => void writeAndWaitForRoom(mine, b).catch(() => undefined),
    end: () => void mine.close(),
    destroy: () => mine.destroy(),
  });
  mine.attach({ data: (c) => client.data(c), close: () => client.ended() });
  const id = sim.attach(theirs);
  return { client, id, transport: mine };
}

/** A client over a real loopback socket. */
export function tcpClient(port: number): Promise<{ client: WireClient; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    const client = new WireClient({
      write: (b) => void socket.write(b),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
    });
    socket.on('data', (c: Buffer) => client.data(new Uint8Array(c.buffer, c.byteOffset, c.byteLength)));
    socket.on('close', () => client.ended());
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve({ client, socket });
    });
  });
}

/** The value a simulator event of this name carries. */
type SimEventValue<K extends keyof SimulatorEvents> = Parameters<SimulatorEvents[K]>[0];

/** Resolve on the simulator's next event of this name that passes the filter. */
export function once<K extends Exclude<keyof SimulatorEvents, 'error'>>(
  sim: SimulatedMicroscope,
  event: K,
  match: (arg: SimEventValue<K>) => boolean = () => true,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<SimEventValue<K>> {
  return new Promise((resolve, reject) => {
    const listener = (...args: EventEmitter.ArgumentMap<SimulatorEvents>[K]) => {
      const [arg] = args;
      if (!match(arg)) return;
      clearTimeout(timer);
      sim.off(event, listener);
      resolve(arg);
    };
    const timer = setTimeout(() => {
      sim.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    sim.on(event, listener);
  });
}

/**
 * A simulator factory for one test file: time runs 1000× faster (motions and workflows end
 * within the test's budget) and every simulator it made is closed after each test, so no
 * test leaks a server or timer. Call once at the file's top level.
 */
export function simulatorsClosedAfterEach(defaults: SimulatorOptions = {}): (options?: SimulatorOptions) => SimulatedMicroscope {
  let sims: SimulatedMicroscope[] = [];
  afterEach(async () => {
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
  });
  return (options = {}) => {
    const sim = new SimulatedMicroscope({ timeScale: 1000, ...defaults, ...options });
    sims.push(sim);
    return sim;
  };
}
