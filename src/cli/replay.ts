import type { Command as CliProgram } from 'commander';
import { CaptureFormatError } from '../apps/capture/capture-format.js';
import { loadCapture } from '../apps/capture/capture-file.js';
import { replayAgainst } from '../apps/capture/replay-client.js';
import { formatComparison } from '../apps/capture/replay-compare.js';
import { buildReplayScript } from '../apps/capture/replay-script.js';
import { ConnectError } from '../../transports/tcp.js';
import { exitWithUsageCode } from './exit.js';
import { ExitCode, integerOption, serverAddressOptions } from './options.js';

interface ReplayCliOptions {
  host: string;
  port: number;
  timeout: number;
  grace: number;
  json?: boolean;
}

/** Exit code of a capture that cannot be read (EX_DATAERR). */
const DATA_ERROR = 65;

async function runReplay(file: string, o: ReplayCliOptions): Promise<number> {
  let script;
  try {
    script = buildReplayScript((await loadCapture(file)).records);
  } catch (error) {
    process.stderr.write(`flamingo replay: ${(error as Error).message}\n`);
    return error instanceof CaptureFormatError ? DATA_ERROR : ExitCode.FAILURE;
  }
  try {
    const results = await replayAgainst(script, {
      host: o.host,
      port: o.port,
      replyTimeoutMs: o.timeout,
      graceMs: o.grace,
      onResult: (c) => process.stdout.write(`${o.json === true ? JSON.stringify(c) : formatComparison(c)}\n`),
    });
    const differing = results.filter((r) => r.outcome !== 'same').length;
    process.stderr.write(`flamingo replay: ${results.length} requests, ${results.length - differing} same, ${differing} different\n`);
    return differing === 0 ? ExitCode.OK : ExitCode.FAILURE;
  } catch (error) {
    process.stderr.write(`flamingo replay: ${(error as Error).message}\n`);
    return error instanceof ConnectError ? ExitCode.UNAVAILABLE : ExitCode.FAILURE;
  }
}

/** `flamingo replay FILE`: send a capture's requests to a server and report where replies differ. */
export function registerReplay(program: CliProgram): void {
  const command = serverAddressOptions(
    program
      .command('replay')
      .argument('<file.jsonl>', 'a capture made by flamingo capture or flamingo watch --record')
      .description('Send the client side of a capture to a server and report, per request, where its replies differ from the recorded ones'),
  )
    .option('--timeout <ms>', 'wait for a reply the recording has', integerOption(1, 600_000), 5000)
    .option('--grace <ms>', 'watch for a reply the recording does not have', integerOption(0, 60_000), 200)
    .option('--json', 'one JSON object per request')
    .addHelpText('after', '\nExit codes: 0 every reply as recorded, 1 some differ, 65 unreadable capture, 69 cannot connect.');
  exitWithUsageCode(command).action(async (file: string, options: ReplayCliOptions) => {
    process.exitCode = await runReplay(file, options);
  });
}
