import { beforeAll, describe, expect, it } from 'vitest';
import { Command, FlamingoClient } from 'flamingo-protocol';
import { ensureBuilt } from '../support/build.js';
import { run, start, startSimCli } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

interface Record {
  level: number;
  name: string;
  msg: string;
  event: string;
  session?: number;
  end?: string;
  reason?: string;
}

describe('flamingo gateway --http --log-json (child process)', () => {
  it('serves /health and writes one JSON record per line, startup lines included', async () => {
    const sim = await startSimCli(cleanups, ['--time-scale', '1000']);
    cleanups.push(() => sim.stop());
    const gateway = start(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--log-json'], cleanups);
    const first = await gateway.line(/"msg":"listening on 127\.0\.0\.1:(\d+)"/);
    const http = await gateway.line(/"msg":"http on 127\.0\.0\.1:(\d+) \(\/health, \/metrics, dashboard at \/\)"/);
    const health = (await (await fetch(`http://127.0.0.1:${http[1] as string}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');

    const app = await FlamingoClient.connect({ port: Number(first[1]) });
    await app.request(Command.SYSTEM_STATE_GET);
    await gateway.line(/"event":"opened"/);
    await app.close();
    await gateway.line(/"event":"closed"/);
    gateway.child.kill('SIGTERM');
    const done = await gateway.done;
    expect(done.code).toBe(0);

    const records = done.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record);
    expect(records[0]).toMatchObject({ level: 30, name: 'flamingo-gateway', event: 'startup', msg: `listening on 127.0.0.1:${first[1] as string}` });
    expect(records.find((r) => r.event === 'opened')).toMatchObject({ session: 1, msg: '#1 connected' });
    expect(records.find((r) => r.event === 'closed')).toMatchObject({ session: 1, end: 'peer', reason: 'disconnected' });
    expect(records[records.length - 1]).toMatchObject({ event: 'startup', msg: 'closed' });
  });

  it('refuses --http off loopback without a token', async () => {
    const sim = await startSimCli(cleanups, ['--time-scale', '1000']);
    cleanups.push(() => sim.stop());
    const result = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0', '--http', '0.0.0.0:0'], cleanups);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('flamingo gateway: serving HTTP on 0.0.0.0 (not loopback) requires a token\n');
  });
});
