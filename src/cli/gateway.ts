import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import { DEFAULT_GATEWAY_PORT, FlamingoGateway } from '../apps/gateway/gateway.js';
import { GATEWAY_OPTIONS_SCHEMA } from '../apps/gateway/gateway-options.js';
import { connectAdvice } from '../format/format.js';
import { connectErrorIn, stopQuietlyOnBrokenPipe, untilStopSignal, usageError } from './exit.js';
import { ExitCode, ruleOption } from './options.js';
import { addGatewayTlsOptions, gatewayTlsFromOptions, type GatewayTlsCliOptions } from './gateway-tls.js';
import { addMqttOptions, startGatewayBridge, type MqttCliOptions } from './mqtt-options.js';
import { jsonLogger, logGatewayJson } from './gateway-log.js';

interface GatewayCliOptions extends GatewayTlsCliOptions, MqttCliOptions {
  upstream: { host: string; port: number };
  upstreamLivePort?: number;
  listen: { host: string; port: number };
  token?: string;
  readOnlyPort?: number;
  quiet?: boolean;
  http?: { host: string; port: number };
  logJson?: boolean;
}

/** `HOST:PORT`, `[v6]:PORT`, or just `PORT` (host 127.0.0.1). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:53717');
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '127.0.0.1' : host, port };
}

async function runGateway(options: GatewayCliOptions): Promise<void> {
  const json = options.logJson === true ? jsonLogger() : null;
  const out = json === null ? (line: string) => process.stdout.write(`${line}\n`) : (line: string) => json.info({ event: 'startup' }, line);
  let stopOnBrokenPipe = async (): Promise<void> => undefined;
  stopQuietlyOnBrokenPipe(() => stopOnBrokenPipe());
  const tls = gatewayTlsFromOptions(options);
  const gateway = await FlamingoGateway.start({
    ...(tls !== undefined ? { tls } : {}),
    upstreamHost: options.upstream.host,
    upstreamPort: options.upstream.port,
    ...(options.upstreamLivePort !== undefined ? { upstreamLivePort: options.upstreamLivePort } : {}),
    host: options.listen.host,
    port: options.listen.port,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.readOnlyPort !== undefined ? { readOnlyPort: options.readOnlyPort } : {}),
    ...(options.http !== undefined ? { http: options.http } : {}),
  });
  stopOnBrokenPipe = () => gateway.close();
  const { host, port: listenPort, livePort, readOnlyPort, httpPort } = gateway.address;
  // The first line is a contract: scripts and tests read the port from it.
  out(`listening on ${host}:${listenPort}`);
  out(`upstream ${options.upstream.host}:${options.upstream.port} (${gateway.mode} mode)`);
  if (livePort !== undefined) out(`live images on ${host}:${livePort}`);
  if (readOnlyPort !== undefined) out(`read-only on ${host}:${readOnlyPort}`);
  if (httpPort !== undefined) out(`${tls !== undefined ? 'https' : 'http'} on ${options.http?.host ?? host}:${httpPort} (/health, /metrics, dashboard at /)`);
  if (options.token !== undefined) out('clients must send GATEWAY_HELLO with the token first');
  if (tls !== undefined) out(`TLS${tls.ca !== undefined ? ', client certificates required' : ''}`);
  for (const warning of gateway.warnings) process.stderr.write(`flamingo gateway: warning: ${warning}\n`);
  if (json !== null) logGatewayJson(gateway, json);
  else if (options.quiet !== true) gateway.on('log', out);
  const bridge = await startGatewayBridge(gateway.upstream, options, out);
  const signal = await untilStopSignal();
  out(`${signal}: closing`);
  await bridge?.close();
  await gateway.close();
  out('closed');
}

/** `flamingo gateway`: share one microscope connection among many apps. */
export function registerGateway(program: CliProgram): void {
  addMqttOptions(addGatewayTlsOptions(program.command('gateway')))
    .description('Share one microscope connection among many apps: replies routed back, events to all, leases across apps')
    .requiredOption('--upstream <host:port>', 'the microscope (or flamingo sim) command port', parseHostPort)
    .option('--upstream-live-port <port>', "the microscope's live-image port (default: upstream port + 1)", ruleOption(GATEWAY_OPTIONS_SCHEMA.upstreamLivePort))
    .option('--listen <host:port>', 'address for the apps; not loopback requires --token', parseHostPort, { host: '127.0.0.1', port: DEFAULT_GATEWAY_PORT })
    .option('--token <token>', 'access token every app sends first (GATEWAY_HELLO; flamingo send, watch and live take it as --token)')
    .option('--read-only-port <port>', 'extra port whose apps get events and query replies only', ruleOption(GATEWAY_OPTIONS_SCHEMA.readOnlyPort))
    .option('--quiet', 'print only the startup lines')
    .option('--http <host:port>', 'serve /health, /metrics and a live dashboard (loopback unless --token is set)', parseHostPort)
    .option('--log-json', 'write every log line as a JSON object (pino), startup lines included')
    .action(async (options: GatewayCliOptions, command: CliProgram) => {
      try {
        await runGateway(options);
      } catch (error) {
        // A half-given TLS pair is a bad command line (exit 64), found only once the action runs.
        if (error instanceof InvalidArgumentError) usageError(command, error.message);
        // A runtime failure, not a usage error: no help. Unreachable instrument: 69 with advice.
        const unreachable = connectErrorIn(error);
        if (unreachable !== undefined) {
          process.stderr.write(`flamingo gateway: ${connectAdvice(unreachable, options.upstream.host, options.upstream.port)}\n`);
          process.exitCode = ExitCode.UNAVAILABLE;
          return;
        }
        process.stderr.write(`flamingo gateway: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = ExitCode.FAILURE;
      }
    });
}
