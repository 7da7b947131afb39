import fs from 'node:fs';
import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import type { IClientOptions } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../apps/bridge/embedded-broker.js';
import { MqttBridge } from '../apps/bridge/mqtt-bridge.js';
import { parseAllowList } from '../apps/bridge/topics.js';
import type { FlamingoClient } from '../client/client.js';

/** MQTT options shared by `flamingo bridge` and `flamingo gateway --mqtt`. */
export interface MqttCliOptions {
  mqtt?: string;
  name?: string;
  allowRead?: boolean;
  allow?: Set<number>;
  stateRate?: number;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttCa?: string;
  mqttCert?: string;
  mqttKey?: string;
  embeddedPort?: number;
}

function allowList(text: string): Set<number> {
  try {
    return parseAllowList(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function rate(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw new InvalidArgumentError('expected a number > 0 and ≤ 100');
  return n;
}

/** Add the MQTT options to a command. */
export function addMqttOptions(command: CliProgram): CliProgram {
  return command
    .option('--mqtt <url>', 'publish to this MQTT broker (mqtt://, mqtts://, ws://…), or `embedded` for an in-process broker')
    .option('--name <name>', 'instrument name in the topics flamingo/<name>/…', 'flamingo')
    .option('--allow-read', 'let MQTT send queries (the read-only set)')
    .option('--allow <codes>', 'let MQTT send these actions (names or codes, comma separated)', allowList)
    .option('--state-rate <n>', 'retained state messages per second at most', rate, 2)
    .option('--mqtt-username <user>', 'broker user name')
    .option('--mqtt-password <password>', 'broker password (or MQTT_PASSWORD in the environment)')
    .option('--mqtt-ca <file.pem>', 'CA for an mqtts:// broker')
    .option('--mqtt-cert <file.pem>', 'client certificate for the broker')
    .option('--mqtt-key <file.pem>', 'key of --mqtt-cert')
    .option('--embedded-port <port>', 'port of --mqtt embedded (default 1883; 0 picks one)', (t) => Number(t));
}

function mqttClientOptions(o: MqttCliOptions): IClientOptions {
  const password = o.mqttPassword ?? process.env.MQTT_PASSWORD;
  return {
    ...(o.mqttUsername !== undefined ? { username: o.mqttUsername } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(o.mqttCa !== undefined ? { ca: fs.readFileSync(o.mqttCa) } : {}),
    ...(o.mqttCert !== undefined ? { cert: fs.readFileSync(o.mqttCert) } : {}),
    ...(o.mqttKey !== undefined ? { key: fs.readFileSync(o.mqttKey) } : {}),
  };
}

/** Start the bridge for `client` when --mqtt was given (and the embedded broker for `embedded`). */
export async function startGatewayBridge(
  client: FlamingoClient,
  o: MqttCliOptions,
  out: (line: string) => void,
): Promise<{ close(): Promise<void> } | undefined> {
  if (o.mqtt === undefined) return undefined;
  let broker: EmbeddedBroker | undefined;
  let url = o.mqtt;
  if (o.mqtt === 'embedded') {
    broker = await startEmbeddedBroker({ port: o.embeddedPort ?? 1883 });
    url = broker.url;
    out(`embedded MQTT broker on ${url}`);
  }
  try {
    const bridge = await MqttBridge.start(client, {
      url,
      name: o.name ?? 'flamingo',
      allowRead: o.allowRead === true,
      allow: o.allow ?? [],
      stateRateHz: o.stateRate ?? 2,
      mqtt: mqttClientOptions(o),
    });
    bridge.on('log', out);
    const allowed = [o.allowRead === true ? 'queries' : '', (o.allow?.size ?? 0) > 0 ? `${o.allow?.size} action(s)` : ''].filter((s) => s !== '');
    out(
      `MQTT bridge on ${url}: ${bridge.topics.availability.replace(/\/availability$/, '/#')}; requests: ${allowed.length === 0 ? 'none (read-only)' : allowed.join(' and ')}`,
    );
    return {
      close: async () => {
        await bridge.close();
        await broker?.close();
      },
    };
  } catch (error) {
    await broker?.close();
    throw error;
  }
}
