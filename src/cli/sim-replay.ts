import type { Command as CliProgram } from 'commander';
import { loadCapture } from '../apps/capture/capture-file.js';
import { ReplayServer } from '../apps/capture/replay-server.js';
import { buildReplayScript } from '../apps/capture/replay-script.js';
import { abortOnSignals } from './exit.js';
import { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';

/** The options `flamingo sim` gains for replay. */
export function addReplayOptions(command: CliProgram): CliProgram {
  return command
    .option('--replay <file.jsonl>', 'answer as this capture did (spec/capture.md §Replay); the model answers the rest')
    .option('--strict', 'with --replay: close a client that asks what the capture lacks');
}

/** `flamingo sim --replay FILE`: serve a capture's answers. */
export async function runReplaySim(o: { replay: string; strict?: boolean; port: number; host: string; quiet?: boolean; seed: number }): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const script = buildReplayScript((await loadCapture(o.replay)).records);
  const server = new ReplayServer(script, { strict: o.strict === true, model: new SimulatedMicroscope({ seed: o.seed }) });
  const address = await server.listen(o.port, o.host);
  // The first line is a contract: scripts and tests read the port from it.
  out(`listening on ${address.host}:${address.port}`);
  out(`replaying ${script.exchanges.length} recorded requests from ${o.replay}${o.strict === true ? ' (strict)' : ''}`);
  server.on('miss', ({ conn, name, strict }) => out(`#${conn} ${name}: not in the recording${strict ? '; connection closed' : '; answered by the model'}`));
  if (o.quiet !== true) {
    server.on('log', out);
    server.on('replayed', ({ conn, name }) => out(`#${conn} ${name}: replayed`));
  }
  const stop = abortOnSignals();
  await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  stop.dispose();
  await server.close();
  out(`closed: ${server.counts.replayed} replayed, ${server.counts.missed} not in the recording`);
}
