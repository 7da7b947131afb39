import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBroker } from '../../src/apps/bridge/embedded-broker.js';
import { tempDir } from './capture-helpers.js';

/** A broker a test can stop and start again on the same port. */
export interface TestBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop for good and remove what it wrote. */
  dispose(): Promise<void>;
}

/** A free loopback port (bound and released; the broker binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** aedes in-process. */
export async function aedesBroker(): Promise<TestBroker> {
  let running = await startEmbeddedBroker({ port: 0 });
  const port = running.port;
  let stopped = false;
  return {
    url: running.url,
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await running.close();
    },
    start: async () => {
      running = await startEmbeddedBroker({ port });
      stopped = false;
    },
    dispose: async () => {
      if (!stopped) await running.close();
      stopped = true;
    },
  };
}

/**
 * A real mosquitto (Debian's package) on a free port with a generated config: loopback
 * only, anonymous, no persistence (so a restart loses retained messages, which is what
 * the republish test needs). Ready when it logs that it is running.
 */
export async function mosquittoBroker(binary: string): Promise<TestBroker> {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type all', ''].join('\n'));
  let child: ChildProcess | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      let log = '';
      const timer = setTimeout(() => fail(new Error(`mosquitto did not start within 10 s:\n${log}`)), 10_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(error);
      };
      const onExit = (code: number | null) => fail(new Error(`mosquitto exited with ${code}:\n${log}`));
      proc.once('error', fail);
      proc.once('exit', onExit);
      proc.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (/running/.test(log) && /listen socket on port/.test(log)) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          proc.off('error', fail);
          resolve();
        }
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      child = null;
      if (proc === null || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    start,
    stop,
    dispose: async () => {
      await stop();
      cleanup();
    },
  };
}

/** A test subscriber that collects every message and waits for a matching one. */
export class Subscriber {
  readonly messages: { topic: string; text: string; retain: boolean; correlationData: Buffer | undefined }[] = [];
  private waiters: { match: (m: Subscriber['messages'][number]) => boolean; resolve: (m: Subscriber['messages'][number]) => void }[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, text: payload.toString('utf8'), retain: packet.retain, correlationData: packet.properties?.correlationData };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }
  static async connect(url: string, topics: string[], protocolVersion: 4 | 5): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 100 });
    const s = new Subscriber(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return s;
  }
  /** The first message (already received or coming) that matches. */
  next(match: (m: Subscriber['messages'][number]) => boolean, ms = 10_000, from = 0): Promise<Subscriber['messages'][number]> {
    const seen = this.messages.slice(from).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching MQTT message within ${ms} ms; got ${JSON.stringify(this.messages.map((m) => m.topic))}`)),
        ms,
      );
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
