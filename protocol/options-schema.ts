import { ArgumentError } from './errors.js';

/**
 * Longest delay a Node timer can hold: setTimeout treats anything above 2^31-1 ms as 1 ms
 * (with a TimeoutOverflowWarning), so a "30 day" timeout would fire at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay setTimeout can hold: at least 1 ms, at most {@link MAX_TIMER_MS} (a later deadline re-arms). */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(ms)));
}

/**
 * One option's rule: what values it takes, and whether the option must be given
 * (`required`; otherwise leaving it out, or `undefined`, means its default). Every check
 * and every documented range derives from it. The one mechanism for every public entry
 * point: the client, the simulator and the gateway each declare a schema of these.
 */
export type OptionRule = OptionValueRule & { required?: boolean };

/** What values an option takes (the part of {@link OptionRule} that {@link describeRule} states). */
export type OptionValueRule =
  /** Milliseconds for a timer: a number from `min` (default 1) to {@link MAX_TIMER_MS}. */
  | { kind: 'timer'; min?: number }
  /**
   * A whole number within [min, max]; `infinite` also allows Infinity (e.g. "retry for
   * ever"), `orFalse` also allows `false` (e.g. "no such port").
   */
  | { kind: 'integer'; min: number; max: number; infinite?: boolean; orFalse?: boolean; unit?: string }
  /** A finite number within [min, max]; `exclusiveMin` makes min itself invalid. */
  | { kind: 'number'; min: number; max: number; exclusiveMin?: boolean; unit?: string }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string'; nonEmpty?: boolean }
  | { kind: 'boolean' }
  /** Anything of these `typeof` results (e.g. a transport object or factory); checked by its user. */
  | { kind: 'typeof'; types: readonly string[]; what: string }
  /** `true`/`false`, or an object checked against `schema` (e.g. `reconnect`). */
  | { kind: 'flagOrObject'; schema: OptionsSchema }
  /** An object checked against `schema` (e.g. the gateway's `tls`). */
  | { kind: 'object'; schema: OptionsSchema }
  /** Values `accepts` takes, described as `what` (e.g. a token's byte rules). */
  | { kind: 'custom'; what: string; accepts: (value: unknown) => boolean };

/** Every option of one public entry point, by name. */
export type OptionsSchema = Readonly<Record<string, OptionRule>>;

/** Byte sizes: at least one byte, at most 4 GiB − 1 (a u32 length field). */
export const SIZE_RULE = { kind: 'integer', min: 1, max: 0xffffffff, unit: 'bytes' } as const satisfies OptionRule;
/** A TCP port to connect to. */
export const PORT_RULE = { kind: 'integer', min: 1, max: 65535 } as const satisfies OptionRule;
/** A TCP port to listen on (0 picks a free one). */
export const LISTEN_PORT_RULE = { kind: 'integer', min: 0, max: 65535 } as const satisfies OptionRule;
/** A timer in milliseconds. */
export const TIMER_RULE = { kind: 'timer' } as const satisfies OptionRule;

/**
 * The range of a rule as text, e.g. `1 … 2147483647 ms`. The TSDoc of every options
 * interface quotes this text (test/unit/options-schema.test.ts compares them), and the
 * CLI prints it in its error messages, so documentation and checks cannot drift.
 */
export function describeRule(rule: OptionRule): string {
  switch (rule.kind) {
    case 'timer':
      return `${rule.min ?? 1} … ${MAX_TIMER_MS} ms`;
    case 'integer':
      return `integer ${rule.min} … ${rule.max}${rule.infinite === true ? ' or Infinity' : ''}${rule.unit !== undefined ? ` ${rule.unit}` : ''}${rule.orFalse === true ? ' or false' : ''}`;
    case 'number':
      return `${rule.exclusiveMin === true ? '>' : ''}${rule.min} … ${rule.max}${rule.unit !== undefined ? ` ${rule.unit}` : ''}`;
    case 'enum':
      return rule.values.map((v) => `'${v}'`).join(' | ');
    case 'string':
      return rule.nonEmpty === true ? 'non-empty text' : 'text';
    case 'boolean':
      return 'true | false';
    case 'typeof':
      return rule.what;
    case 'flagOrObject':
      return 'true | false | object';
    case 'object':
      return 'object';
    case 'custom':
      return rule.what;
  }
}

/** Why `value` breaks `rule`, or null when it is valid. */
export function ruleViolation(rule: OptionRule, value: unknown): string | null {
  const range = describeRule(rule);
  switch (rule.kind) {
    case 'timer': {
      const ok = typeof value === 'number' && value >= (rule.min ?? 1) && value <= MAX_TIMER_MS;
      return ok ? null : `must be ${range}`;
    }
    case 'integer': {
      if ((rule.infinite === true && value === Infinity) || (rule.orFalse === true && value === false)) return null;
      const ok = typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max;
      return ok ? null : `must be an ${range}`;
    }
    case 'number': {
      const ok =
        typeof value === 'number' && Number.isFinite(value) && (rule.exclusiveMin === true ? value > rule.min : value >= rule.min) && value <= rule.max;
      return ok ? null : `must be a number ${range}`;
    }
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value) ? null : `must be ${range}`;
    case 'string':
      return typeof value === 'string' && (rule.nonEmpty !== true || value.length > 0) ? null : `must be ${range}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'typeof':
      return rule.types.includes(value === null ? 'null' : typeof value) ? null : `must be ${rule.what}`;
    case 'flagOrObject':
      return typeof value === 'boolean' || isPlainObject(value) ? null : `must be ${range}`;
    case 'object':
      return isPlainObject(value) ? null : 'must be an object';
    case 'custom':
      return rule.accepts(value) ? null : `must be ${rule.what}`;
  }
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/**
 * Check `options` against `schema` at the door of a public entry point, before anything is
 * opened: unknown names (a typo would otherwise be ignored silently), a missing required
 * option and every value out of its rule's range throw ArgumentError naming `where` and
 * the option. `undefined` means "use the default" and is accepted for every option that is
 * not required (and for the whole object when none is).
 */
export function validateOptions(schema: OptionsSchema, options: unknown, where: string, prefix = ''): void {
  if (options !== undefined && !isPlainObject(options)) throw new ArgumentError(`${where}: options must be an object, got ${show(options)}`);
  const given: Readonly<Record<string, unknown>> = options ?? {};
  for (const [name, value] of Object.entries(given)) {
    const rule = schema[name];
    const full = `${prefix}${name}`;
    if (rule === undefined) {
      throw new ArgumentError(`${where}: unknown option '${full}' (known: ${Object.keys(schema).join(', ')})`);
    }
    if (value === undefined) continue;
    const problem = ruleViolation(rule, value);
    if (problem !== null) throw new ArgumentError(`${where}: ${full} ${problem}, got ${show(value)}`);
    if ((rule.kind === 'flagOrObject' || rule.kind === 'object') && typeof value === 'object') validateOptions(rule.schema, value, where, `${full}.`);
  }
  for (const [name, rule] of Object.entries(schema)) {
    if (rule.required === true && given[name] === undefined) throw new ArgumentError(`${where}: option '${prefix}${name}' is required`);
  }
}

/**
 * A value parser for one CLI option (commander's argParser), from the same rule the
 * library checks: text → number, or `onError(message)` (which throws commander's
 * InvalidArgumentError, so a bad value exits with the usage code).
 */
export function cliNumberParser(rule: OptionRule, onError: (message: string) => never): (text: string) => number {
  return (text: string) => {
    const trimmed = text.trim();
    const value = trimmed === '' ? NaN : Number(trimmed);
    const problem = ruleViolation(rule, value);
    if (problem !== null) onError(`expected ${describeRule(rule)}, got ${JSON.stringify(text)}`);
    return value;
  };
}
