/**
 * A scripted fake Flamingo server for client tests: it records every packet it receives
 * and answers through a replaceable handler, over the memory transport or loopback TCP.
 * Tests script exact replies (and how they are cut into chunks) without the simulator.
 */
import {
  Deframer,
  Flags,
  STATUS_OK,
  createMemoryPair,
  encodePacket,
  listenTcp,
  type MemoryPairOptions,
  type Packet,
  type PacketInit,
  type TcpListener,
  type Transport,
  writeAndWaitForRoom,
} from 'flamingo-protocol';
import { concat } from './packets.js';

/** Commands whose replies echo the request's int32Data0 (the project's convention). */
const ECHO_INT32DATA0 = new Set([0x6004, 0x6005, 0x6008, 0x2001, 0x2002]);

export interface FakeServerOptions {
  /** Copy hardwareId/subsystemId/clientId from each request into its reply (sequenced server). */
  echoSequence?: boolean;
}

/** Decides what to do with one received packet; the default answers every callback request with status 1. */
export type FakeHandler = (packet: Packet, connection: FakeConnection) => void;

/** One accepted connection. */
export class FakeConnection {
  readonly received: Packet[] = [];
  constructor(
    readonly server: FakeServer,
    readonly transport: Transport,
  ) {
    const deframer = new Deframer();
    transport.attach({
      data: (chunk) => {
        for (const packet of deframer.push(chunk)) {
          this.received.push(packet);
          server.note(packet, this);
        }
      },
      close: () => server.noteClosed(this),
    });
  }

  /** A reply to `request` with `fields` (code, status 1, echoed axis/laser and, when echoing, sequence fields). */
  reply(request: Packet, fields: PacketInit = {}): Uint8Array {
    return encodePacket(this.server.replyInit(request, fields));
  }

  /** Write all parts as ONE chunk (one write): what a server does when it sends several packets together. */
  write(...parts: Uint8Array[]): void {
    writeAndWaitForRoom(this.transport, concat(parts)).catch(() => undefined);
  }

  /** Drop the connection at once (like a crash or a reset). */
  drop(): void {
    this.transport.destroy();
  }
}

/** The fake server. */
export class FakeServer {
  readonly connections: FakeConnection[] = [];
  /** Every packet received, on any connection, in order. */
  readonly received: Packet[] = [];
  handler: FakeHandler;
  readonly echoSequence: boolean;
  private listener: TcpListener | null = null;
  private packetWaiters: { count: number; resolve: () => void }[] = [];
  private connectionWaiters: { count: number; resolve: () => void }[] = [];
  private closedConnections = 0;
  private closeWaiters: { count: number; resolve: () => void }[] = [];

  constructor(options: FakeServerOptions = {}) {
    this.echoSequence = options.echoSequence ?? true;
    this.handler = (packet, connection) => this.autoReply(packet, connection);
  }

  /** Answer a callback request with status 1 (the default handler). */
  autoReply(packet: Packet, connection: FakeConnection, fields: PacketInit = {}): void {
    if ((packet.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) === 0) return;
    connection.write(connection.reply(packet, fields));
  }

  /** Reply header fields for a request, following the project's conventions. */
  replyInit(request: Packet, fields: PacketInit = {}): PacketInit {
    const init: PacketInit = { code: request.code, status: STATUS_OK };
    if (ECHO_INT32DATA0.has(request.code)) init.int32Data0 = request.int32Data0;
    if (this.echoSequence) {
      init.hardwareId = request.hardwareId;
      init.subsystemId = request.subsystemId;
      init.clientId = request.clientId;
    }
    return { ...init, ...fields };
  }

  /** A client-side transport connected to this server through a memory pair. */
  connectMemory(options: MemoryPairOptions = {}): Transport {
    const [client, server] = createMemoryPair(options);
    this.accept(server);
    return client;
  }

  /** Listen on 127.0.0.1, port 0. */
  async listen(): Promise<number> {
    this.listener = await listenTcp({ host: '127.0.0.1', port: 0 }, (transport) => this.accept(transport));
    return this.listener.port;
  }

  /** Resolves once `count` packets have been received in total. */
  waitForPackets(count: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return this.wait(this.packetWaiters, count, timeoutMs, () => `${count} packets (got ${this.received.length})`);
  }

  /** Resolves once `count` connections have been accepted in total. */
  waitForConnections(count: number, timeoutMs = 5000): Promise<void> {
    if (this.connections.length >= count) return Promise.resolve();
    return this.wait(this.connectionWaiters, count, timeoutMs, () => `${count} connections`);
  }

  /** Resolves once `count` connections have closed in total. */
  waitForClosed(count: number, timeoutMs = 5000): Promise<void> {
    if (this.closedConnections >= count) return Promise.resolve();
    return this.wait(this.closeWaiters, count, timeoutMs, () => `${count} closed connections`);
  }

  /** The latest connection. */
  get connection(): FakeConnection {
    const c = this.connections[this.connections.length - 1];
    if (c === undefined) throw new Error('no connection yet');
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.transport.destroy();
    if (this.listener !== null) await this.listener.close();
    this.listener = null;
  }

  /** @internal */
  note(packet: Packet, connection: FakeConnection): void {
    this.received.push(packet);
    this.handler(packet, connection);
    this.packetWaiters = settle(this.packetWaiters, this.received.length);
  }

  /** @internal */
  noteClosed(_connection: FakeConnection): void {
    this.closedConnections++;
    this.closeWaiters = settle(this.closeWaiters, this.closedConnections);
  }

  private accept(transport: Transport): void {
    this.connections.push(new FakeConnection(this, transport));
    this.connectionWaiters = settle(this.connectionWaiters, this.connections.length);
  }

  private wait(list: { count: number; resolve: () => void }[], count: number, timeoutMs: number, what: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake server: timed out waiting for ${what()}`)), timeoutMs);
      list.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

function settle(list: { count: number; resolve: () => void }[], reached: number): { count: number; resolve: () => void }[] {
  const kept = list.filter((w) => w.count > reached);
  for (const w of list) if (w.count <= reached) w.resolve();
  return kept;
}
