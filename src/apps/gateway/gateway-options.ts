import { ArgumentError } from '../../errors.js';
import { tokenBytes } from './access.js';
import { isLoopbackHost } from './loopback.js';

/** Longest delay a Node.js timer honours; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What one option may hold. The gateway's rules are data, not code, so that they can move
 * into a shared options schema (one per public entry point) without changing meaning.
 */
export type OptionRule =
  /** A timer: an integer number of milliseconds from 1 to 2³¹−1. */
  | { kind: 'timer' }
  /** A byte or item count: an integer from `min` to `max` (or Infinity, when `orInfinity`). */
  | { kind: 'integer'; min: number; max: number; orInfinity?: boolean }
  /** A TCP port: an integer from `min` (0 = any free port) to 65535; `false` too when `orFalse`. */
  | { kind: 'port'; min: 0 | 1; orFalse?: boolean }
  /** A non-empty string. */
  | { kind: 'text' }
  /** One of the listed strings. */
  | { kind: 'oneOf'; values: readonly string[] }
  /** The gateway token: 1..72 UTF-8 bytes without NUL. */
  | { kind: 'token' }
  /** A function (a transport factory). */
  | { kind: 'function' }
  /** PEM text or bytes, not empty (TLS certificates and keys). */
  | { kind: 'pem' }
  /** An object whose own options follow `rules`. */
  | { kind: 'object'; rules: OptionRules };

/** Rules of an options object: every key it may have, and whether it must be present. */
export type OptionRules = Readonly<Record<string, { rule: OptionRule; required?: boolean }>>;

const timer: OptionRule = { kind: 'timer' };

const TLS_RULES: OptionRules = {
  cert: { rule: { kind: 'pem' }, required: true },
  key: { rule: { kind: 'pem' }, required: true },
  ca: { rule: { kind: 'pem' } },
};
const U32 = 0xffffffff;

/** Rules of `reconnect` (backoff to the instrument). */
const RECONNECT_RULES: OptionRules = {
  initialDelayMs: { rule: timer },
  maxDelayMs: { rule: timer },
  maxAttempts: { rule: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER, orInfinity: true } },
};

/** Rules of `http` (the HTTP side: /health, /metrics, dashboard; spec/observability.md). */
const HTTP_RULES: OptionRules = {
  host: { rule: { kind: 'text' } },
  port: { rule: { kind: 'port', min: 0 }, required: true },
  updateIntervalMs: { rule: timer },
  maxBufferedBytes: { rule: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } },
};

/** Every option of `FlamingoGateway.start` and its range (spec/protocol.md, gateway section). */
export const GATEWAY_OPTION_RULES: OptionRules = {
  upstreamHost: { rule: { kind: 'text' } },
  upstreamPort: { rule: { kind: 'port', min: 1 }, required: true },
  upstreamLivePort: { rule: { kind: 'port', min: 1 } },
  upstreamTransport: { rule: { kind: 'function' } },
  mode: { rule: { kind: 'oneOf', values: ['auto', 'sequenced', 'lease'] } },
  host: { rule: { kind: 'text' } },
  port: { rule: { kind: 'port', min: 0 } },
  livePort: { rule: { kind: 'port', min: 0, orFalse: true } },
  readOnlyPort: { rule: { kind: 'port', min: 0 } },
  token: { rule: { kind: 'token' } },
  requestTimeoutMs: { rule: timer },
  queueTimeoutMs: { rule: timer },
  connectTimeoutMs: { rule: timer },
  reconnect: { rule: { kind: 'object', rules: RECONNECT_RULES } },
  tls: { rule: { kind: 'object', rules: TLS_RULES } },
  maxOutgoingBytes: { rule: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } },
  maxPendingPerSession: { rule: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } },
  // addDataBytes is a u32; 0 refuses every payload.
  maxPayloadBytes: { rule: { kind: 'integer', min: 0, max: U32 } },
  helloTimeoutMs: { rule: timer },
  maxQueuedFrames: { rule: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } },
  http: { rule: { kind: 'object', rules: HTTP_RULES } },
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/** Why `value` breaks `rule`, or null when it fits. */
function violation(rule: OptionRule, value: unknown, path: string): string | null {
  switch (rule.kind) {
    case 'timer':
      return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TIMER_MS ? null : `an integer from 1 to ${MAX_TIMER_MS} ms`;
    case 'integer':
      if (rule.orInfinity === true && value === Infinity) return null;
      return Number.isInteger(value) && (value as number) >= rule.min && (value as number) <= rule.max ? null : `an integer from ${rule.min} to ${rule.max}`;
    case 'port':
      if (rule.orFalse === true && value === false) return null;
      return Number.isInteger(value) && (value as number) >= rule.min && (value as number) <= 65535
        ? null
        : `a port from ${rule.min} to 65535${rule.orFalse === true ? ', or false' : ''}`;
    case 'text':
      return typeof value === 'string' && value.length > 0 ? null : 'a non-empty string';
    case 'oneOf':
      return typeof value === 'string' && rule.values.includes(value) ? null : `one of ${rule.values.join(', ')}`;
    case 'token':
      if (typeof value !== 'string') return 'a string';
      try {
        tokenBytes(value);
        return null;
      } catch {
        return '1 to 72 UTF-8 bytes without NUL';
      }
    case 'function':
      return typeof value === 'function' ? null : 'a function';
    case 'pem':
      return (typeof value === 'string' || value instanceof Uint8Array) && value.length > 0 ? null : 'PEM text or bytes';
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'an object';
      checkOptions(value as Record<string, unknown>, rule.rules, `${path}.`);
      return null;
  }
}

/**
 * Check an options object against its rules: unknown keys, missing required ones and
 * values out of range throw ArgumentError naming the option. `undefined` means "default".
 */
function checkOptions(options: Record<string, unknown>, rules: OptionRules, prefix = ''): void {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(rules, key)) throw new ArgumentError(`unknown option ${prefix}${key}`);
  }
  for (const [key, { rule, required }] of Object.entries(rules)) {
    const value = options[key];
    const path = `${prefix}${key}`;
    if (value === undefined) {
      if (required === true) throw new ArgumentError(`${path} is required`);
      continue;
    }
    const wanted = violation(rule, value, path);
    if (wanted !== null) throw new ArgumentError(`${path} must be ${wanted}, got ${describe(value)}`);
  }
}

/** Validate `FlamingoGateway.start`'s options at the door, before any socket opens. */
export function checkGatewayOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('FlamingoGateway.start needs an options object');
  checkOptions(options as Record<string, unknown>, GATEWAY_OPTION_RULES);
  const reconnect = (options as { reconnect?: { initialDelayMs?: number; maxDelayMs?: number } }).reconnect;
  if (reconnect !== undefined && (reconnect.initialDelayMs ?? 100) > (reconnect.maxDelayMs ?? 5000)) {
    throw new ArgumentError('reconnect.initialDelayMs must not exceed reconnect.maxDelayMs');
  }
  // The HTTP side follows the command port's rule: off loopback only with a token.
  const { http, token } = options as { http?: { host?: string }; token?: string };
  if (http !== undefined && token === undefined && !isLoopbackHost(http.host ?? '127.0.0.1')) {
    throw new ArgumentError(`serving HTTP on ${http.host} (not loopback) requires a token`);
  }
}
