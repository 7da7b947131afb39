import { BARE_TEXT_REPLY_CODES, replyCodeOf } from '../../../protocol/command-profile.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodePacket } from '../../../protocol/codec.js';
import { commandName, commandSpec } from '../../../protocol/commands.js';
import { Deframer } from '../../../protocol/deframer.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import { connectTcp } from '../../../transports/tcp.js';
import { type Transport, writeAndWaitForRoom } from '../../../transports/transport.js';

/** Options of {@link ProbeConnection.open}. */
export interface ProbeOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  /**
   * Packets kept per connection. A server that sends more than this during one check is
   * flooding it: the connection is closed and every wait fails with that reason, so a
   * probe's memory stays bounded whatever the server does. Default 100,000.
   */
  maxPackets?: number;
  /** Leading raw bytes kept for the marker check (default 4096). */
  keepRawBytes?: number;
}

/** One packet as the probe received it: its position in the connection's log and when. */
export interface Received {
  packet: Packet;
  /** 0-based position among the packets of this connection. */
  index: number;
  /** performance.now() at arrival. */
  at: number;
}

/** A wait that ended without its packet: the reason says what was awaited and for how long. */
export class ProbeTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`no ${what} within ${timeoutMs} ms`);
    this.name = 'ProbeTimeoutError';
  }
}

interface Waiter {
  what: string;
  match: (packet: Packet) => boolean;
  from: number;
  resolve: (r: Received) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A raw connection for protocol probing: writes exactly the bytes it is given (whole,
 * split, or one byte per write) and logs every packet the server sends, in order. Nothing
 * here correlates or retries: checks look at the log themselves, because judging a server
 * means seeing what it really sent, not what a client library would make of it.
 */
export class ProbeConnection {
  /** Every packet received, in arrival order. */
  readonly log: Received[] = [];
  /** The first bytes received, exactly as they came (for marker checks). */
  readonly rawStart: Uint8Array;
  /** How many bytes of `rawStart` are filled. */
  rawStartLength = 0;
  /** Set once the server (or the probe) closed the connection. */
  closed = false;
  /** Why the connection ended, when it did not end cleanly. */
  closeError: Error | undefined;
  private readonly deframer: Deframer;
  private readonly waiters = new Set<Waiter>();
  private readonly closeWaiters: (() => void)[] = [];
  private readonly maxPackets: number;

  private constructor(
    private readonly transport: Transport,
    options: Pick<ProbeOptions, 'maxPackets' | 'keepRawBytes'>,
  ) {
    this.maxPackets = options.maxPackets ?? 100_000;
    this.rawStart = new Uint8Array(options.keepRawBytes ?? 4096);
    this.deframer = new Deframer({ bareTextCodes: BARE_TEXT_REPLY_CODES });
    transport.attach({ data: (chunk) => this.data(chunk), close: (error) => this.onClose(error) });
  }

  /** Connect over TCP. Throws the transport's ConnectError (it names host:port). */
  static async open(options: ProbeOptions): Promise<ProbeConnection> {
    const transport = await connectTcp({ host: options.host, port: options.port, connectTimeoutMs: options.connectTimeoutMs ?? 2000 });
    return new ProbeConnection(transport, options);
  }

  /**
   * Probe over a connection made elsewhere (e.g. `connectGateway`, which has already written
   * its GATEWAY_HELLO): the log starts with the first packet the server sends on it.
   */
  static over(transport: Transport, options: Pick<ProbeOptions, 'maxPackets' | 'keepRawBytes'> = {}): ProbeConnection {
    return new ProbeConnection(transport, options);
  }

  /** Bytes the deframer skipped as garbage in what the server sent. */
  get skippedBytes(): number {
    return this.deframer.skippedBytes;
  }

  /** Where the next packet will land in the log: pass it as `from` to look only at later packets. */
  get mark(): number {
    return this.log.length;
  }

  /** Write bytes in one write call. */
  write(bytes: Uint8Array): Promise<void> {
    return writeAndWaitForRoom(this.transport, bytes);
  }

  /**
   * Write bytes one at a time, yielding to the event loop after each so every byte leaves
   * as its own TCP segment (the transport sets TCP_NODELAY): the server must reassemble.
   */
  async writeBytewise(bytes: Uint8Array): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      await writeAndWaitForRoom(this.transport, bytes.subarray(i, i + 1));
      await nextTurn();
    }
  }

  /**
   * The first packet at log position ≥ `from` that `match` accepts, already received or
   * still to come. Rejects with ProbeTimeoutError after `timeoutMs`, or when the
   * connection closes first.
   */
  waitFor(match: (packet: Packet) => boolean, options: { from: number; timeoutMs: number; what: string }): Promise<Received> {
    for (let i = options.from; i < this.log.length; i++) {
      const r = this.log[i] as Received;
      if (match(r.packet)) return Promise.resolve(r);
    }
    if (this.closed) return Promise.reject(this.closedError(options.what));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        what: options.what,
        match,
        from: options.from,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new ProbeTimeoutError(options.what, options.timeoutMs));
        }, options.timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Packets at log position ≥ `from` (and below `to`, default: all so far) that `match` accepts. */
  since(from: number, match: (packet: Packet) => boolean = () => true, to = this.log.length): Packet[] {
    const out: Packet[] = [];
    for (let i = from; i < to; i++) {
      const p = (this.log[i] as Received).packet;
      if (match(p)) out.push(p);
    }
    return out;
  }

  /** Resolves once the connection is closed, or with false after `timeoutMs` if it stays open. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.closeWaiters.indexOf(done);
        if (i >= 0) this.closeWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.closeWaiters.push(done);
    });
  }

  /**
   * Keep listening for `ms` (less when the connection closes first): the window in which a
   * packet that must NOT come would show up in the log.
   */
  async listen(ms: number): Promise<void> {
    await this.waitClosed(ms);
  }

  /** Close cleanly (end, then wait for the peer). */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Close at once. */
  destroy(): void {
    this.transport.destroy();
  }

  private data(chunk: Uint8Array): void {
    if (this.rawStartLength < this.rawStart.length) {
      const n = Math.min(chunk.length, this.rawStart.length - this.rawStartLength);
      this.rawStart.set(chunk.subarray(0, n), this.rawStartLength);
      this.rawStartLength += n;
    }
    for (const packet of this.deframer.push(chunk)) {
      if (this.log.length >= this.maxPackets) {
        this.transport.destroy(new Error(`the server sent more than ${this.maxPackets} packets during one check`));
        return;
      }
      const received: Received = { packet, index: this.log.length, at: performance.now() };
      this.log.push(received);
      for (const w of this.waiters) {
        if (received.index >= w.from && w.match(packet)) {
          clearTimeout(w.timer);
          this.waiters.delete(w);
          w.resolve(received);
        }
      }
    }
  }

  private closedError(what: string): Error {
    const why = this.closeError === undefined ? 'the server closed the connection' : `the connection failed: ${this.closeError.message}`;
    return new Error(`${why} before ${what} arrived`);
  }

  private onClose(error: Error | undefined): void {
    this.closed = true;
    this.closeError = error;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.closedError(w.what));
    }
    this.waiters.clear();
    for (const done of this.closeWaiters.splice(0)) done();
  }
}

/** A request with TRIGGER_CALL_BACK set on top of its own flags. */
export function withCallback(init: PacketInit): PacketInit {
  return { ...init, cmdDataBits0: ((init.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0 };
}

/** Encode a request asking for a reply. */
export function encodeWithCallback(init: PacketInit): Uint8Array {
  return encodePacket(withCallback(init));
}

/**
 * Does `packet` look like the reply to `request`? Same code, and equal in the fields the
 * command's matcher names (axis, laser index): the published protocol has nothing else.
 */
export function isReplyTo(request: PacketInit, packet: Packet): boolean {
  const code = request.code ?? 0;
  if (packet.code !== replyCodeOf(code)) return false;
  const matcher = commandSpec(code)?.matcher ?? [];
  for (const field of matcher) {
    if (packet[field] !== (request[field] ?? 0)) return false;
  }
  return true;
}

/** Name a request for reasons: `STAGE_POSITION_GET(axis 1)`. */
export function describePacket(init: PacketInit): string {
  const code = init.code ?? 0;
  const matcher = commandSpec(code)?.matcher ?? [];
  return matcher.length === 0 ? commandName(code) : `${commandName(code)}(${matcher.map((f) => `${f} ${String(init[f] ?? 0)}`).join(', ')})`;
}
