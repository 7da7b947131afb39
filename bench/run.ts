/**
 * Bench runner (`npm run bench` = `node dist/bench/run.js`, after `npm run build`).
 *
 * Runs every registered suite in order. Each suite prints its own human-readable table
 * and returns named figures; the LAST line this runner prints is exactly one JSON object
 * merging the figures of all suites, so scripts can `tail -n 1` it.
 *
 * `node dist/bench/run.js codec` runs only the named suites. Before the JSON line, a table
 * of the targets whose figures were measured (bench/targets.ts), met or missed.
 */
import { codecSuite } from './codec.js';
import { liveSuite } from './live.js';
import { clientSuite } from './client.js';
import { gatewaySuite } from './gateway.js';
import { uploadSuite } from './upload.js';
import { memorySuite } from './memory.js';
import { simSuite } from './sim.js';
import { observeSuite } from './observe.js';
import type { BenchSuite } from './suite.js';
import { reportTargets } from './targets.js';
import { pinMeasuringProcess, pinningDescription } from './pinning.js';

/** Registered suites, run in this order. To add one: import it above and list it here. */
const SUITES: readonly BenchSuite[] = [codecSuite, liveSuite, clientSuite, simSuite, gatewaySuite, uploadSuite, memorySuite, observeSuite];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !SUITES.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
    process.exitCode = 2;
  }
  pinMeasuringProcess();
  console.log(`bench: ${pinningDescription()}`);
  const figures: Record<string, number> = {};
  for (const suite of SUITES) {
    if (only.length > 0 && !only.includes(suite.name)) continue;
    console.log(`\n== ${suite.name} ==`);
    try {
      Object.assign(figures, await suite.run());
    } catch (error) {
      // One broken suite must not hide the others' figures; the exit code still tells.
      console.error(`suite ${suite.name} failed:`, error);
      process.exitCode = 1;
    }
  }
  // Missed targets are reported, not an exit code: figures on a shared machine are noisy,
  // and a script that wants a verdict reads the JSON line.
  reportTargets(figures);
  console.log(JSON.stringify(figures));
}

await main();
