import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listenTcp } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { ensureBuilt, root } from '../support/build.js';
import { run, start, type Cleanups } from '../support/cli-process.js';

// The example imports 'flamingo-protocol' by name: inside the repository that is the built dist.
beforeAll(ensureBuilt, 180_000);

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const acquire = path.join(root, 'examples/acquire.mjs');

async function sim(options: ConstructorParameters<typeof SimulatedMicroscope>[0]) {
  const s = new SimulatedMicroscope(options);
  cleanups.push(() => s.close());
  const { port } = await s.listen({ port: 0 });
  return { sim: s, port: String(port) };
}

describe('examples/acquire.mjs (child process against the simulator)', () => {
  for (const echoSequence of [true, false]) {
    it(`connects, moves, acquires and reports (${echoSequence ? 'sequenced' : 'lease'} mode)`, async () => {
      const { sim: s, port } = await sim({ echoSequence, timeScale: 20 });
      const r = await run(['--port', port, '--x', '9', '--y', '17.5', '--planes', '8'], cleanups, { script: acquire });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        [
          `connected to 127.0.0.1:${port} in ${echoSequence ? 'sequenced' : 'lease'} mode`,
          'moving to X 9 mm, Y 17.5 mm',
          'reached X 9 mm, Y 17.5 mm',
          'acquired 2/8 planes',
          'acquired 4/8 planes',
          'acquired 6/8 planes',
          'acquired 8/8 planes',
          'done: 8/8 images, 0 errors',
          '',
        ].join('\n'),
      );
      const after = s.snapshot();
      expect(after.stage.slice(0, 2).map((a) => a.position)).toEqual([9, 17.5]);
      expect(after.workflowsRun).toBe(1);
    });
  }

  it('Ctrl-C while moving halts the stage, closes the connection and exits 130', async () => {
    const { sim: s, port } = await sim({ timeScale: 1 });
    const disconnected = new Promise((resolve) => s.once('disconnect', resolve));
    const child = start(['--port', port, '--x', '14', '--y', '24'], cleanups, { script: acquire });
    await child.line(/^moving to X 14 mm, Y 24 mm$/);
    child.child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('interrupted while moving; stage halted\n');
    await disconnected;
    const [x, y] = s.snapshot().stage;
    expect([x?.moving, y?.moving]).toEqual([false, false]);
    expect(x?.position).toBeLessThan(14);
    expect(s.records.map((rec) => rec.name)).toContain('STAGE_HALT');
  });

  it('says how to start a simulator when nothing listens (exit 1)', async () => {
    const gone = await listenTcp({ port: 0 }, () => {});
    await gone.close();
    const r = await run(['--port', String(gone.port)], cleanups, { script: acquire });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`cannot connect to 127.0.0.1:${gone.port}: connection refused (start one with: flamingo sim --port ${gone.port})\n`);
  });
});
