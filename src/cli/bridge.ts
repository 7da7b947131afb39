import type { Command as CliProgram } from 'commander';
import { FlamingoClient } from '../client/client.js';
import { abortOnSignals, exitWithUsageCode } from './exit.js';
import { parseHostPort } from './gateway.js';
import { addMqttOptions, startGatewayBridge, type MqttCliOptions } from './mqtt-options.js';
import { ExitCode } from './options.js';

interface BridgeCliOptions extends MqttCliOptions {
  upstream: { host: string; port: number };
}

async function runBridge(o: BridgeCliOptions): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let client: FlamingoClient;
  try {
    client = await FlamingoClient.connect({ host: o.upstream.host, port: o.upstream.port, reconnect: { whileDown: 'fail' } });
  } catch (error) {
    process.stderr.write(`flamingo bridge: ${(error as Error).message}\n`);
    return ExitCode.UNAVAILABLE;
  }
  let bridge: { close(): Promise<void> } | undefined;
  try {
    bridge = await startGatewayBridge(client, o, out);
  } catch (error) {
    process.stderr.write(`flamingo bridge: ${(error as Error).message}\n`);
    await client.close();
    return ExitCode.UNAVAILABLE;
  }
  out(`instrument ${o.upstream.host}:${o.upstream.port} (${client.mode} mode)`);
  const stop = abortOnSignals();
  await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  stop.dispose();
  await bridge?.close();
  await client.close();
  out('closed');
  return ExitCode.OK;
}

/** `flamingo bridge`: publish one instrument to an MQTT broker. */
export function registerBridge(program: CliProgram): void {
  const command = addMqttOptions(
    program
      .command('bridge')
      .description('Publish one instrument to an MQTT broker: availability, state, events; MQTT v5 requests for allowed commands')
      .requiredOption('--upstream <host:port>', 'the instrument (or flamingo sim / gateway) command port', parseHostPort),
  ).addHelpText(
    'after',
    '\nTopics: flamingo/NAME/availability, /state, /events/COMMAND, /request/COMMAND (MQTT v5 response topic + correlation data).\nRead-only by default: --allow-read for queries, --allow for actions.',
  );
  exitWithUsageCode(command).action(async (options: BridgeCliOptions) => {
    if (options.mqtt === undefined) {
      process.stderr.write('flamingo bridge: --mqtt <url> is required (or --mqtt embedded)\n');
      process.exitCode = ExitCode.USAGE;
      return;
    }
    process.exitCode = await runBridge(options);
  });
}
