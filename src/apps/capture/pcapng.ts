import net from 'node:net';
import type { Direction } from './capture-format.js';

/**
 * pcapng encoding of proxied TCP traffic (spec/capture.md §pcapng). Pure: returns blocks as
 * bytes. The proxy sees byte streams, not IP packets, so each chunk becomes one synthetic
 * IPv4/TCP segment with consistent sequence numbers (after a synthetic handshake), which is
 * what lets Wireshark and tshark reassemble the streams and run the dissector.
 */

/** LINKTYPE_RAW: each packet starts with its IPv4 header. */
export const LINKTYPE_RAW = 101;
/** The largest TCP payload put into one segment (IPv4 total length must stay ≤ 65535). */
export const MAX_SEGMENT = 65_000;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

function block(type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  out.set(body, 8);
  view.setUint32(total - 4, total, true);
  return out;
}

/** Section Header Block and one Interface Description Block (raw IPv4, microsecond stamps). */
export function pcapngPreamble(): Uint8Array {
  const shb = new Uint8Array(16);
  const s = new DataView(shb.buffer);
  s.setUint32(0, 0x1a2b3c4d, true); // byte-order magic
  s.setUint16(4, 1, true);
  s.setUint16(6, 0, true);
  s.setBigInt64(8, -1n, true); // section length not known
  const idb = new Uint8Array(8);
  const i = new DataView(idb.buffer);
  i.setUint16(0, LINKTYPE_RAW, true);
  i.setUint32(4, 0, true); // no snap length limit
  return concat([block(0x0a0d0d0a, shb), block(1, idb)]);
}

/** One Enhanced Packet Block holding `packet` captured at `timeUs` (µs since the epoch). */
export function enhancedPacketBlock(packet: Uint8Array, timeUs: number): Uint8Array {
  const body = new Uint8Array(20 + packet.length);
  const view = new DataView(body.buffer);
  const ts = BigInt(Math.max(0, Math.round(timeUs)));
  view.setUint32(0, 0, true);
  view.setUint32(4, Number(ts >> 32n), true);
  view.setUint32(8, Number(ts & 0xffffffffn), true);
  view.setUint32(12, packet.length, true);
  view.setUint32(16, packet.length, true);
  body.set(packet, 20);
  return block(6, body);
}

function checksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if ((end - start) % 2 === 1) sum += bytes[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** An IPv4 endpoint of a synthetic segment. */
export interface Endpoint {
  ip: Uint8Array;
  port: number;
}

/** The endpoint for `host:port`; a host that is not IPv4 text gets `fallback` (e.g. 10.0.0.1). */
export function endpoint(host: string, port: number, fallback: string): Endpoint {
  const text = host.startsWith('::ffff:') ? host.slice(7) : host;
  const ip = net.isIPv4(text) ? text : fallback;
  return { ip: Uint8Array.from(ip.split('.').map(Number)), port };
}

/** One IPv4 packet carrying one TCP segment, both checksums filled in. */
export function tcpSegment(from: Endpoint, to: Endpoint, seq: number, ack: number, flags: number, payload: Uint8Array, id: number): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, 0x45);
  v.setUint16(2, out.length);
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, 0x4000); // don't fragment
  v.setUint8(8, 64);
  v.setUint8(9, 6);
  out.set(from.ip, 12);
  out.set(to.ip, 16);
  v.setUint16(10, ~checksum(out, 0, 20) & 0xffff);
  v.setUint16(20, from.port);
  v.setUint16(22, to.port);
  v.setUint32(24, seq >>> 0);
  v.setUint32(28, ack >>> 0);
  v.setUint8(32, 5 << 4);
  v.setUint8(33, flags);
  v.setUint16(34, 65535);
  out.set(payload, 40);
  const tcpLength = 20 + payload.length;
  const pseudo = checksum(out, 12, 20) + 6 + tcpLength;
  v.setUint16(36, ~checksum(out, 20, out.length, pseudo) & 0xffff);
  return out;
}

/**
 * The synthetic TCP life of one proxied connection: handshake, data segments in either
 * direction with running sequence numbers, and a FIN from each side.
 */
export class SyntheticTcpStream {
  private clientSeq = 1000;
  private serverSeq = 500_000;
  private id = 1;

  constructor(
    private readonly client: Endpoint,
    private readonly server: Endpoint,
  ) {}

  /** SYN, SYN-ACK, ACK as raw IPv4 packets. */
  open(): Uint8Array[] {
    const none = new Uint8Array(0);
    const out = [
      tcpSegment(this.client, this.server, this.clientSeq, 0, TCP_SYN, none, this.id++),
      tcpSegment(this.server, this.client, this.serverSeq, this.clientSeq + 1, TCP_SYN | TCP_ACK, none, this.id++),
    ];
    this.clientSeq++;
    this.serverSeq++;
    out.push(tcpSegment(this.client, this.server, this.clientSeq, this.serverSeq, TCP_ACK, none, this.id++));
    return out;
  }

  /** `bytes` sent in direction `dir`, cut into segments of at most MAX_SEGMENT bytes. */
  data(dir: Direction, bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += MAX_SEGMENT) {
      const part = bytes.subarray(at, Math.min(bytes.length, at + MAX_SEGMENT));
      if (dir === 'c2s') {
        out.push(tcpSegment(this.client, this.server, this.clientSeq, this.serverSeq, TCP_PSH | TCP_ACK, part, this.id++));
        this.clientSeq = (this.clientSeq + part.length) >>> 0;
      } else {
        out.push(tcpSegment(this.server, this.client, this.serverSeq, this.clientSeq, TCP_PSH | TCP_ACK, part, this.id++));
        this.serverSeq = (this.serverSeq + part.length) >>> 0;
      }
    }
    return out;
  }

  /** FIN from each side and the last ACK. */
  close(): Uint8Array[] {
    const none = new Uint8Array(0);
    const out = [
      tcpSegment(this.client, this.server, this.clientSeq, this.serverSeq, TCP_FIN | TCP_ACK, none, this.id++),
      tcpSegment(this.server, this.client, this.serverSeq, this.clientSeq + 1, TCP_FIN | TCP_ACK, none, this.id++),
    ];
    this.clientSeq++;
    this.serverSeq++;
    out.push(tcpSegment(this.client, this.server, this.clientSeq, this.serverSeq, TCP_ACK, none, this.id++));
    return out;
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
