import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Command, FlamingoClient } from 'flamingo-protocol';
import { ensureBuilt } from './support/build.js';
import { run, start, startSimCli, type Cleanups } from './support/cli-process.js';

beforeAll(ensureBuilt, 180_000);

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('flamingo gateway (child process)', () => {
  it('prints the listening line first, serves apps, logs connections, and exits 0 on SIGTERM', async () => {
    const sim = await startSimCli(cleanups, ['--time-scale', '1000']);
    cleanups.push(() => sim.stop());
    const gateway = start(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0', '--read-only-port', '0'], cleanups);
    const first = await gateway.line(/^listening on 127\.0\.0\.1:(\d+)$/);
    expect(gateway.stdout().split('\n')[0]).toBe(first[0]);
    const port = Number(first[1]);
    await gateway.line(/^upstream 127\.0\.0\.1:\d+ \(sequenced mode\)$/);
    await gateway.line(/^live images on 127\.0\.0\.1:\d+$/);
    const readOnly = await gateway.line(/^read-only on 127\.0\.0\.1:(\d+)$/);

    const app = await FlamingoClient.connect({ port });
    cleanups.push(() => app.close());
    const reply = await app.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
    expect([reply.status, reply.int32Data0]).toEqual([1, 1]);
    await gateway.line(/^#1 connected from 127\.0\.0\.1:\d+$/);
    const viewer = await FlamingoClient.connect({ port: Number(readOnly[1]) });
    const refused = await viewer.request(Command.STAGE_HOME);
    expect(refused.status).toBe(0);
    await viewer.close();
    await gateway.line(/^#2 connected from 127\.0\.0\.1:\d+ \(read-only\)$/);
    await gateway.line(/^#2 disconnected$/);

    gateway.child.kill('SIGTERM');
    const ended = await gateway.done;
    expect(ended.code).toBe(0);
    expect(ended.stdout.trimEnd().split('\n').slice(-3)).toEqual(['SIGTERM: closing', '#1 closed by the gateway', 'closed']);
  });

  it('fails with a reason (exit 1) when the instrument is unreachable or a public address has no token', async () => {
    const sim = await startSimCli(cleanups);
    await sim.stop();
    const unreachable = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0'], cleanups);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`flamingo gateway: cannot connect to 127.0.0.1:${sim.port}: connection refused\n`);
    const open = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '0.0.0.0:0'], cleanups);
    expect(open.code).toBe(1);
    expect(open.stderr).toBe('flamingo gateway: listening on 0.0.0.0 (not loopback) requires a token\n');
    const usage = await run(['gateway', '--upstream', 'nowhere'], cleanups);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('expected HOST:PORT');
  });
});
