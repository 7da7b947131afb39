import type { Command as CliProgram } from 'commander';
import { commandName } from '../../protocol/commands.js';
import { Deframer } from '../../protocol/deframer.js';
import type { Packet } from '../../protocol/packet.js';
import { ConnectError, type TcpTransport } from '../../transports/tcp.js';
import { connectGateway } from '../apps/gateway/extension.js';
import { abortOnSignals, exitWithUsageCode, usageError } from './exit.js';
import { addGatewayClientOptions, GATEWAY_REFUSED, gatewayAccessFromOptions, type GatewayAccess, type GatewayClientCliOptions } from './gateway-client.js';
import { addRecordOption, startWatchRecording, type WatchRecording } from './watch-record.js';
import { connectAdvice, formatMs, packetJson, packetLine, timeOfDay } from '../format/format.js';
import { commandFromArgument, ExitCode, integerOption, serverAddressOptions, UsageError } from './options.js';

interface WatchCliOptions extends GatewayClientCliOptions {
  host: string;
  port: number;
  code?: string[];
  json?: boolean;
  count?: number;
  record?: string;
}

/** Packets shown (past --code), and every packet received. */
interface WatchCounts {
  shown: number;
  received: number;
}

/** Why the feed ended. */
type End = { kind: 'signal'; name: string } | { kind: 'count' } | { kind: 'closed'; error: Error | undefined };

function codesFrom(command: CliProgram, names: string[] | undefined): Set<number> | undefined {
  if (names === undefined) return undefined;
  const codes = new Set<number>();
  for (const name of names.flatMap((n) => n.split(','))) {
    if (name.trim() === '') continue;
    try {
      codes.add(commandFromArgument(name.trim()));
    } catch (error) {
      if (error instanceof UsageError) usageError(command, error.message);
      throw error;
    }
  }
  return codes;
}

/**
 * Read packets until a signal, `--count` events, or the server closing. The connection
 * sends nothing: every packet that arrives is unsolicited (the server pushes events to
 * every client). Output is written as packets arrive, one line each.
 */
function feed(
  transport: TcpTransport,
  o: WatchCliOptions,
  codes: Set<number> | undefined,
  signal: AbortSignal,
  counts: WatchCounts,
  recording?: WatchRecording,
): Promise<End> {
  return new Promise((resolve) => {
    const started = performance.now();
    let ended = false;
    const end = (why: End) => {
      if (ended) return;
      ended = true;
      signal.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = () => end({ kind: 'signal', name: String((signal.reason as Error | undefined)?.message ?? 'aborted').replace(/^interrupted by /, '') });
    signal.addEventListener('abort', onAbort, { once: true });
    const show = (packet: Packet) => {
      const now = new Date();
      if (o.json === true) {
        process.stdout.write(
          `${JSON.stringify({ time: now.toISOString(), elapsedMs: Math.round((performance.now() - started) * 10) / 10, ...packetJson(packet) })}\n`,
        );
      } else {
        process.stdout.write(`${timeOfDay(now)}  ${packetLine(packet, { labels: true })}\n`);
      }
    };
    const deframer = new Deframer({
      onResync: ({ skippedBytes }) => process.stderr.write(`flamingo watch: skipped ${skippedBytes} bytes that were not packets\n`),
      onError: (error) => process.stderr.write(`flamingo watch: ${error.message}\n`),
    });
    transport.attach({
      data: (chunk) => {
        if (ended) return;
        recording?.chunk(chunk);
        for (const packet of deframer.push(chunk)) {
          counts.received++;
          if (codes !== undefined && !codes.has(packet.code)) continue;
          show(packet);
          counts.shown++;
          if (o.count !== undefined && counts.shown >= o.count) {
            end({ kind: 'count' });
            return;
          }
        }
      },
      close: (error) => end({ kind: 'closed', error }),
    });
    if (signal.aborted) onAbort();
  });
}

async function runWatch(command: CliProgram, o: WatchCliOptions): Promise<number> {
  const codes = codesFrom(command, o.code);
  let access: GatewayAccess;
  try {
    access = gatewayAccessFromOptions(o);
  } catch (error) {
    if (error instanceof UsageError) usageError(command, error.message);
    throw error;
  }
  const stop = abortOnSignals();
  // Reading stops with `| head`: that is the reader's choice, not an error to report.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.OK);
  });
  let transport: TcpTransport;
  try {
    // With --token the hello is written first; afterwards this connection sends nothing.
    transport = await connectGateway({ host: o.host, port: o.port, signal: stop.signal, ...access });
  } catch (error) {
    stop.dispose();
    if (error instanceof ConnectError && error.code === 'ABORTED') return 130;
    if (error instanceof ConnectError) {
      process.stderr.write(`flamingo watch: ${connectAdvice(error, o.host, o.port)}\n`);
      return ExitCode.UNAVAILABLE;
    }
    process.stderr.write(`flamingo watch: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.FAILURE;
  }
  const started = performance.now();
  const filter = codes === undefined ? 'unsolicited events' : [...codes].map(commandName).join(', ');
  process.stderr.write(`flamingo watch: watching ${o.host}:${o.port} for ${filter} (Ctrl-C to stop)\n`);
  const counts: WatchCounts = { shown: 0, received: 0 };
  let recording: WatchRecording | undefined;
  try {
    try {
      recording = await startWatchRecording(o.record, transport, o.host, o.port);
    } catch (error) {
      // An unusable --record file is a runtime failure (exit 1, as `flamingo capture --out`),
      // not a usage error: the command line was well formed (README, "Exit codes").
      process.stderr.write(`flamingo watch: recording not started: ${(error as Error).message}\n`);
      return ExitCode.FAILURE;
    }
    const why = await feed(transport, o, codes, stop.signal, counts, recording);
    const summary = `${counts.shown} event${counts.shown === 1 ? '' : 's'} in ${formatMs(performance.now() - started)}`;
    // A gateway refuses a wrong token by closing the connection without a word (the hello
    // asks for no reply); a gateway that accepted it sends nothing until an event.
    if (why.kind === 'closed' && why.error === undefined && o.token !== undefined && counts.received === 0) {
      process.stderr.write(`flamingo watch: ${GATEWAY_REFUSED}; ${summary}\n`);
      return ExitCode.FAILURE;
    }
    if (why.kind === 'closed') {
      process.stderr.write(
        `flamingo watch: ${why.error === undefined ? 'the server closed the connection' : `connection lost: ${why.error.message}`}; ${summary}\n`,
      );
      return why.error === undefined ? ExitCode.OK : ExitCode.FAILURE;
    }
    process.stderr.write(`flamingo watch: ${why.kind === 'signal' ? `stopped by ${why.name}` : 'done'}; ${summary}\n`);
    return ExitCode.OK;
  } finally {
    stop.dispose();
    await recording?.end('watch ended');
    await transport.close();
  }
}

/** `flamingo watch`: a live feed of the unsolicited events a server pushes. */
export function registerWatch(program: CliProgram): void {
  const command = addGatewayClientOptions(
    serverAddressOptions(
      addRecordOption(program.command('watch')).description(
        'Print the unsolicited events a server pushes (motion stopped, workflow progress, …) as they arrive',
      ),
    ),
  )
    .option('--code <names...>', 'show only these events (names or codes, comma or space separated)')
    .option('--json', 'one JSON object per line (time, elapsedMs, name, code and every field)')
    .option('--count <n>', 'stop after this many events', integerOption(1, Number.MAX_SAFE_INTEGER))
    .addHelpText(
      'after',
      [
        '',
        'Ends on Ctrl-C (SIGINT), SIGTERM, --count, or when the server closes the connection (exit 0).',
        'Exit codes: 1 connection lost with an error, or closed before any packet with --token (the gateway refused the token),',
        '            64 bad command line, 69 cannot connect.',
        'Example: flamingo watch --code STAGE_MOTION_STOPPED SYSTEM_STATE_IDLE --json | jq .value',
        'Through a gateway: flamingo watch --host scope-pc --port 53800 --token s3cret',
      ].join('\n'),
    );
  exitWithUsageCode(command).action(async (options: WatchCliOptions) => {
    process.exitCode = await runWatch(command, options);
  });
}
