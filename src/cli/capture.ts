import type { Command as CliProgram } from 'commander';
import { createRequire } from 'node:module';
import { DEFAULT_PORT } from '../../protocol/constants.js';
import { CaptureProxy } from '../apps/capture/capture-proxy.js';
import { abortOnSignals, exitWithUsageCode } from './exit.js';
import { ExitCode } from './options.js';
import { parseHostPort } from './gateway.js';

interface CaptureCliOptions {
  upstream: { host: string; port: number };
  listen: { host: string; port: number };
  out: string;
  pcapng?: string;
  quiet?: boolean;
}

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

async function runCapture(o: CaptureCliOptions): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let proxy: CaptureProxy;
  try {
    proxy = await CaptureProxy.start({
      upstreamHost: o.upstream.host,
      upstreamPort: o.upstream.port,
      host: o.listen.host,
      port: o.listen.port,
      out: o.out,
      ...(o.pcapng !== undefined ? { pcapng: o.pcapng } : {}),
      source: `flamingo capture ${version}`,
    });
  } catch (error) {
    process.stderr.write(`flamingo capture: ${(error as Error).message}\n`);
    return ExitCode.FAILURE;
  }
  // The first line is a contract: scripts and tests read the port from it.
  out(`listening on ${proxy.address.host}:${proxy.address.port}`);
  out(`recording ${o.upstream.host}:${o.upstream.port} to ${o.out}${o.pcapng !== undefined ? ` and ${o.pcapng}` : ''}`);
  proxy.on('captureStopped', (message) => process.stderr.write(`flamingo capture: recording stopped: ${message}; traffic is still forwarded\n`));
  if (o.quiet !== true) proxy.on('log', out);
  const stop = abortOnSignals();
  await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  stop.dispose();
  await proxy.close(`stopped by ${stop.received() ?? 'signal'}`);
  out(`${proxy.writer.records} records written to ${o.out}`);
  return proxy.writer.stopped.length === 0 ? ExitCode.OK : ExitCode.FAILURE;
}

/** `flamingo capture`: a transparent recording proxy in front of the instrument. */
export function registerCapture(program: CliProgram): void {
  const command = program
    .command('capture')
    .description('Record every packet between any client and the instrument, unchanged, as JSONL (and pcapng)')
    .requiredOption('--upstream <host:port>', 'the instrument (or flamingo sim) command port', parseHostPort)
    .option('--listen <host:port>', 'address the clients connect to instead of the instrument', parseHostPort, { host: '127.0.0.1', port: DEFAULT_PORT })
    .requiredOption('--out <file.jsonl>', 'the capture (format: spec/capture.md)')
    .option('--pcapng <file.pcapng>', 'the same traffic for Wireshark/tshark (dissector: spec/wireshark/flamingo.lua)')
    .option('--quiet', 'print only the startup lines')
    .addHelpText('after', '\nStops on Ctrl-C. A failing output file stops the recording, never the traffic (exit 1 at the end).');
  exitWithUsageCode(command).action(async (options: CaptureCliOptions) => {
    process.exitCode = await runCapture(options);
  });
}
