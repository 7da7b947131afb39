import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import { DEFAULT_PORT } from '../../protocol/constants.js';
import { parseFaultSpec, type FaultSpec } from '../../mocks/fault-spec.js';
import { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';
import { stopQuietlyOnBrokenPipe, untilStopSignal } from './exit.js';
import { SIMULATOR_OPTIONS_SCHEMA } from '../../mocks/simulator-options-schema.js';
import { ruleOption } from './options.js';
import { LISTEN_OPTIONS_SCHEMA } from '../client/options-schema.js';
import { addReplayOptions, runReplaySim } from './sim-replay.js';
import { attachSimLog, BatchedLog } from './sim-log.js';

interface SimOptions {
  port: number;
  host: string;
  legacy?: boolean;
  sequenced?: boolean;
  bareSettings?: boolean;
  faults?: FaultSpec;
  seed: number;
  timeScale: number;
  workflowMs?: number;
  quiet?: boolean;
  replay?: string;
  strict?: boolean;
  verbose?: boolean;
}

// Number options take the simulator's own rules (mocks/simulator-options-schema.ts).
const seed = ruleOption(SIMULATOR_OPTIONS_SCHEMA.seed);
const timeScale = ruleOption(SIMULATOR_OPTIONS_SCHEMA.timeScale);
const workflowMs = ruleOption(SIMULATOR_OPTIONS_SCHEMA.workflowDurationMs);

function faults(text: string): FaultSpec {
  try {
    return parseFaultSpec(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

async function runSim(options: SimOptions): Promise<void> {
  if (options.replay !== undefined) return runReplaySim({ ...options, replay: options.replay });
  const sim = new SimulatedMicroscope({
    // The default behaves like the instrument (no sequence echo); --legacy names that default.
    echoSequence: options.sequenced === true,
    ...(options.bareSettings === true && { settingsFraming: 'bare' as const }),
    seed: options.seed,
    timeScale: options.timeScale,
    ...(options.faults !== undefined && { faults: options.faults }),
    ...(options.workflowMs !== undefined && { workflowDurationMs: options.workflowMs }),
    // Nobody can read the records of a CLI simulator: keep none, compute nothing for them.
    maxRecords: 0,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  stopQuietlyOnBrokenPipe(() => sim.close());
  const address = await sim.listen({ port: options.port, host: options.host });
  // The first line is a contract: scripts and tests read the port from it.
  out(`listening on ${address.host}:${address.port}`);
  out(`live images on ${address.host}:${address.livePort}`);
  const log = new BatchedLog((text) => process.stdout.write(text));
  const stopLog = attachSimLog(sim, options.quiet === true ? 'quiet' : options.verbose === true ? 'verbose' : 'summary', log);
  const signal = await untilStopSignal();
  stopLog();
  out(`${signal}: closing`);
  await sim.close();
  // Disconnect lines of the close itself.
  log.flush();
  out('closed');
}

/** `flamingo sim`: run the simulated microscope on a TCP port. */
export function registerSim(program: CliProgram): void {
  addReplayOptions(program.command('sim'))
    .description('Run a simulated Flamingo microscope (stage, lasers, camera, workflows) on a TCP port')
    .option('--port <port>', 'TCP port; 0 picks a free one', ruleOption(LISTEN_OPTIONS_SCHEMA.port), DEFAULT_PORT)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--sequenced', "echo each request's sequence fields in its reply (this project's extension; the instrument does not)")
    .option('--legacy', 'accepted for compatibility: the default already behaves like the instrument (no sequence echo)')
    .option('--bare-settings', 'send the settings text bare after a 0x1007 packet with addDataBytes 0 (default: counted in addDataBytes)')
    .option('--faults <spec>', 'inject faults, e.g. fragment=1..64,delay=5..20,garbage=0.1,drop=0.05,disconnect=200,flood=1000/s,slow=500ms', faults)
    .option('--seed <n>', 'seed of every random fault choice', seed, 1)
    .option('--time-scale <x>', 'run motion and workflows x times faster', timeScale, 1)
    .option('--workflow-ms <ms>', 'instrument time of every workflow (default: planes / frame rate)', workflowMs)
    .option('--quiet', 'print only the listening lines')
    .option('--verbose', 'one log line per command (default: one summary line per second that saw commands)')
    .action(async (options: SimOptions) => {
      try {
        await runSim(options);
      } catch (error) {
        process.stderr.write(`flamingo sim: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
