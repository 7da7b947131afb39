/**
 * Soak of the reliability matrix (`npm run soak`): the same model-based runs as
 * test/model-*.test.ts, with many runs and longer command sequences, bounded in time; then
 * the gateway model (several apps through one gateway, test/model/gateway-model.test.ts)
 * on each upstream kind, with a second table. `--profile gateway` runs only the gateway model.
 * Prints one row per cell: fault profile × transport × mode → runs, commands, API-misuse
 * commands (test/model/misuse.ts), events,
 * faults that struck (replies dropped + links lost + garbage runs skipped), failures, worst
 * step latency; then the report of each failure (seed, path, shrunk
 * counterexample) so it can be replayed and turned into a regression test.
 *
 *   npm run soak                       # about 2 minutes over every cell
 *   SOAK_SECONDS=600 npm run soak      # longer (or: node dist/bench/soak.js --seconds 600)
 *   FC_SEED=123 FC_NUM_RUNS=50 npm run soak -- --profile drop --transport tcp
 *   FC_SEED=358358126 node dist/bench/soak.js --profile reconnect --transport memory --mode sequenced --path "3:1:2"
 *                                      # replay one reported failure: its batch seed and path
 *                                      # (only a deterministic one: a failure that depends on
 *                                      # timing shrinks differently, and fast-check rejects the
 *                                      # path; then replay its counterexample as in test/regressions/)
 *
 * Exit code 1 when any cell failed.
 */
import { GATEWAY_MODEL_CELLS, runGatewayModel, type GatewayModelStats } from '../test/model/gateway/run.js';
import { runCell, type CellStats } from '../test/model/cell.js';
import { cellName, matrixCells, PROFILES, TRANSPORTS, type TransportKind } from '../test/model/profiles.js';
import { printTable } from './suite.js';

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positive(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${what} must be a positive number, got ${text}`);
  return n;
}

async function main(): Promise<void> {
  const seconds = positive(argument('seconds') ?? process.env.SOAK_SECONDS, 120, 'seconds');
  const numRuns = positive(process.env.FC_NUM_RUNS, 100_000, 'FC_NUM_RUNS');
  const maxCommands = positive(argument('commands') ?? process.env.SOAK_MAX_COMMANDS, 20, 'commands');
  // A fresh seed each soak finds new sequences; it is printed so any failure replays.
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 0x7fffffff;
  const onlyProfile = argument('profile');
  const onlyTransport = argument('transport') as TransportKind | undefined;
  const onlyMode = argument('mode');
  // A failure's report names the seed of its batch and the path of its shrunk counterexample:
  // with both, the first batch replays exactly that counterexample.
  const path = argument('path') ?? process.env.FC_PATH;
  if (onlyMode !== undefined && onlyMode !== 'sequenced' && onlyMode !== 'lease') throw new Error(`unknown mode ${onlyMode}`);
  if (onlyTransport !== undefined && !TRANSPORTS.includes(onlyTransport)) throw new Error(`unknown transport ${onlyTransport}`);
  const gatewayOnly = onlyProfile === 'gateway';
  if (onlyProfile !== undefined && !gatewayOnly && !PROFILES.some((p) => p.name === onlyProfile)) throw new Error(`unknown profile ${onlyProfile}`);
  const cells = gatewayOnly
    ? []
    : matrixCells(onlyTransport === undefined ? TRANSPORTS : [onlyTransport]).filter(
        (c) => (onlyProfile === undefined || c.profile.name === onlyProfile) && (onlyMode === undefined || c.mode === onlyMode),
      );
  const gatewayCells = (onlyProfile === undefined && onlyMode === undefined && path === undefined) || gatewayOnly ? GATEWAY_MODEL_CELLS : [];

  const sliceMs = (seconds * 1000) / (cells.length + gatewayCells.length);
  console.log(
    `soak: ${cells.length + gatewayCells.length} cells × ~${(sliceMs / 1000).toFixed(1)} s, up to ${numRuns} runs each, ≤ ${maxCommands} commands per run, seed ${seed}`,
  );
  const rows: CellStats[] = [];
  for (const cell of cells) {
    const stats = await runCell(cell, {
      numRuns,
      maxCommands,
      size: 'medium',
      timeLimitMs: sliceMs,
      batchRuns: 3,
      seed,
      ...(path !== undefined ? { path } : {}),
    });
    rows.push(stats);
    process.stdout.write(`  ${cellName(cell)}: ${stats.runs} runs${stats.failures > 0 ? ', FAILED' : ''}\n`);
  }

  const gatewayRows: GatewayModelStats[] = [];
  for (const cell of gatewayCells) {
    const stats = await runGatewayModel(cell, { numRuns, maxCommands, timeLimitMs: sliceMs, batchRuns: 3, seed });
    gatewayRows.push(stats);
    process.stdout.write(`  ${cell.name}: ${stats.runs} runs${stats.failures > 0 ? ', FAILED' : ''}\n`);
  }

  console.log('');
  if (rows.length > 0)
    printTable(
      ['profile/transport/mode', 'runs', 'commands', 'misuse', 'events', 'faults hit', 'failures', 'worst ms'],
      rows.map((r) => [
        r.cell,
        String(r.runs),
        String(r.commands),
        String(r.misuse),
        String(r.events),
        String(r.droppedReplies + r.disconnects + r.resyncs),
        String(r.failures),
        r.worstLatencyMs.toFixed(1),
      ]),
    );
  const total = (key: 'runs' | 'commands' | 'events' | 'failures') => rows.reduce((sum, r) => sum + r[key], 0);
  if (rows.length > 0)
    console.log(`total: ${total('runs')} runs, ${total('commands')} commands, ${total('events')} events, ${total('failures')} failures (seed ${seed})`);
  if (gatewayRows.length > 0) {
    console.log('');
    printTable(
      ['gateway model', 'runs', 'packets', 'replies', 'events', 'hang-ups', 'cut off', 'failures'],
      gatewayRows.map((r) => [
        r.cell,
        String(r.runs),
        String(r.packets),
        String(r.replies),
        String(r.events),
        String(r.disconnects),
        String(r.cutOffs),
        String(r.failures),
      ]),
    );
  }
  for (const r of [...rows, ...gatewayRows]) {
    if (r.report !== undefined) console.log(`\n== ${r.cell} ==\n${r.report}`);
  }
  if (total('failures') + gatewayRows.reduce((sum, r) => sum + r.failures, 0) > 0) process.exitCode = 1;
}

await main();
