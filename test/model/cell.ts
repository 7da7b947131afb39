import fc from 'fast-check';
import { commandArbitraries } from './command-arbitraries.js';
import { initialModel, type Model } from './model.js';
import { misuseArbitraries, misuseRuns } from './misuse.js';
import { cellName, type Cell } from './profiles.js';
import { Rig } from './rig.js';

/** One row of the reliability table. */
export interface CellStats {
  cell: string;
  runs: number;
  commands: number;
  events: number;
  failures: number;
  worstLatencyMs: number;
  /** Faults that struck over all runs (so a test can tell the profile was exercised). */
  droppedReplies: number;
  disconnects: number;
  resyncs: number;
  /** API-misuse commands run (test/model/misuse.ts). */
  misuse: number;
  /** fast-check's report of the first failure (seed, path, shrunk counterexample), if any. */
  report: string | undefined;
}

/** Soak guards: the longest a single run may take, and the longest one batch (shrinking included) may take. */
const RUN_TIMEOUT_MS = 60_000;
const SHRINK_LIMIT_MS = 90_000;

/** Options of {@link runCell}. */
export interface CellRunOptions {
  /** Property runs (fast-check numRuns), in total over every batch. */
  numRuns: number;
  /** Longest command sequence of one run. */
  maxCommands: number;
  /** How long sequences tend to be within maxCommands (fast-check size; default 'small'). */
  size?: fc.SizeForArbitrary;
  /**
   * Soak: stop starting batches after this long. The runs go in batches of `batchRuns`,
   * each batch a separate fast-check check with its own seed (seed, seed + 1, ...), so a
   * failure ends only its batch and the others keep counting. (fast-check's own
   * interruptAfterTimeLimit would leave its timer among the resources each run checks.)
   */
  timeLimitMs?: number;
  /** Runs per batch when `timeLimitMs` is set (default 10). */
  batchRuns?: number;
  /** fast-check seed; undefined: the global configuration's (the fixed seed in tests). */
  seed?: number;
  /** fast-check path to replay one counterexample. */
  path?: string;
}

/**
 * Run one cell of the matrix: fast-check draws command sequences and a simulator seed;
 * each run starts a fresh simulator and client, runs the model against them checking the
 * step invariants after every command, brings everything to rest, checks the end state,
 * closes, and checks nothing is left. Failures are counted and the first one's report
 * (with its shrunk counterexample) is returned, never thrown.
 */
export async function runCell(cell: Cell, options: CellRunOptions): Promise<CellStats> {
  const stats: CellStats = {
    cell: cellName(cell),
    runs: 0,
    commands: 0,
    events: 0,
    failures: 0,
    worstLatencyMs: 0,
    droppedReplies: 0,
    disconnects: 0,
    resyncs: 0,
    misuse: 0,
    report: undefined,
  };
  const misuseBefore = misuseRuns.count;
  const property = fc.asyncProperty(
    // App commands plus API misuse (issue 18): re-entrant and queued sections, timeouts at the edges, close at any point, shared signals.
    fc.commands([...commandArbitraries(), ...misuseArbitraries()], {
      maxCommands: options.maxCommands,
      ...(options.size !== undefined ? { size: options.size } : {}),
    }),
    fc.integer({ min: 1, max: 0x7fffffff }),
    async (commands, simSeed) => {
      stats.runs++;
      const rig = await Rig.start(cell, simSeed);
      let failed = true;
      try {
        await fc.asyncModelRun(() => ({ model: initialModel() as Model, real: rig }), commands);
        await rig.quiesce();
        failed = false;
      } finally {
        const figures = rig.figures();
        stats.commands += figures.commands;
        stats.events += figures.events;
        stats.worstLatencyMs = Math.max(stats.worstLatencyMs, figures.worstLatencyMs);
        stats.droppedReplies += figures.droppedReplies;
        stats.disconnects += figures.disconnects;
        stats.resyncs += figures.resyncs;
        await rig.stop();
        if (!failed) await rig.checkNothingLeft();
      }
    },
  );
  const check = async (numRuns: number, seed: number | undefined): Promise<void> => {
    const details = await fc.check(property, {
      numRuns,
      // Soak: a run that hangs past every deadline of the rig is a failure, not a stuck soak,
      // and shrinking a failure gets a bounded time.
      ...(options.timeLimitMs !== undefined ? { timeout: RUN_TIMEOUT_MS, interruptAfterTimeLimit: SHRINK_LIMIT_MS, markInterruptAsFailure: true } : {}),
      // Shrink: the counterexample becomes a named regression test, the shorter the better.
      endOnFailure: false,
      ...(seed !== undefined ? { seed } : {}),
      ...(options.path !== undefined ? { path: options.path } : {}),
    });
    if (details.failed) {
      stats.failures++;
      const error = details.errorInstance instanceof Error ? `${details.errorInstance.name}: ${details.errorInstance.message}` : String(details.errorInstance);
      stats.report ??= `${error}\n${fc.defaultReportMessage(details) ?? 'failed'}`;
    }
  };
  if (options.timeLimitMs === undefined) {
    await check(options.numRuns, options.seed);
    stats.misuse = misuseRuns.count - misuseBefore;
    return stats;
  }
  const batch = options.batchRuns ?? 10;
  const stopAt = performance.now() + options.timeLimitMs;
  const firstSeed = options.seed ?? 1;
  // A replayed path belongs to the first batch's seed only: one batch.
  const numRuns = options.path !== undefined ? Math.min(batch, options.numRuns) : options.numRuns;
  for (let done = 0, i = 0; done < numRuns && performance.now() < stopAt; done += batch, i++) {
    await check(Math.min(batch, numRuns - done), (firstSeed + i) | 0);
  }
  stats.misuse = misuseRuns.count - misuseBefore;
  return stats;
}
