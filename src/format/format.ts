/**
 * Text for people: decoded packets, tables, close-match suggestions, durations and errors
 * a person can act on. Shared by the CLI and the conformance report. Pure: nothing here
 * touches process, sockets or the clock, and nothing loads the CLI's libraries.
 */
import { dataText } from '../../protocol/codec.js';
import { commandName, commandSpec } from '../../protocol/commands.js';
import { STATUS_FAILED, STATUS_OK } from '../../protocol/constants.js';
import { Flags } from '../../protocol/flags.js';
import { headerFields, type Packet } from '../../protocol/packet.js';
import { decodeTextPayload } from '../../protocol/text-format.js';

/** Levenshtein distance (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}

/**
 * Candidates close to `input`, best first: names containing it (or contained in it), then
 * those within an edit distance of about a third of its length and at most one more
 * than the closest. Case and `-`/`_` are ignored, so `stage-position-get` finds
 * STAGE_POSITION_GET.
 */
export function closeMatches(input: string, candidates: readonly string[], max = 5): string[] {
  const norm = (s: string) => s.toUpperCase().replace(/[-\s]/g, '_');
  const wanted = norm(input);
  if (wanted === '') return [];
  const limit = Math.max(2, Math.ceil(wanted.length / 3));
  const scored: { name: string; score: number }[] = [];
  for (const name of candidates) {
    const n = norm(name);
    const distance = editDistance(wanted, n);
    if (n.includes(wanted) || (wanted.includes(n) && n.length >= 4)) scored.push({ name, score: distance - 100 });
    else if (distance <= limit) scored.push({ name, score: distance });
  }
  scored.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
  // Only near-ties of the best typo match: one obvious answer should not drown in maybes.
  const best = scored[0]?.score ?? 0;
  return scored
    .filter((s) => (best < 0 ? s.score < 0 : s.score <= best + 1))
    .slice(0, max)
    .map((s) => s.name);
}

/** `0x0000A007`. */
function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** `0xA007`. */
export function hexCode(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Flag names set in cmdDataBits0, e.g. `TRIGGER_CALL_BACK|SAVE_TO_DISK`; unknown bits in hex. */
export function flagNames(bits: number): string {
  const names: string[] = [];
  let rest = bits >>> 0;
  for (const [name, bit] of Object.entries(Flags)) {
    if ((rest & bit) >>> 0 === bit) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push(hex32(rest));
  return names.join('|');
}

function statusWord(status: number): string {
  if (status === STATUS_OK) return 'ok';
  if (status === STATUS_FAILED) return 'failed';
  return 'unknown status';
}

/** Printable text: control characters (other than tab) shown as `\n`, `\r` or `\xNN`. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** The first `max` characters of a payload as one printable line. */
export function payloadPreview(payload: Uint8Array, max = 120): string {
  const text = printable(decodeTextPayload(payload.length > max * 4 ? payload.subarray(0, max * 4) : payload));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** What the command table says a field of this packet means, if anything. */
function meaning(packet: Packet, field: string): string | undefined {
  return commandSpec(packet.code)?.replyFields[field];
}

/**
 * Every field of a packet, one per line, with the command table's meaning beside the
 * fields it documents: what `flamingo send` prints for a reply.
 */
export function formatPacket(packet: Packet, indent = '  '): string {
  const rows: [string, string][] = [
    ['code', `${hexCode(packet.code)} ${commandName(packet.code)}`],
    ['status', `${packet.status} (${statusWord(packet.status)})`],
    ['hardwareId', String(packet.hardwareId)],
    ['subsystemId', String(packet.subsystemId)],
    ['clientId', String(packet.clientId)],
    ['int32Data0', String(packet.int32Data0)],
    ['int32Data1', String(packet.int32Data1)],
    ['int32Data2', String(packet.int32Data2)],
    ['cmdDataBits0', packet.cmdDataBits0 === 0 ? '0' : `${hex32(packet.cmdDataBits0)} ${flagNames(packet.cmdDataBits0)}`],
    ['value', String(packet.value)],
    ['addDataBytes', String(packet.addDataBytes)],
    ['data', JSON.stringify(dataText(packet))],
  ];
  if (packet.payload !== undefined) rows.push(['payload', `${packet.payload.length} bytes: ${payloadPreview(packet.payload)}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows
    .map(([key, value]) => {
      const note = meaning(packet, key);
      return `${indent}${key.padEnd(width)}  ${value}${note !== undefined && key !== 'status' ? `  — ${note}` : ''}`;
    })
    .join('\n');
}

/** A short label for a field from the command table, e.g. `axis` from "axis: 1 X, 2 Y, …". */
function label(packet: Packet, field: string): string | undefined {
  const text = meaning(packet, field);
  if (text === undefined) return undefined;
  const short = text.split(/[:(,"]/)[0]?.trim() ?? '';
  return short === '' ? undefined : short;
}

/** Options of {@link packetLine}. */
export interface PacketLineOptions {
  /** Leave the status out (a request's status means nothing). */
  request?: boolean;
  /** Add the command table's short meaning after each documented field: `int32Data0=1 [axis]`. */
  labels?: boolean;
}

/**
 * One line for a packet: its name and the fields that are set, e.g.
 * `STAGE_MOTION_STOPPED status=1 int32Data0=1 [axis] value=7.55 [final position]` (with
 * labels): what `flamingo watch` prints.
 */
export function packetLine(packet: Packet, options: PacketLineOptions = {}): string {
  const parts = [commandName(packet.code)];
  const add = (field: string, text: string) => {
    const l = options.labels === true ? label(packet, field) : undefined;
    parts.push(l === undefined ? text : `${text} [${l}]`);
  };
  // A reply's or event's status always means something, even 0.
  if (options.request !== true) parts.push(`status=${packet.status}`);
  const numeric = ['hardwareId', 'subsystemId', 'clientId', 'int32Data0', 'int32Data1', 'int32Data2'] as const;
  for (const f of numeric) if (packet[f] !== 0) add(f, `${f}=${packet[f]}`);
  if (packet.value !== 0) add('value', `value=${packet.value}`);
  const text = dataText(packet);
  if (text !== '') add('data', `data=${JSON.stringify(text)}`);
  if (packet.payload !== undefined) parts.push(`payload=${packet.payload.length}B ${JSON.stringify(payloadPreview(packet.payload, 60))}`);
  if (packet.cmdDataBits0 !== 0) parts.push(`flags=${flagNames(packet.cmdDataBits0)}`);
  return parts.join(' ');
}

/** A packet as a plain JSON object (data as text, payload as length plus text). */
export function packetJson(packet: Packet): Record<string, unknown> {
  return {
    name: commandName(packet.code),
    ...headerFields(packet),
    data: dataText(packet),
    ...(packet.payload !== undefined && { payloadBytes: packet.payload.length, payloadText: decodeTextPayload(packet.payload) }),
  };
}

/** Columns padded to their widest cell; the last column is left unpadded. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Milliseconds for people: `840 ms`, `3.2 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Wall-clock time of day with milliseconds, `14:03:07.251` (local time). */
export function timeOfDay(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

/**
 * The message for a failed connect: the error names host:port; this adds what to try.
 * `error` is the transport's ConnectError (or anything with a message).
 */
export function connectAdvice(error: unknown, host: string, port: number): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${message}. Is the microscope, or a simulator, listening on ${host}:${port}? Start one with \`flamingo sim --port ${port}\`.`;
}
