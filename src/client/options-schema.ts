import { LISTEN_PORT_RULE, PORT_RULE, SIZE_RULE, TIMER_RULE, validateOptions } from '../../protocol/options-schema.js';
import type { OptionsSchema } from '../../protocol/options-schema.js';
import { ArgumentError } from '../errors.js';
import { RECONNECT_DEFAULTS } from './reconnect.js';

/** Options of `reconnect: { ... }` (ReconnectOptions). */
export const RECONNECT_OPTIONS_SCHEMA = {
  initialDelayMs: TIMER_RULE,
  maxDelayMs: TIMER_RULE,
  maxAttempts: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  whileDown: { kind: 'enum', values: ['queue', 'fail'] },
} as const satisfies OptionsSchema;

/**
 * Every option of `FlamingoClient.connect` and its range: the one place they are checked
 * (before any socket opens) and documented (the TSDoc of ClientOptions quotes
 * `describeRule` of each; test/unit/options-schema.test.ts keeps them equal).
 */
export const CLIENT_OPTIONS_SCHEMA = {
  host: { kind: 'string', nonEmpty: true },
  port: PORT_RULE,
  mode: { kind: 'enum', values: ['auto', 'sequenced', 'lease'] },
  requestTimeoutMs: TIMER_RULE,
  connectTimeoutMs: TIMER_RULE,
  sequenceField: { kind: 'enum', values: ['clientId', 'hardwareId', 'subsystemId'] },
  maxInFlight: { kind: 'integer', min: 1, max: 0xffff },
  maxQueued: { kind: 'integer', min: 1, max: 10_000_000 },
  queueTimeoutMs: TIMER_RULE,
  probeTimeoutMs: TIMER_RULE,
  reconnect: { kind: 'flagOrObject', schema: RECONNECT_OPTIONS_SCHEMA },
  transport: { kind: 'typeof', types: ['object', 'function'], what: 'a Transport or a function returning one' },
  maxPayloadBytes: SIZE_RULE,
  uploadChunkBytes: { kind: 'integer', min: 1, max: 256 * 1024 * 1024, unit: 'bytes' },
  stats: { kind: 'boolean' },
} as const satisfies OptionsSchema;

/** Options of `client.events()`. */
export const EVENT_STREAM_OPTIONS_SCHEMA = {
  bufferSize: { kind: 'integer', min: 1, max: 10_000_000 },
} as const satisfies OptionsSchema;

/** Options of `client.live()`. */
export const LIVE_OPTIONS_SCHEMA = {
  port: PORT_RULE,
  maxBuffered: { kind: 'integer', min: 1, max: 10_000 },
  connectTimeoutMs: TIMER_RULE,
} as const satisfies OptionsSchema;

/** Options of the simulator's `listen()`. */
export const LISTEN_OPTIONS_SCHEMA = {
  port: LISTEN_PORT_RULE,
  host: { kind: 'string', nonEmpty: true },
} as const satisfies OptionsSchema;

/** Check `FlamingoClient.connect`'s options; throws ArgumentError before anything is opened. */
export function validateClientOptions(options: unknown): void {
  validateOptions(CLIENT_OPTIONS_SCHEMA, options, 'FlamingoClient.connect');
  checkReconnectDelays(options, 'FlamingoClient.connect');
}

/**
 * The one rule between two options of `reconnect` (of a client, and of the gateway, whose
 * instrument link is a client): the first delay must not exceed the ceiling, each taking
 * its default (RECONNECT_DEFAULTS) when left out. Call after validateOptions has checked
 * each delay on its own. Throws ArgumentError naming `where`.
 */
export function checkReconnectDelays(options: unknown, where: string): void {
  const reconnect = (options as { reconnect?: unknown } | undefined)?.reconnect;
  if (typeof reconnect !== 'object' || reconnect === null) return;
  const given = reconnect as { initialDelayMs?: number; maxDelayMs?: number };
  const initial = given.initialDelayMs ?? RECONNECT_DEFAULTS.initialDelayMs;
  const max = given.maxDelayMs ?? RECONNECT_DEFAULTS.maxDelayMs;
  if (initial <= max) return;
  const shown = (value: number, isGiven: boolean) => (isGiven ? `${value}` : `${value} (the default)`);
  throw new ArgumentError(
    `${where}: reconnect.initialDelayMs must not exceed reconnect.maxDelayMs, got ${shown(initial, given.initialDelayMs !== undefined)} > ${shown(max, given.maxDelayMs !== undefined)}`,
  );
}
