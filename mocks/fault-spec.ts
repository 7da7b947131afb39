import { Command, commandName, commandSpec, parseCommand } from '../protocol/commands.js';
import { FlamingoError } from '../protocol/errors.js';

/** An inclusive integer range, e.g. `5..20`. */
export interface Range {
  min: number;
  max: number;
}

/**
 * Faults a simulated connection injects. Every random choice comes from a SeededRandom
 * derived from the simulator's seed and the connection id, so a run replays exactly.
 * The text form is described in spec/protocol.md §Simulator choices, Faults and parsed by {@link parseFaultSpec}.
 */
export interface FaultSpec {
  /** Cut every outgoing packet into chunks of 1..max bytes (`fragment=64` or `fragment=1..64`). */
  fragment?: number;
  /** Delay each reply by a uniform random time in [min, max] ms; later commands wait behind it. */
  delay?: Range;
  /** Probability of inserting 1..maxBytes garbage bytes before an outgoing packet (`garbage=0.1` or `garbage=0.1:32`). */
  garbage?: { rate: number; maxBytes: number };
  /** Probability that a reply is not sent at all (events are never dropped). */
  drop?: number;
  /** Drop the connection after this many received packets (a random count when min < max). */
  disconnect?: Range;
  /** Push unsolicited events at this rate (real time) while connected. */
  flood?: { perSecond: number; code: number };
  /** Stop reading for pauseMs after every `every` received packets. */
  slow?: { pauseMs: number; every: number };
}

/** A fault spec text that does not parse. */
export class FaultSpecError extends FlamingoError {
  constructor(message: string) {
    super('ARGUMENT', `bad fault spec: ${message}`);
  }
}

const DEFAULT_GARBAGE_BYTES = 16;
const DEFAULT_SLOW_EVERY = 50;

function number(key: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new FaultSpecError(`${key}: "${text}" is not a number`);
  return n;
}

function count(key: string, text: string, min = 0): number {
  const n = number(key, text);
  if (!Number.isInteger(n) || n < min) throw new FaultSpecError(`${key}: "${text}" must be an integer ≥ ${min}`);
  return n;
}

function probability(key: string, text: string): number {
  const p = number(key, text);
  if (p < 0 || p > 1) throw new FaultSpecError(`${key}: ${p} is not a probability in 0..1`);
  return p;
}

/** Milliseconds: `500`, `500ms`, `2s`. */
function duration(key: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (m === null) throw new FaultSpecError(`${key}: "${text}" is not a duration (e.g. 500ms, 2s)`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : n;
}

function range(key: string, text: string, parse: (k: string, t: string) => number): Range {
  const parts = text.split('..');
  if (parts.length > 2) throw new FaultSpecError(`${key}: "${text}" is not N or MIN..MAX`);
  const min = parse(key, parts[0] as string);
  const max = parts.length === 2 ? parse(key, parts[1] as string) : min;
  if (max < min) throw new FaultSpecError(`${key}: range ${text} is empty`);
  return { min, max };
}

/**
 * Parse the `--faults` text: comma-separated `key=value` items, e.g.
 * `fragment=1..64,delay=5..20,garbage=0.1,drop=0.05,disconnect=200,flood=1000/s,slow=500ms`.
 * Keys: fragment (max chunk, or 1..max), delay (ms or min..max ms), garbage (rate[:maxBytes]),
 * drop (rate), disconnect (packets, or min..max packets), flood (N/s[:COMMAND]),
 * slow (duration[/every N packets]). An empty text is no faults.
 * @throws FaultSpecError naming the bad item.
 */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw new FaultSpecError(`"${item}" has no "="`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    switch (key) {
      case 'fragment': {
        const r = range(key, value, (k, t) => count(k, t, 1));
        if (value.includes('..') && r.min !== 1) throw new FaultSpecError('fragment chunks always start at 1 byte: use 1..N');
        spec.fragment = r.max;
        break;
      }
      case 'delay':
        spec.delay = range(key, value, (k, t) => duration(k, t));
        break;
      case 'garbage': {
        const [rate, bytes] = value.split(':');
        spec.garbage = { rate: probability(key, rate as string), maxBytes: bytes === undefined ? DEFAULT_GARBAGE_BYTES : count(key, bytes, 1) };
        break;
      }
      case 'drop':
        spec.drop = probability(key, value);
        break;
      case 'disconnect':
        spec.disconnect = range(key, value, (k, t) => count(k, t, 1));
        break;
      case 'flood': {
        const m = /^(\d+(?:\.\d+)?)(?:\/s)?(?::(\w+))?$/.exec(value);
        if (m === null) throw new FaultSpecError(`flood: "${value}" is not RATE/s[:COMMAND]`);
        const code = m[2] === undefined ? Command.UI_SET_GAUGE_VALUE : parseCommand(m[2]);
        if (code === undefined) throw new FaultSpecError(`flood: unknown command ${m[2]}`);
        const perSecond = Number(m[1]);
        if (perSecond <= 0) throw new FaultSpecError('flood: rate must be > 0');
        spec.flood = { perSecond, code };
        break;
      }
      case 'slow': {
        const [pause, every] = value.split('/');
        spec.slow = { pauseMs: duration(key, pause as string), every: every === undefined ? DEFAULT_SLOW_EVERY : count(key, every, 1) };
        break;
      }
      default:
        throw new FaultSpecError(`unknown fault "${key}" (known: fragment, delay, garbage, drop, disconnect, flood, slow)`);
    }
  }
  return spec;
}

const rangeText = (r: Range): string => (r.min === r.max ? `${r.min}` : `${r.min}..${r.max}`);

/** The text form of a spec; `parseFaultSpec(formatFaultSpec(s))` equals `s`. */
export function formatFaultSpec(spec: FaultSpec): string {
  const out: string[] = [];
  if (spec.fragment !== undefined) out.push(`fragment=1..${spec.fragment}`);
  if (spec.delay !== undefined) out.push(`delay=${rangeText(spec.delay)}`);
  if (spec.garbage !== undefined) out.push(`garbage=${spec.garbage.rate}:${spec.garbage.maxBytes}`);
  if (spec.drop !== undefined) out.push(`drop=${spec.drop}`);
  if (spec.disconnect !== undefined) out.push(`disconnect=${rangeText(spec.disconnect)}`);
  if (spec.flood !== undefined) {
    // Unknown codes have no name that parses back; hex does.
    const code = spec.flood.code;
    out.push(`flood=${spec.flood.perSecond}/s:${commandSpec(code) !== undefined ? commandName(code) : `0x${code.toString(16)}`}`);
  }
  if (spec.slow !== undefined) out.push(`slow=${spec.slow.pauseMs}ms/${spec.slow.every}`);
  return out.join(',');
}

/** A spec given as text or as an object, normalised to an object. */
export function toFaultSpec(spec: FaultSpec | string | undefined): FaultSpec {
  if (spec === undefined) return {};
  return typeof spec === 'string' ? parseFaultSpec(spec) : spec;
}
