/**
 * The option schemas (spec/options.md): every documented range is the schema's own text,
 * the CLI parsers accept exactly what the library accepts, and the checker refuses what
 * is out of range with ArgumentError.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  checkGatewayOptions,
  CLIENT_OPTIONS_SCHEMA,
  cliNumberParser,
  describeRule,
  EVENT_STREAM_OPTIONS_SCHEMA,
  GATEWAY_OPTIONS_SCHEMA,
  LIVE_OPTIONS_SCHEMA,
  MAX_TIMER_MS,
  RECONNECT_OPTIONS_SCHEMA,
  ruleViolation,
  timerDelay,
  TIMER_RULE,
  validateClientOptions,
  validateOptions,
  type OptionRule,
  type OptionsSchema,
} from 'flamingo-protocol';
import { SIMULATOR_OPTIONS_SCHEMA, SimulatedMicroscope } from 'flamingo-protocol/sim';
import { root } from '../support/build.js';

/** Every .ts file under the source folders (the interfaces may move between files). */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts')) out.push(full);
    }
  };
  for (const dir of ['src', 'mocks']) walk(path.join(root, dir));
  return out;
}

/** `{ option: 'range text' }` from the TSDoc of `export interface <name>`. */
function documentedRanges(name: string): Record<string, string | undefined> {
  const text = sourceFiles()
    .map((file) => readFileSync(file, 'utf8'))
    .find((source) => source.includes(`export interface ${name} {`));
  if (text === undefined) throw new Error(`interface ${name} not found`);
  const start = text.indexOf(`export interface ${name} {`);
  const body = text.slice(start, text.indexOf('\n}\n', start));
  const ranges: Record<string, string | undefined> = {};
  const member = /(\/\*\*(?:(?!\*\/)[\s\S])*?\*\/)?\s*\n {2}(\w+)\??:/g;
  for (const m of body.matchAll(member)) {
    const doc = m[1] ?? '';
    const range = /Range: `([^`]*)`/.exec(doc.replace(/\n\s*\* /g, ' '));
    ranges[m[2] as string] = range?.[1];
  }
  return ranges;
}

const DOCUMENTED: [string, OptionsSchema][] = [
  ['ClientOptions', CLIENT_OPTIONS_SCHEMA],
  ['ReconnectOptions', RECONNECT_OPTIONS_SCHEMA],
  ['EventStreamOptions', EVENT_STREAM_OPTIONS_SCHEMA],
  ['LiveOptions', LIVE_OPTIONS_SCHEMA],
  ['SimulatorOptions', SIMULATOR_OPTIONS_SCHEMA],
  ['GatewayOptions', GATEWAY_OPTIONS_SCHEMA],
];

describe('option schemas', () => {
  it.each(DOCUMENTED)('%s: every option is in the schema and its TSDoc states the schema range', (name, schema) => {
    const documented = documentedRanges(name);
    expect(Object.keys(documented).sort()).toEqual(Object.keys(schema).sort());
    for (const [option, rule] of Object.entries(schema)) {
      expect(documented[option], `${name}.${option}`).toBe(describeRule(rule));
    }
  });

  it('timers: 1 … 2^31-1 ms; NaN, 0, negatives, Infinity and 2^31 are refused', () => {
    for (const ok of [1, 1.5, 5000, MAX_TIMER_MS]) expect(ruleViolation(TIMER_RULE, ok)).toBeNull();
    for (const bad of [0, -1, 0.5, Number.NaN, Infinity, MAX_TIMER_MS + 1, 1e12, '5', null]) expect(ruleViolation(TIMER_RULE, bad)).not.toBeNull();
  });

  it('timerDelay never exceeds what setTimeout can hold', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e15, max: 1e15, noNaN: true }), (ms) => {
        const delay = timerDelay(ms);
        expect(delay).toBeGreaterThanOrEqual(1);
        expect(delay).toBeLessThanOrEqual(MAX_TIMER_MS);
        expect(Number.isInteger(delay)).toBe(true);
      }),
    );
  });

  it('the CLI parser accepts exactly the values the library accepts', () => {
    const rules: OptionRule[] = [
      TIMER_RULE,
      CLIENT_OPTIONS_SCHEMA.port,
      CLIENT_OPTIONS_SCHEMA.maxQueued,
      SIMULATOR_OPTIONS_SCHEMA.timeScale,
      SIMULATOR_OPTIONS_SCHEMA.seed,
    ];
    const fail = (message: string): never => {
      throw new Error(message);
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...rules),
        fc.oneof(fc.integer({ min: -10, max: 70_000 }), fc.double({ noNaN: false }), fc.constantFrom(2 ** 31, 2 ** 31 - 1, 0xffffffff, 1e6)),
        (rule, value) => {
          const parse = cliNumberParser(rule, fail);
          const libraryAccepts = ruleViolation(rule, value) === null;
          let cliAccepts = true;
          try {
            expect(parse(String(value))).toBe(value);
          } catch {
            cliAccepts = false;
          }
          expect(cliAccepts).toBe(libraryAccepts);
        },
      ),
    );
  });

  it('validateOptions names the entry point and the option, refuses unknown names, checks nested objects', () => {
    expect(() => validateOptions(CLIENT_OPTIONS_SCHEMA, { maxQueued: 0 }, 'FlamingoClient.connect')).toThrow(
      /FlamingoClient.connect: maxQueued must be an integer 1 … 10000000, got 0/,
    );
    expect(() => validateOptions(CLIENT_OPTIONS_SCHEMA, { requestTimout: 5 }, 'X')).toThrow(/unknown option 'requestTimout'/);
    expect(() => validateOptions(CLIENT_OPTIONS_SCHEMA, { reconnect: { whileDown: 'wait' } }, 'X')).toThrow(/reconnect.whileDown must be 'queue' \| 'fail'/);
    expect(() => validateOptions(CLIENT_OPTIONS_SCHEMA, 5, 'X')).toThrow(ArgumentError);
    expect(() => validateOptions(CLIENT_OPTIONS_SCHEMA, { port: undefined, reconnect: true }, 'X')).not.toThrow();
  });

  it('the gateway schema: required options, false for a port, nested objects, its token rule, the reconnect delays with their defaults', () => {
    expect(() => checkGatewayOptions(undefined)).toThrow("FlamingoGateway.start: option 'upstreamPort' is required");
    expect(() => checkGatewayOptions({ upstreamPort: 1, livePort: false, reconnect: { maxAttempts: Infinity } })).not.toThrow();
    expect(() => checkGatewayOptions({ upstreamPort: 1, livePort: 1.5 })).toThrow(
      'FlamingoGateway.start: livePort must be an integer 0 … 65535 or false, got 1.5',
    );
    expect(() => checkGatewayOptions({ upstreamPort: 1, token: '' })).toThrow(
      'FlamingoGateway.start: token must be text of 1 to 72 UTF-8 bytes without NUL, got ""',
    );
    expect(() => checkGatewayOptions({ upstreamPort: 1, token: 'a\0b' })).toThrow(/token must be text of 1 to 72 UTF-8 bytes without NUL/);
    expect(() => checkGatewayOptions({ upstreamPort: 1, http: { host: '127.0.0.1' } })).toThrow("FlamingoGateway.start: option 'http.port' is required");
    expect(() => checkGatewayOptions({ upstreamPort: 1, tls: { cert: 'x', key: '' } })).toThrow(
      'FlamingoGateway.start: tls.key must be PEM text or bytes, not empty, got ""',
    );
    expect(() => checkGatewayOptions({ upstreamPort: 1, tls: [] })).toThrow('FlamingoGateway.start: tls must be an object, got object');
    expect(() => checkGatewayOptions({ upstreamPort: 1, reconnect: { whileDown: 'fail' } })).toThrow(/unknown option 'reconnect.whileDown'/);
    expect(() => checkGatewayOptions({ upstreamPort: 1, reconnect: { initialDelayMs: 6000 } })).toThrow(
      'FlamingoGateway.start: reconnect.initialDelayMs must not exceed reconnect.maxDelayMs, got 6000 > 5000 (the default)',
    );
    expect(() => validateClientOptions({ reconnect: { initialDelayMs: 50, maxDelayMs: 10 } })).toThrow(
      'FlamingoClient.connect: reconnect.initialDelayMs must not exceed reconnect.maxDelayMs, got 50 > 10',
    );
    expect(() => checkGatewayOptions({ upstreamPort: 1, http: { host: '0.0.0.0', port: 0 } })).toThrow(
      'serving HTTP on 0.0.0.0 (not loopback) requires a token',
    );
  });

  it.each([{ timeScale: 0 }, { maxPayloadBytes: -1 }, { seed: 1.5 }, { imageWidth: 0 }, { workflowDurationMs: 2 ** 31 }, { echoSequence: 'yes' }])(
    'new SimulatedMicroscope(%o) is an ArgumentError',
    (options) => {
      // Deliberately ill-typed: the constructor's runtime check of an untyped caller is under test.
      expect(() => new SimulatedMicroscope(options as never)).toThrow(ArgumentError);
    },
  );
});
