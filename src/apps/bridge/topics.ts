import { dataText, payloadText } from '../../../protocol/codec.js';
import { commandName, commandSpec, parseCommand, Command } from '../../../protocol/commands.js';
import { DATA_SIZE } from '../../../protocol/constants.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import { readOnlyAllows } from '../gateway/access.js';

/**
 * Topic layout and request rules of the MQTT bridge (docs/deployment.md, README §MQTT
 * bridge), in the convention of zigbee2mqtt-style bridges. Pure: no broker here.
 */
export interface BridgeTopics {
  /** Retained `online` / `offline` (the offline one is the last will). */
  availability: string;
  /** Retained JSON snapshot of the client's state. */
  state: string;
  /** One JSON message per event: `<base>/events/<COMMAND_NAME>`. */
  event(name: string): string;
  /** Where requests are subscribed: `<base>/request/+`. */
  requestFilter: string;
  /** The command name of a request topic, or undefined for another topic. */
  requestName(topic: string): string | undefined;
}

/** A topic level must not hold MQTT wildcards or separators. */
function checkTopicLevel(text: string, what: string): string {
  if (text === '' || /[+#/\u0000]/.test(text)) throw new RangeError(`${what} must be one non-empty topic level without + # / (got ${JSON.stringify(text)})`);
  return text;
}

/** The topics of the bridge named `name` under `prefix` (default `flamingo`). */
export function bridgeTopics(name: string, prefix = 'flamingo'): BridgeTopics {
  const base = `${checkTopicLevel(prefix, 'prefix')}/${checkTopicLevel(name, 'name')}`;
  const requestPrefix = `${base}/request/`;
  return {
    availability: `${base}/availability`,
    state: `${base}/state`,
    event: (n) => `${base}/events/${n}`,
    requestFilter: `${requestPrefix}+`,
    requestName: (topic) => (topic.startsWith(requestPrefix) ? topic.slice(requestPrefix.length) : undefined),
  };
}

/** Which commands MQTT may send. Read-only (nothing) by default. */
export interface BridgePolicy {
  /** Allow the queries the gateway's read-only port allows (READ_ONLY_COMMANDS). */
  allowRead: boolean;
  /** Further codes allowed (actions). */
  allow: ReadonlySet<number>;
}

/** A checked request, ready to send. */
export interface BridgeRequest {
  code: number;
  name: string;
  fields: PacketInit;
  /** The instrument answers it (else it is sent and not waited for). */
  replies: boolean;
  timeoutMs: number | undefined;
}

/**
 * Where to answer when the message itself says so: MQTT 3.1.1 has no response-topic
 * property, so (our choice) a request may carry `responseTopic` and `correlationData`
 * (text) in its JSON body. Undefined when the body is not a JSON object.
 */
export function replyAddressInBody(payload: Uint8Array): { responseTopic?: string; correlationData?: string } {
  try {
    const body: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
    if (typeof body !== 'object' || body === null) return {};
    const b = body as Record<string, unknown>;
    return {
      ...(typeof b.responseTopic === 'string' && b.responseTopic !== '' && !/[+#]/.test(b.responseTopic) ? { responseTopic: b.responseTopic } : {}),
      ...(typeof b.correlationData === 'string' ? { correlationData: b.correlationData } : {}),
    };
  } catch {
    return {};
  }
}

const INT_FIELDS = ['int32Data0', 'int32Data1', 'int32Data2'] as const;
const KNOWN = new Set<string>([...INT_FIELDS, 'value', 'data', 'timeoutMs', 'responseTopic', 'correlationData']);

/**
 * Parse and check one request message: JSON object (an empty message means `{}`) with
 * optional int32Data0..2 (int32), value (finite number), data (text of at most 72 UTF-8
 * bytes), timeoutMs (1..60000). Returns the error in words instead of throwing; nothing
 * is sent for an error.
 */
export function parseBridgeRequest(
  name: string,
  payload: Uint8Array,
  policy: BridgePolicy,
): { ok: true; request: BridgeRequest } | { ok: false; error: string } {
  const code = /^[A-Z0-9_]+$/.test(name) ? parseCommand(name) : undefined;
  if (code === undefined || !Object.hasOwn(Command, name)) return { ok: false, error: `unknown command ${JSON.stringify(name)}` };
  if (!(policy.allow.has(code) || (policy.allowRead && readOnlyAllows(code)))) {
    return {
      ok: false,
      error: `${name} is not allowed on this bridge${readOnlyAllows(code) ? ' (start it with --allow-read)' : ` (start it with --allow ${name})`}`,
    };
  }
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8').trim();
  let body: unknown = {};
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, error: 'the request is not JSON' };
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: 'the request must be a JSON object' };
  const b = body as Record<string, unknown>;
  const unknownKey = Object.keys(b).find((k) => !KNOWN.has(k));
  if (unknownKey !== undefined) return { ok: false, error: `unknown field ${JSON.stringify(unknownKey)} (allowed: ${[...KNOWN].join(', ')})` };
  const fields: PacketInit = {};
  for (const f of INT_FIELDS) {
    const v = b[f];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < -0x80000000 || (v as number) > 0x7fffffff)
      return { ok: false, error: `${f} must be an integer from -2147483648 to 2147483647` };
    fields[f] = v as number;
  }
  if (b.value !== undefined) {
    if (typeof b.value !== 'number' || !Number.isFinite(b.value)) return { ok: false, error: 'value must be a finite number' };
    fields.value = b.value;
  }
  if (b.data !== undefined) {
    if (typeof b.data !== 'string' || Buffer.byteLength(b.data) > DATA_SIZE)
      return { ok: false, error: `data must be text of at most ${DATA_SIZE} UTF-8 bytes` };
    fields.data = b.data;
  }
  let timeoutMs: number | undefined;
  if (b.timeoutMs !== undefined) {
    if (!Number.isInteger(b.timeoutMs) || (b.timeoutMs as number) < 1 || (b.timeoutMs as number) > 60_000)
      return { ok: false, error: 'timeoutMs must be an integer from 1 to 60000' };
    timeoutMs = b.timeoutMs as number;
  }
  return { ok: true, request: { code, name, fields, replies: commandSpec(code)?.replies ?? true, timeoutMs } };
}

/** Parse `--allow CODE,…` (names or numbers). */
export function parseAllowList(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const code = parseCommand(part);
    if (code === undefined) throw new RangeError(`unknown command ${JSON.stringify(part)}`);
    out.add(code);
  }
  return out;
}

/** A packet as the JSON of an event or reply message (value: null when not finite). */
export function packetMessage(packet: Packet): Record<string, unknown> {
  return {
    name: commandName(packet.code),
    code: packet.code,
    status: packet.status,
    int32Data0: packet.int32Data0,
    int32Data1: packet.int32Data1,
    int32Data2: packet.int32Data2,
    cmdDataBits0: packet.cmdDataBits0,
    value: Number.isFinite(packet.value) ? packet.value : null,
    data: dataText(packet),
    addDataBytes: packet.addDataBytes,
    ...(packet.payload !== undefined ? { payloadText: payloadText(packet) } : {}),
  };
}
