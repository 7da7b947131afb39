import fc from 'fast-check';
import { gatewayCommandArbitraries } from './commands.js';
import { GatewayRig } from './rig.js';

/** One row of the gateway model's table. */
export interface GatewayModelStats {
  cell: string;
  runs: number;
  /** Packets the apps wrote, replies they got, events delivered to them. */
  packets: number;
  replies: number;
  events: number;
  /** Apps that hung up, and apps the gateway cut off as slow readers. */
  disconnects: number;
  cutOffs: number;
  failures: number;
  /** fast-check's report of the first failure (seed, path, shrunk counterexample), if any. */
  report: string | undefined;
}

/** The upstream kinds the model runs against. */
export const GATEWAY_MODEL_CELLS = [
  { name: 'gateway/lease upstream', echoSequence: false },
  { name: 'gateway/sequenced upstream', echoSequence: true },
] as const;
export type GatewayModelCell = (typeof GATEWAY_MODEL_CELLS)[number];

/** Options of {@link runGatewayModel}. */
export interface GatewayModelOptions {
  numRuns: number;
  maxCommands: number;
  /** Soak: stop starting batches after this long (batches of `batchRuns` runs, each with its own seed). */
  timeLimitMs?: number;
  batchRuns?: number;
  /** undefined: the global fast-check configuration's (the fixed seed in tests). */
  seed?: number;
  path?: string;
}

/**
 * Run the gateway model on one upstream kind: fast-check draws command sequences (bursts
 * of requests and fire-and-forget commands from several apps, lease sections taken and
 * dropped, hang-ups, slow readers), a simulator seed and its reply delay; each run checks
 * the step invariants after every command and the end invariants after bringing everything
 * to rest (GatewayRig). Failures are counted and reported, never thrown.
 */
export async function runGatewayModel(cell: GatewayModelCell, options: GatewayModelOptions): Promise<GatewayModelStats> {
  const stats: GatewayModelStats = { cell: cell.name, runs: 0, packets: 0, replies: 0, events: 0, disconnects: 0, cutOffs: 0, failures: 0, report: undefined };
  const property = fc.asyncProperty(
    fc.commands(gatewayCommandArbitraries(), { maxCommands: options.maxCommands, size: 'medium' }),
    fc.integer({ min: 1, max: 0x7fffffff }),
    fc.integer({ min: 0, max: 3 }),
    async (commands, seed, delayMs) => {
      stats.runs++;
      const rig = await GatewayRig.start({ echoSequence: cell.echoSequence, seed, delayMs });
      try {
        await fc.asyncModelRun(() => ({ model: {}, real: rig }), commands);
        await rig.quiesce();
      } finally {
        const f = rig.figures();
        stats.packets += f.packets;
        stats.replies += f.replies;
        stats.events += f.events;
        stats.disconnects += f.disconnects;
        stats.cutOffs += f.cutOffs;
        await rig.stop();
      }
    },
  );
  const check = async (numRuns: number, seed: number | undefined): Promise<void> => {
    const details = await fc.check(property, {
      numRuns,
      ...(options.timeLimitMs !== undefined ? { timeout: 60_000, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true } : {}),
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
    return stats;
  }
  const batch = options.batchRuns ?? 10;
  const stopAt = performance.now() + options.timeLimitMs;
  const firstSeed = options.seed ?? 1;
  for (let done = 0, i = 0; done < options.numRuns && performance.now() < stopAt; done += batch, i++) {
    await check(Math.min(batch, options.numRuns - done), (firstSeed + i) | 0);
  }
  return stats;
}
