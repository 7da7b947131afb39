import { dataText, decodePacket } from '../../../protocol/codec.js';
import { commandName } from '../../../protocol/commands.js';
import { PACKET_SIZE } from '../../../protocol/constants.js';
import { headerFields, type Packet, type PacketHeaderFields } from '../../../protocol/packet.js';

/**
 * The JSONL capture format, version 1 (spec/capture.md): one header line, then one record
 * per line. Pure: no I/O here; the proxy, `watch --record` and the replay tools share it.
 */
export const CAPTURE_FORMAT = 'flamingo-capture';
/** The only version this code writes and reads. */
export const CAPTURE_VERSION = 1;

/** client → server, or server → client. */
export type Direction = 'c2s' | 's2c';

/** First line of every capture. */
export interface CaptureHeader {
  type: 'header';
  format: typeof CAPTURE_FORMAT;
  version: number;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** The same instant in microseconds since the Unix epoch (record times count from it). */
  startedAtUs: number;
  /** What recorded it, e.g. `flamingo capture 0.1.0`. */
  source: string;
  /** The server the traffic went to (`host:port`). */
  upstream: string;
}

/** When and on which connection a capture record happened (every record has both). */
export interface CaptureRecordStamp {
  /** Milliseconds since the capture started (microsecond resolution). */
  t: number;
  /** Connection number, 1, 2, … in the order they were accepted. */
  conn: number;
}

/** The decoded header fields of a packet (informational: `hex` is authoritative). */
export interface PacketFields extends Omit<PacketHeaderFields, 'value'> {
  /** A finite number, or `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON has no such numbers). */
  value: number | string;
  /** The data field as text up to its first NUL. */
  data: string;
}

export type CaptureRecord =
  | (CaptureRecordStamp & { type: 'open'; client: string; server: string })
  | (CaptureRecordStamp & { type: 'packet'; dir: Direction; name: string; hex: string; fields: PacketFields })
  | (CaptureRecordStamp & { type: 'garbage'; dir: Direction; hex: string; incomplete?: boolean })
  | (CaptureRecordStamp & { type: 'resync'; dir: Direction; skippedBytes: number })
  | (CaptureRecordStamp & { type: 'frameError'; dir: Direction; message: string })
  | (CaptureRecordStamp & { type: 'close'; by: 'client' | 'server' | 'proxy'; error?: string })
  | { type: 'end'; t: number; reason: string };

/** A packet record as read back, with its bytes and decoded packet. */
export type ReadPacketRecord = Extract<CaptureRecord, { type: 'packet' }> & { bytes: Uint8Array; packet: Packet };
/** A record as read back. */
export type ReadRecord = Exclude<CaptureRecord, { type: 'packet' }> | ReadPacketRecord;

/** A capture file that cannot be read: `line` is 1-based. */
export class CaptureFormatError extends Error {
  readonly line: number;
  constructor(line: number, reason: string, source = 'capture') {
    super(`${source} line ${line}: ${reason}`);
    this.name = 'CaptureFormatError';
    this.line = line;
  }
}

/** A header for a capture starting now (or at `nowMs`). */
export function captureHeader(source: string, upstream: string, nowMs = Date.now()): CaptureHeader {
  return {
    type: 'header',
    format: CAPTURE_FORMAT,
    version: CAPTURE_VERSION,
    startedAt: new Date(nowMs).toISOString(),
    startedAtUs: Math.round(nowMs * 1000),
    source,
    upstream,
  };
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** The record of one packet whose wire bytes are `bytes` (header plus payload). */
export function packetRecord(t: number, conn: number, dir: Direction, packet: Packet, bytes: Uint8Array): CaptureRecord {
  // `value` keeps its place among the fields (a key set again stays where it was first set).
  const fields: PacketFields = {
    ...headerFields(packet),
    value: Number.isFinite(packet.value) ? packet.value : String(packet.value),
    data: dataText(packet),
  };
  return { type: 'packet', t, conn, dir, name: commandName(packet.code), hex: toHex(bytes), fields };
}

/** One JSONL line (with its newline). */
export function encodeLine(record: CaptureHeader | CaptureRecord): string {
  return `${JSON.stringify(record)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const HEX = /^(?:[0-9a-f]{2})*$/;

/** Parse and check the first line. Refuses another format or version in plain words. */
export function parseHeaderLine(line: string, source = 'capture'): CaptureHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CaptureFormatError(1, 'not JSON; a capture starts with its header line', source);
  }
  if (!isObject(value) || value.type !== 'header' || value.format !== CAPTURE_FORMAT) {
    throw new CaptureFormatError(1, `not a ${CAPTURE_FORMAT} header`, source);
  }
  if (value.version !== CAPTURE_VERSION) {
    throw new CaptureFormatError(
      1,
      `capture format version ${JSON.stringify(value.version)} is not supported; this flamingo reads version ${CAPTURE_VERSION} only`,
      source,
    );
  }
  if (typeof value.startedAtUs !== 'number' || typeof value.startedAt !== 'string')
    throw new CaptureFormatError(1, 'header lacks startedAt/startedAtUs', source);
  return value as unknown as CaptureHeader;
}

/** Parse one record line (`lineNumber` is 1-based, for the error). Checks every field it uses. */
export function parseRecordLine(line: string, lineNumber: number, source = 'capture'): ReadRecord {
  const fail = (reason: string): never => {
    throw new CaptureFormatError(lineNumber, reason, source);
  };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail('not JSON (a truncated or corrupt line)');
  }
  if (!isObject(value)) return fail('not a JSON object');
  if (typeof value.t !== 'number' || !Number.isFinite(value.t) || value.t < 0) fail('"t" must be a number ≥ 0');
  if (value.type === 'end') return value as ReadRecord;
  if (!isCount(value.conn) || value.conn === 0) fail('"conn" must be a positive integer');
  const dirOk = value.dir === 'c2s' || value.dir === 's2c';
  switch (value.type) {
    case 'open':
    case 'close':
      return value as ReadRecord;
    case 'resync':
      if (!dirOk || !isCount(value.skippedBytes)) fail('resync needs "dir" and "skippedBytes"');
      return value as ReadRecord;
    case 'frameError':
      if (!dirOk || typeof value.message !== 'string') fail('frameError needs "dir" and "message"');
      return value as ReadRecord;
    case 'garbage':
      if (!dirOk || typeof value.hex !== 'string' || !HEX.test(value.hex)) fail('garbage needs "dir" and lowercase "hex"');
      return value as ReadRecord;
    case 'packet':
      return readPacket(value, dirOk, fail);
    default:
      return fail(`unknown record type ${JSON.stringify(value.type)}`);
  }
}

function readPacket(value: Record<string, unknown>, dirOk: boolean, fail: (reason: string) => never): ReadPacketRecord {
  if (!dirOk) fail('packet needs "dir" c2s or s2c');
  if (typeof value.hex !== 'string' || !HEX.test(value.hex)) fail('packet "hex" must be lowercase hex');
  const bytes = new Uint8Array(Buffer.from(value.hex as string, 'hex'));
  if (bytes.length < PACKET_SIZE) fail(`packet has ${bytes.length} bytes, fewer than a ${PACKET_SIZE}-byte header`);
  let packet: Packet;
  try {
    packet = decodePacket(bytes);
  } catch (error) {
    return fail(`packet bytes do not decode: ${(error as Error).message}`);
  }
  if (bytes.length !== PACKET_SIZE + packet.addDataBytes)
    fail(`packet has ${bytes.length} bytes but its header announces ${PACKET_SIZE} + ${packet.addDataBytes}`);
  if (packet.addDataBytes > 0) packet.payload = bytes.slice(PACKET_SIZE);
  if (isObject(value.fields) && value.fields.code !== packet.code) fail(`"fields.code" ${String(value.fields.code)} disagrees with the bytes (${packet.code})`);
  return { ...(value as unknown as Extract<CaptureRecord, { type: 'packet' }>), bytes, packet };
}

/** A whole capture read from text (tests and small files; the CLI streams lines instead). */
export function parseCapture(text: string, source = 'capture'): { header: CaptureHeader; records: ReadRecord[] } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new CaptureFormatError(1, 'empty file; a capture starts with its header line', source);
  const header = parseHeaderLine(lines[0] as string, source);
  const records: ReadRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    records.push(parseRecordLine(line, i + 1, source));
  }
  return { header, records };
}
