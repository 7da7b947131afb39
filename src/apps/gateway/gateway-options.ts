import { LISTEN_PORT_RULE, PORT_RULE, TIMER_RULE, validateOptions, type OptionsSchema } from '../../../protocol/options-schema.js';
import { ArgumentError } from '../../errors.js';
import { checkReconnectDelays, RECONNECT_OPTIONS_SCHEMA } from '../../client/options-schema.js';
import { tokenBytes } from './access.js';
import { isLoopbackHost } from './loopback.js';

/** Where the gateway's options are checked (ArgumentError messages start with it). */
const WHERE = 'FlamingoGateway.start';

/** A count or byte limit with no ceiling of its own. */
const POSITIVE_COUNT = { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } as const;

function isToken(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    tokenBytes(value);
    return true;
  } catch {
    return false;
  }
}

/** A TLS certificate or key. */
const PEM = {
  kind: 'custom',
  what: 'PEM text or bytes, not empty',
  accepts: (v: unknown) => (typeof v === 'string' || v instanceof Uint8Array) && v.length > 0,
} as const;

/** Options of `tls` (GatewayTlsOptions). */
const TLS_OPTIONS_SCHEMA = {
  cert: { ...PEM, required: true },
  key: { ...PEM, required: true },
  ca: PEM,
} as const satisfies OptionsSchema;

/** Options of `http` (GatewayHttpListen: /health, /metrics, dashboard; spec/observability.md). */
const HTTP_OPTIONS_SCHEMA = {
  host: { kind: 'string', nonEmpty: true },
  port: { ...LISTEN_PORT_RULE, required: true },
  updateIntervalMs: TIMER_RULE,
  maxBufferedBytes: { ...POSITIVE_COUNT, unit: 'bytes' },
} as const satisfies OptionsSchema;

/** Options of `reconnect`: the client's, without `whileDown` (the gateway fails requests made while the instrument is down). */
const GATEWAY_RECONNECT_OPTIONS_SCHEMA = {
  initialDelayMs: RECONNECT_OPTIONS_SCHEMA.initialDelayMs,
  maxDelayMs: RECONNECT_OPTIONS_SCHEMA.maxDelayMs,
  maxAttempts: RECONNECT_OPTIONS_SCHEMA.maxAttempts,
} as const satisfies OptionsSchema;

/**
 * Every option of `FlamingoGateway.start` and its range (spec/options.md; the gateway's
 * options in spec/protocol.md), in the schema every public entry point uses
 * (protocol/options-schema.ts).
 */
export const GATEWAY_OPTIONS_SCHEMA = {
  upstreamHost: { kind: 'string', nonEmpty: true },
  upstreamPort: { ...PORT_RULE, required: true },
  upstreamLivePort: PORT_RULE,
  upstreamTransport: { kind: 'typeof', types: ['function'], what: 'a function returning a Transport' },
  mode: { kind: 'enum', values: ['auto', 'sequenced', 'lease'] },
  host: { kind: 'string', nonEmpty: true },
  port: LISTEN_PORT_RULE,
  livePort: { ...LISTEN_PORT_RULE, orFalse: true },
  readOnlyPort: LISTEN_PORT_RULE,
  token: { kind: 'custom', what: 'text of 1 to 72 UTF-8 bytes without NUL', accepts: isToken },
  requestTimeoutMs: TIMER_RULE,
  queueTimeoutMs: TIMER_RULE,
  connectTimeoutMs: TIMER_RULE,
  reconnect: { kind: 'object', schema: GATEWAY_RECONNECT_OPTIONS_SCHEMA },
  tls: { kind: 'object', schema: TLS_OPTIONS_SCHEMA },
  maxOutgoingBytes: { ...POSITIVE_COUNT, unit: 'bytes' },
  maxPendingPerSession: POSITIVE_COUNT,
  // addDataBytes is a u32; 0 refuses every payload.
  maxPayloadBytes: { kind: 'integer', min: 0, max: 0xffffffff, unit: 'bytes' },
  helloTimeoutMs: TIMER_RULE,
  maxQueuedFrames: POSITIVE_COUNT,
  http: { kind: 'object', schema: HTTP_OPTIONS_SCHEMA },
} as const satisfies OptionsSchema;

/** Validate `FlamingoGateway.start`'s options at the door, before any socket opens; throws ArgumentError. */
export function checkGatewayOptions(options: unknown): void {
  // Required options make `undefined` an error too ("upstreamPort is required").
  validateOptions(GATEWAY_OPTIONS_SCHEMA, options, WHERE);
  checkReconnectDelays(options, WHERE);
  // The HTTP side follows the command port's rule: off loopback only with a token.
  const { http, token } = options as { http?: { host?: string }; token?: string };
  if (http !== undefined && token === undefined && !isLoopbackHost(http.host ?? '127.0.0.1')) {
    throw new ArgumentError(`serving HTTP on ${http.host} (not loopback) requires a token`);
  }
}
