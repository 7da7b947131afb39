import { LISTEN_PORT_RULE, PORT_RULE, TIMER_RULE, validateOptions, type OptionsSchema } from '../../../protocol/options-schema.js';
import type { Transport } from '../../../transports/transport.js';
import type { CorrelationMode } from '../../client/client.js';
import type { ReconnectOptions } from '../../client/reconnect.js';
import { ArgumentError } from '../../errors.js';
import type { GatewayHttpListen } from './http/serve.js';
import type { GatewayTlsOptions } from './tls.js';
import { checkReconnectDelays, RECONNECT_OPTIONS_SCHEMA } from '../../client/options-schema.js';
import { tokenBytes } from './access.js';
import { isLoopbackHost } from './loopback.js';

/** Options of {@link FlamingoGateway.start}; every range is checked at the door ({@link GATEWAY_OPTIONS_SCHEMA}). */
export interface GatewayOptions {
  /** The instrument's (or simulator's) address; default 127.0.0.1. Range: `non-empty text`. */
  upstreamHost?: string;
  /** The instrument's command port (required). Range: `integer 1 … 65535`. */
  upstreamPort: number;
  /** The instrument's live-image port (default: upstreamPort + 1). Range: `integer 1 … 65535`. */
  upstreamLivePort?: number;
  /**
   * A transport factory for the instrument connection instead of TCP (tests: memory pairs).
   * Called again for every reconnect. Range: `a function returning a Transport`.
   */
  upstreamTransport?: () => Transport | Promise<Transport>;
  /** Upstream correlation (default 'auto': sequenced if the instrument echoes, else lease). Range: `'auto' | 'sequenced' | 'lease'`. */
  mode?: 'auto' | CorrelationMode;
  /** Address to listen on (default 127.0.0.1). Any non-loopback address requires `token`. Range: `non-empty text`. */
  host?: string;
  /** Port to listen on (default 53800; 0 picks a free one). Range: `integer 0 … 65535`. */
  port?: number;
  /** Live-image relay port (default: port + 1, any free port when port is 0); `false`: no relay. Range: `integer 0 … 65535 or false`. */
  livePort?: number | false;
  /** A second port whose clients get events and query replies only (see READ_ONLY_COMMANDS). Range: `integer 0 … 65535`. */
  readOnlyPort?: number;
  /** Access token every client must send first in GATEWAY_HELLO (spec/protocol.md). Range: `text of 1 to 72 UTF-8 bytes without NUL`. */
  token?: string;
  /** Serve every port over TLS (optionally requiring client certificates). Without it, a token crosses the network in clear text. Range: `object`. */
  tls?: GatewayTlsOptions;
  /** Reply timeout of each forwarded request (default 5000 ms). Range: `1 … 2147483647 ms`. */
  requestTimeoutMs?: number;
  /** How long a forwarded request may wait for its turn, e.g. behind a lease (default 30000 ms). Range: `1 … 2147483647 ms`. */
  queueTimeoutMs?: number;
  /** Connect timeout to the instrument (default 2000 ms). Range: `1 … 2147483647 ms`. */
  connectTimeoutMs?: number;
  /** Reconnect backoff to the instrument (requests made while it is down fail at once). Range: `object`. */
  reconnect?: Omit<ReconnectOptions, 'whileDown'>;
  /** Unaccepted bytes one client may accumulate before it is cut off as a slow reader (default 1 MiB). Range: `integer 1 … 9007199254740991 bytes`. */
  maxOutgoingBytes?: number;
  /** Requests one client may have waiting or in flight; more get a failure reply (default 256). Range: `integer 1 … 9007199254740991`. */
  maxPendingPerSession?: number;
  /** Largest trailing payload a client may send (default 16 MiB; 0 refuses every payload); a larger claim closes it. Range: `integer 0 … 4294967295 bytes`. */
  maxPayloadBytes?: number;
  /** How long a client has to send GATEWAY_HELLO when a token is required (default 5000 ms). Range: `1 … 2147483647 ms`. */
  helloTimeoutMs?: number;
  /** Live frames one viewer may have waiting before older ones are dropped (default 2). Range: `integer 1 … 9007199254740991`. */
  maxQueuedFrames?: number;
  /**
   * Serve /health, /metrics and the dashboard over HTTP (off by default). The host defaults
   * to 127.0.0.1; any other host requires `token`, which every HTTP request then carries.
   * Range: `object`.
   */
  http?: GatewayHttpListen;
}

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
