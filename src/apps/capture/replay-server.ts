import net from 'node:net';
import { SafeEmitter } from '../../../transports/safe-emitter.js';
import { encodePacket } from '../../../protocol/codec.js';
import { commandName } from '../../../protocol/commands.js';
import { Deframer } from '../../../protocol/deframer.js';
import type { Packet } from '../../../protocol/packet.js';
import { createMemoryPair } from '../../../transports/memory.js';
import { type Transport, writeAndWaitForRoom } from '../../../transports/transport.js';
import { adaptFollower, requestKey, type RecordedExchange, type ReplayScript } from './replay-script.js';

/** Options of {@link ReplayServer}. */
export interface ReplayServerOptions {
  /** Refuse what the recording lacks (close that client) instead of asking the model. */
  strict?: boolean;
  /**
   * What answers requests the recording lacks (not strict): something that serves the
   * protocol over a transport, such as the simulator (`flamingo sim --replay` passes a
   * SimulatedMicroscope; the package root does not load the simulator itself). Without
   * one, such a request is refused as in strict mode.
   */
  model?: ReplayModel;
}

/** A protocol server the replay falls back to: one attach per client connection. */
export interface ReplayModel {
  attach(transport: Transport): unknown;
  close(): Promise<void>;
}

/** Events of {@link ReplayServer}. */
export type ReplayServerEvents = {
  log: [line: string];
  /** A request answered from the recording. */
  replayed: [info: { conn: number; name: string; recordedConn: number }];
  /** A request the recording has no (more) answers for. */
  miss: [info: { conn: number; name: string; packet: Packet; strict: boolean }];
};

/**
 * A server that answers as a capture did (spec/capture.md §Replay): a request gets the
 * server bytes recorded after the same request (same code and arguments), the n-th time it
 * is asked the n-th recorded answer, each at its recorded delay; what the recording lacks
 * goes to the simulator's model, or closes the client when strict.
 */
export class ReplayServer extends SafeEmitter<ReplayServerEvents> {
  private readonly byKey = new Map<string, RecordedExchange[]>();
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = net.createServer((s) => this.accept(s));
  private accepted = 0;
  /** Requests answered from the recording, and not. */
  readonly counts = { replayed: 0, missed: 0 };

  constructor(
    private readonly script: ReplayScript,
    private readonly options: ReplayServerOptions = {},
  ) {
    super();
    for (const e of script.exchanges) {
      const key = requestKey(e.request);
      const list = this.byKey.get(key) ?? [];
      list.push(e);
      this.byKey.set(key, list);
    }
  }

  /** Listen; resolves with the bound address. */
  listen(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve({ host, port: (this.server.address() as net.AddressInfo).port });
      });
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.options.model?.close();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  private accept(socket: net.Socket): void {
    const conn = ++this.accepted;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let modelLink: Transport | null = null;
    const send = (bytes: Uint8Array) => {
      if (!socket.destroyed) socket.write(bytes);
    };
    for (const f of this.script.initial[conn - 1] ?? []) this.later(f.delayMs, () => send(f.bytes));
    const deframer = new Deframer({ onResync: ({ skippedBytes }) => this.emit('log', `#${conn} skipped ${skippedBytes} bytes that were not packets`) });
    const handle = (packet: Packet) => {
      const name = commandName(packet.code);
      const exchange = this.byKey.get(requestKey(packet))?.shift();
      if (exchange !== undefined) {
        this.counts.replayed++;
        this.emit('replayed', { conn, name, recordedConn: exchange.conn });
        for (const f of exchange.followers) this.later(f.delayMs, () => send(adaptFollower(f, exchange.request, packet)));
        return;
      }
      this.counts.missed++;
      const strict = this.options.strict === true || this.options.model === undefined;
      this.emit('miss', { conn, name, packet, strict });
      if (strict) {
        this.emit(
          'log',
          `#${conn} ${name}: not in the recording${this.options.strict === true ? ' (--strict)' : ', and no model to ask'}: closing the connection`,
        );
        socket.destroy();
        return;
      }
      modelLink ??= this.connectModel(send);
      void writeAndWaitForRoom(modelLink, encodePacket(packet)).catch(() => undefined);
    };
    socket.on('data', (chunk: Buffer) => {
      for (const packet of deframer.push(chunk)) handle(packet);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.sockets.delete(socket);
      void modelLink?.close();
    });
  }

  /** A connection to the fallback model whose output goes to `send`. */
  private connectModel(send: (bytes: Uint8Array) => void): Transport {
    const [ours, theirs] = createMemoryPair();
    (this.options.model as ReplayModel).attach(theirs);
    ours.attach({ data: (bytes) => send(new Uint8Array(bytes)), close: () => undefined });
    return ours;
  }
}
