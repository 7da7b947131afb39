import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command, FlamingoClient } from 'flamingo-protocol';
import { ensureBuilt } from '../support/build.js';
import { run, start, startSimCli } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

describe('flamingo gateway (child process)', () => {
  it('prints the listening line first, serves apps, logs connections, and exits 0 on SIGTERM', async () => {
    const sim = await startSimCli(cleanups, ['--time-scale', '1000', '--sequenced']);
    cleanups.push(() => sim.stop());
    // Port 0 gave the simulator's live port a free number too, not the command port + 1.
    const simLive = await sim.process.line(/^live images on 127\.0\.0\.1:(\d+)$/);
    const gateway = start(
      ['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--upstream-live-port', simLive[1] as string, '--listen', '127.0.0.1:0', '--read-only-port', '0'],
      cleanups,
    );
    const first = await gateway.line(/^listening on 127\.0\.0\.1:(\d+)$/);
    expect(gateway.stdout().split('\n')[0]).toBe(first[0]);
    const port = Number(first[1]);
    await gateway.line(/^upstream 127\.0\.0\.1:\d+ \(sequenced mode\)$/);
    const gatewayLive = await gateway.line(/^live images on 127\.0\.0\.1:(\d+)$/);
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

    // `flamingo live --start` through the gateway: live view switched on via the gateway,
    // a frame relayed from the simulator's live port, saved as a PNG.
    const png = path.join(mkdtempSync(path.join(tmpdir(), 'gateway-live-')), 'frame.png');
    const live = await run(
      ['live', '--port', String(port), '--live-port', gatewayLive[1] as string, '--start', '--png', png, '--timeout-ms', '10000'],
      cleanups,
    );
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(
      new RegExp(`^frame \\d+: 256x256, camera 0, saved ${png.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(contrast \\d+\\.\\.\\d+\\)`),
    );
    const bytes = readFileSync(png);
    expect([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([256, 256]);
    rmSync(path.dirname(png), { recursive: true });

    gateway.child.kill('SIGTERM');
    const ended = await gateway.done;
    expect(ended.code).toBe(0);
    expect(ended.stdout.trimEnd().split('\n').slice(-3)).toEqual(['SIGTERM: closing', '#1 closed by the gateway', 'closed']);
  });

  it('fails with a reason when the instrument is unreachable (69), a public address has no token (1), or the command line is bad (64)', async () => {
    const sim = await startSimCli(cleanups);
    await sim.stop();
    const unreachable = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0'], cleanups);
    expect(unreachable.code).toBe(69);
    expect(unreachable.stderr).toBe(
      `flamingo gateway: cannot connect to 127.0.0.1:${sim.port}: connection refused. Is the microscope, or a simulator, listening on 127.0.0.1:${sim.port}? Start one with \`flamingo sim --port ${sim.port}\`.\n`,
    );
    const open = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '0.0.0.0:0'], cleanups);
    expect(open.code).toBe(1);
    expect(open.stderr).toBe('flamingo gateway: listening on 0.0.0.0 (not loopback) requires a token\n');
    const usage = await run(['gateway', '--upstream', 'nowhere'], cleanups);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('expected HOST:PORT');
  });
});
