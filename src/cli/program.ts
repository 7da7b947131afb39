import { Command as CliProgram } from 'commander';
import { createRequire } from 'node:module';
import { registerLive } from './live.js';
import { registerConform } from './conform.js';
import { registerSend } from './send.js';
import { registerWatch } from './watch.js';
import { registerDemo } from './demo.js';
import { registerSim } from './sim.js';
import { registerGateway } from './gateway.js';
import { exitWithUsageCode } from './exit.js';
import { registerCapture } from './capture.js';
import { registerReplay } from './replay.js';
import { registerBridge } from './bridge.js';

// One line per subcommand: each file exports a register function and owns its options.
const commands: Array<(program: CliProgram) => void> = [
  registerLive,
  registerConform,
  registerSend,
  registerWatch,
  registerDemo,
  registerSim,
  registerGateway,
  registerCapture,
  registerReplay,
  registerBridge,
];

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

/** Build the `flamingo` program (exported so tests can drive it in-process). */
export function buildProgram(): CliProgram {
  const program = new CliProgram('flamingo')
    .description('Talk to a Flamingo light-sheet microscope (or its simulator) over its TCP control protocol')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true);
  // Before the subcommands are added, so each inherits it: a mistyped subcommand and a bad
  // option of ANY subcommand exit with 64 (README "Exit codes"), not commander's 1.
  exitWithUsageCode(program);
  for (const register of commands) register(program);
  return program;
}
