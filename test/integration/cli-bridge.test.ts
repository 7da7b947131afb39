import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { run, start, startSimCli } from '../support/cli-process.js';
import { freePort, Subscriber } from '../support/mqtt-brokers.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);
const cleanups = cleanedUpAfterEach();

describe('flamingo gateway --mqtt embedded / flamingo bridge', () => {
  it('the gateway runs an in-process broker and publishes the instrument to it', async () => {
    const sim = await startSimCli(cleanups, ['--time-scale', '1000']);
    const mqttPort = await freePort();
    const gateway = start(
      [
        'gateway',
        '--upstream',
        `127.0.0.1:${sim.port}`,
        '--listen',
        '127.0.0.1:0',
        '--mqtt',
        'embedded',
        '--embedded-port',
        String(mqttPort),
        '--name',
        'cli',
        '--quiet',
      ],
      cleanups,
    );
    await gateway.line(/^MQTT bridge on mqtt:\/\/127\.0\.0\.1:\d+: flamingo\/cli\/#; requests: none \(read-only\)$/);
    const sub = await Subscriber.connect(`mqtt://127.0.0.1:${mqttPort}`, ['flamingo/cli/#'], 4);
    cleanups.push(() => sub.close());
    expect((await sub.next((m) => m.topic === 'flamingo/cli/availability')).text).toBe('online');
    gateway.child.kill('SIGINT');
    expect((await gateway.done).code).toBe(0);
  });

  it('flamingo bridge refuses to start without --mqtt, and an unknown --allow name is a usage error', async () => {
    const missing = await run(['bridge', '--upstream', '127.0.0.1:1'], cleanups);
    expect([missing.code, missing.stderr]).toEqual([64, 'flamingo bridge: --mqtt <url> is required (or --mqtt embedded)\n']);
    const badAllow = await run(['bridge', '--upstream', '127.0.0.1:1', '--mqtt', 'embedded', '--allow', 'STAGE_FLY'], cleanups);
    expect(badAllow.code).toBe(64);
    expect(badAllow.stderr).toMatch(/unknown command "STAGE_FLY"/);
  });
});
