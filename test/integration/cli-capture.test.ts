import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command, FlamingoClient } from '../../src/index.js';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { parseCapture } from '../../src/apps/capture/capture-format.js';
import { ensureBuilt } from '../support/build.js';
import { run, start, startSimCli } from '../support/cli-process.js';
import { tempDir } from '../support/capture-helpers.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);
const cleanups = cleanedUpAfterEach();

describe('flamingo capture / replay / sim --replay / watch --record', () => {
  it('records a session through the CLI proxy, replays it as a server, and checks it with flamingo replay', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 'session.jsonl');
    const sim = await startSimCli(cleanups, ['--time-scale', '1000']);
    const capture = start(['capture', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0', '--out', file, '--quiet'], cleanups);
    const port = Number((await capture.line(/^listening on [^:]+:(\d+)$/))[1]);
    const client = await FlamingoClient.connect({ port, mode: 'lease' });
    await client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
    await client.request(Command.SYSTEM_STATE_GET);
    await client.close();
    capture.child.kill('SIGINT');
    const captured = await capture.done;
    expect(captured.code).toBe(0);
    expect(captured.stdout).toMatch(/^\d+ records written to .*session\.jsonl$/m);
    const { records } = parseCapture(fs.readFileSync(file, 'utf8'));
    expect(records.filter((r) => r.type === 'packet' && r.dir === 'c2s').map((r) => (r as { name: string }).name)).toEqual([
      'STAGE_POSITION_GET',
      'SYSTEM_STATE_GET',
    ]);
    await sim.stop();

    const replaying = start(['sim', '--replay', file, '--strict', '--port', '0', '--quiet'], cleanups);
    const replayPort = Number((await replaying.line(/^listening on [^:]+:(\d+)$/))[1]);
    const same = await run(['replay', file, '--port', String(replayPort)], cleanups);
    expect([same.code, same.stdout]).toEqual([0, '#1 (conn 1) STAGE_POSITION_GET: same\n#2 (conn 1) SYSTEM_STATE_GET: same\n']);
    expect(same.stderr).toBe('flamingo replay: 2 requests, 2 same, 0 different\n');

    fs.writeFileSync(path.join(dir, 'cut.jsonl'), fs.readFileSync(file, 'utf8').slice(0, 700));
    const cut = await run(['replay', path.join(dir, 'cut.jsonl'), '--port', String(replayPort)], cleanups);
    expect(cut.code).toBe(65);
    expect(cut.stderr).toMatch(/cut\.jsonl line \d+: not JSON \(a truncated or corrupt line\)\n$/);
  });

  it('watch --record writes the pushed events in the capture format', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 'watch.jsonl');
    const sim = new SimulatedMicroscope({ timeScale: 1000 });
    const { port } = await sim.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => sim.close());
    const connected = new Promise<void>((resolve) => sim.once('connection', () => resolve()));
    const watch = start(['watch', '--port', String(port), '--count', '1', '--record', file], cleanups);
    await connected;
    sim.broadcast({ code: Command.SYSTEM_STATE_IDLE, status: 1 });
    expect((await watch.done).code).toBe(0);
    const { header, records } = parseCapture(fs.readFileSync(file, 'utf8'));
    expect(header.source).toBe('flamingo watch');
    expect(records.map((r) => r.type)).toEqual(['open', 'packet', 'close', 'end']);
    expect(records[1]).toMatchObject({ dir: 's2c', name: 'SYSTEM_STATE_IDLE', fields: { status: 1 } });
  });
});
