import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import { FlamingoError } from '../../protocol/errors.js';
import { Command } from '../../protocol/commands.js';
import { DEFAULT_PORT, LIVE_PORT_OFFSET } from '../../protocol/constants.js';
import type { ImageFrame } from '../../protocol/image.js';
import { FlamingoClient } from '../client/client.js';
import { LiveStream } from '../live/live-stream.js';
import { connectGateway } from '../apps/gateway/extension.js';
import { addGatewayClientOptions, GATEWAY_REFUSED, gatewayAccessFromOptions, type GatewayAccess, type GatewayClientCliOptions } from './gateway-client.js';
import { frameToPng } from '../live/png.js';
import { connectErrorIn, usageError } from './exit.js';
import { TIMER_RULE } from '../../protocol/options-schema.js';
import { ExitCode, integerOption, ruleOption, UsageError } from './options.js';

interface LiveOptions extends GatewayClientCliOptions {
  host: string;
  port: number;
  livePort?: number;
  png?: string;
  frames: number;
  timeoutMs: number;
  start?: boolean;
  depth: 8 | 16;
}

function depth(text: string): 8 | 16 {
  if (text === '8') return 8;
  if (text === '16') return 16;
  throw new InvalidArgumentError('expected 8 or 16');
}

/**
 * Switch live view over the command port. Sent without the callback flag (fire-and-forget,
 * as the GUI does), so nothing waits for a reply; the client's one reader takes whatever
 * the server pushes meanwhile.
 */
async function commandLiveView(client: FlamingoClient, on: boolean): Promise<void> {
  await client.send(on ? Command.CAMERA_LIVE_VIEW_START : Command.CAMERA_LIVE_VIEW_STOP);
}

/**
 * Did a gateway refuse the token? It closes a connection whose hello carries the wrong token
 * (the live port and the command port alike) without a word, so with --token a stream that
 * ends, or a control link that closes, before the first frame or options header is taken
 * as a refusal. A timeout, a connect failure or a bad frame header is not.
 */
function refusedBeforeFirstFrame(error: unknown, options: LiveOptions, stream: LiveStream | undefined): boolean {
  if (options.token === undefined || stream === undefined || stream.received > 0 || stream.optionsUpdates > 0) return false;
  if (error instanceof FlamingoError) return error.code === 'CLOSED';
  // The connection's own error (a reset instead of a clean close) ends the stream too.
  return stream.isClosed && connectErrorIn(error) === undefined;
}

async function runLive(options: LiveOptions, access: GatewayAccess): Promise<string> {
  const livePort = options.livePort ?? options.port + LIVE_PORT_OFFSET;
  // With --token each connection (image port, and the --start control) writes the hello first.
  const connect = (port: number) => connectGateway({ host: options.host, port, connectTimeoutMs: options.timeoutMs, ...access });
  let control: FlamingoClient | undefined;
  let stream: LiveStream | undefined;
  try {
    // Connect to the image port first, so no frame is missed once live view starts.
    stream = new LiveStream(await connect(livePort), { maxBuffered: 1 });
    if (options.start === true) {
      // Lease mode: no probe request, since only fire-and-forget packets are sent.
      control = await FlamingoClient.connect({ mode: 'lease', connectTimeoutMs: options.timeoutMs, transport: () => connect(options.port) });
      await commandLiveView(control, true);
    }
    // The header carries no frame number (spec/protocol.md §9): frames are numbered here, in
    // the order they arrive. Options-only headers are not frames: they neither count nor end the wait.
    const numberOf = new WeakMap<ImageFrame, number>();
    const live = stream;
    live.on('frame', (f) => numberOf.set(f, live.received));
    let frame: ImageFrame | undefined;
    for (let i = 0; i < options.frames; i++) frame = await stream.nextFrame(options.timeoutMs);
    if (frame === undefined) throw new Error('no frame');
    const { width, height, deviceIndex } = frame.header;
    let line = `frame ${numberOf.get(frame) ?? stream.received}: ${width}x${height}, camera ${deviceIndex}`;
    if (options.png !== undefined) {
      const { png, window } = frameToPng(frame, { bitDepth: options.depth });
      await writeFile(options.png, png);
      const depth = window === undefined ? ' (16-bit)' : ` (contrast ${window.low}..${window.high})`;
      line += `, saved ${options.png}${depth}`;
    }
    if (stream.dropped > 0) line += `, ${stream.dropped} older frames skipped`;
    return line;
  } catch (error) {
    if (refusedBeforeFirstFrame(error, options, stream)) throw new Error(GATEWAY_REFUSED, { cause: error });
    throw error;
  } finally {
    // Leave the instrument as found: live view that this command started is stopped again.
    if (control !== undefined) {
      await commandLiveView(control, false).catch(() => {});
      await control.close();
    }
    await stream?.close();
  }
}

/** README "Exit codes": 69 unreachable, 3 no frame (or connection) in time, else 1. */
function exitCodeOf(error: unknown): number {
  if (connectErrorIn(error) !== undefined) return ExitCode.UNAVAILABLE;
  if (error instanceof Error && 'code' in error && error.code === 'TIMEOUT') return ExitCode.TIMEOUT;
  return ExitCode.FAILURE;
}

function explain(error: unknown, options: LiveOptions): string {
  const message = error instanceof Error ? error.message : String(error);
  const unreachable = connectErrorIn(error);
  if (unreachable !== undefined) {
    const which = unreachable.port === options.port ? 'the command port' : 'the live-image port, command port + 1';
    return `${unreachable.message} (${which}). Is the microscope, or a simulator, running on ${unreachable.host}? Start one with \`flamingo sim --port ${options.port}\`.`;
  }
  if (error instanceof Error && 'code' in error && error.code === 'TIMEOUT' && options.start !== true) {
    return `${message}. Live view may be off: start it from the instrument, or pass --start.`;
  }
  return message;
}

/** `flamingo live`: save a frame of the live-image stream as a PNG. */
export function registerLive(program: CliProgram): void {
  addGatewayClientOptions(
    program
      .command('live')
      .description('Wait for a frame on the live-image port (command port + 1) and save it as a PNG')
      .option('--host <host>', 'instrument address', '127.0.0.1')
      .option('--port <port>', 'command port', integerOption(1, 65535), DEFAULT_PORT)
      .option('--live-port <port>', 'live-image port (default: command port + 1)', integerOption(1, 65535))
      .option('--png <file>', 'write the frame here as a grayscale PNG')
      .option('--depth <bits>', '8: auto-contrast (0.5-99.5 percentile); 16: raw values', depth, 8)
      .option('--frames <n>', 'wait for this many frames and save the last', integerOption(1, 1_000_000), 1)
      .option('--timeout-ms <ms>', 'give up when the connection or a frame takes longer', ruleOption(TIMER_RULE), 5000)
      .option('--start', 'send CAMERA_LIVE_VIEW_START first (and STOP when done)'),
  )
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 1 failure (also: the gateway closed the connection before a frame, wrong or missing --token),',
        '            3 no frame in time, 64 bad command line, 69 cannot connect.',
        'Through a gateway: --token is sent first on the live-image connection and on the --start control connection;',
        "the gateway's live port is its port + 1 unless it says otherwise (then --live-port).",
        'Example: flamingo live --host scope-pc --port 53800 --token s3cret --start --png frame.png',
      ].join('\n'),
    )
    .action(async (options: LiveOptions, command: CliProgram) => {
      let access: GatewayAccess;
      try {
        access = gatewayAccessFromOptions(options);
      } catch (error) {
        if (error instanceof UsageError) usageError(command, error.message);
        throw error;
      }
      try {
        process.stdout.write(`${await runLive(options, access)}\n`);
      } catch (error) {
        // A runtime failure, not a usage error: no help text, the reason and its exit code.
        process.stderr.write(`flamingo live: ${explain(error, options)}\n`);
        process.exitCode = exitCodeOf(error);
      }
    });
}
