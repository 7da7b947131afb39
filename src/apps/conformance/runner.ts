import { DEFAULT_PORT } from '../../../protocol/constants.js';
import { ProbeConnection } from './probe.js';
import { CHECKS, type CheckLevel, type CheckStatus, type ConformanceCheck } from './checks.js';
import { CheckContext, type ConformanceTimings, type Findings } from './context.js';

/** Options of {@link runConformance}. */
export interface ConformanceOptions extends Partial<ConformanceTimings> {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 53717. */
  port?: number;
  /** Run only the checks with these names (in suite order). */
  only?: readonly string[];
  /** The checks to run (default {@link CHECKS}). */
  checks?: readonly ConformanceCheck[];
  /** Called as each check finishes, for live output. */
  onResult?: (result: CheckResult) => void;
  /** Stop between checks (the running check ends with a failure). */
  signal?: AbortSignal;
}

/** One row of the report. */
export interface CheckResult {
  name: string;
  title: string;
  level: CheckLevel;
  /** The evidence an observed check follows. */
  evidence?: string;
  status: CheckStatus;
  reason: string;
  /** Wall time of the check in milliseconds. */
  durationMs: number;
}

/** Everything a conformance run found. */
export interface ConformanceReport {
  /** host:port of the server. */
  server: string;
  /** ISO time the run started. */
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  passed: number;
  failed: number;
  info: number;
  /** True when no check failed (info rows do not count). */
  ok: boolean;
  /** Whether the server echoes the clientId sequence number; undefined when not probed. */
  echoesSequence: boolean | undefined;
  /** Where the stage limits used for moves came from. */
  limitsSource: 'settings' | 'conventions' | undefined;
}

/** Defaults suited to a real instrument; the simulator is faster on every count. */
export const DEFAULT_TIMINGS: ConformanceTimings = {
  replyTimeoutMs: 2000,
  quietMs: 250,
  moveTimeoutMs: 15_000,
  workflowTimeoutMs: 30_000,
  checkTimeoutMs: 60_000,
  moveStepMm: 0.05,
  workflowPlanes: 3,
  connectTimeoutMs: 2000,
};

/** Names of every check, in suite order. */
export function checkNames(): string[] {
  return CHECKS.map((c) => c.name);
}

function selectChecks(options: ConformanceOptions): readonly ConformanceCheck[] {
  const all = options.checks ?? CHECKS;
  if (options.only === undefined || options.only.length === 0) return all;
  const known = new Set(all.map((c) => c.name));
  const unknown = options.only.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new RangeError(`unknown check ${unknown.join(', ')}; checks are: ${[...known].join(', ')}`);
  const wanted = new Set(options.only);
  return all.filter((c) => wanted.has(c.name));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runOne(check: ConformanceCheck, ctx: CheckContext, timeoutMs: number, signal: AbortSignal | undefined): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the check took longer than ${timeoutMs} ms`)), timeoutMs);
    onAbort = () => reject(new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  let status: CheckStatus;
  let reason: string;
  const running = check.run(ctx);
  // After a timeout the check's own promise still settles (its connections are closed
  // below); that late rejection has nobody to go to and must not crash the process.
  running.catch(() => undefined);
  try {
    const outcome = await Promise.race([running, stop]);
    status = outcome.status;
    reason = outcome.reason;
  } catch (error) {
    status = 'fail';
    reason = message(error);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    // Closing the check's connections also ends whatever the check was still waiting for.
    ctx.dispose();
  }
  // Extensions are this project's additions: a server without them is still conformant.
  if (check.level === 'extension' && status === 'fail') {
    status = 'info';
    reason = `not supported (an extension, not required): ${reason}`;
  }
  return {
    name: check.name,
    title: check.title,
    level: check.level,
    ...(check.evidence !== undefined ? { evidence: check.evidence } : {}),
    status,
    reason,
    durationMs: performance.now() - started,
  };
}

/**
 * Run the conformance checks against a server, one after another, each on connections of
 * its own with its own deadline. Nothing a server does can hang the run or throw out of
 * it, except not being there: the first connection is tried before any check, and its
 * ConnectError (which names host:port) is thrown so a caller can say what to do.
 */
export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  const timings: ConformanceTimings = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof ConformanceTimings)[]) {
    const v = options[key];
    if (v !== undefined) timings[key] = v;
  }
  const checks = selectChecks(options);
  const startedAt = new Date();
  const t0 = performance.now();
  const preflight = await ProbeConnection.open({ host, port, connectTimeoutMs: timings.connectTimeoutMs });
  preflight.destroy();

  const findings: Findings = {};
  const results: CheckResult[] = [];
  for (const check of checks) {
    if (options.signal?.aborted === true) break;
    const result = await runOne(check, new CheckContext(host, port, timings, findings), timings.checkTimeoutMs, options.signal);
    results.push(result);
    options.onResult?.(result);
    // Not a Flamingo server (silent, or an echo): every later check would mislead.
    if (check.name === 'flamingo-server' && result.status === 'fail') break;
  }
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  return {
    server: `${host}:${port}`,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    results,
    passed: count('pass'),
    failed: count('fail'),
    info: count('info'),
    ok: count('fail') === 0 && results.length === checks.length,
    echoesSequence: findings.echoesSequence,
    limitsSource: findings.limits?.source,
  };
}
