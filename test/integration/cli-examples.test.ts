import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listenTcp } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { ensureBuilt, root } from '../support/build.js';
import { run, start } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

// The example imports 'flamingo-protocol' by name: inside the repository that is the built dist.
beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

const acquire = path.join(root, 'examples/acquire.mjs');

async function sim(options: ConstructorParameters<typeof SimulatedMicroscope>[0]) {
  const s = new SimulatedMicroscope(options);
  cleanups.push(() => s.close());
  const { port, livePort } = await s.listen({ port: 0 });
  return { sim: s, port: String(port), livePort: String(livePort) };
}

const liveAndTiles = path.join(root, 'examples/live-and-tiles.mjs');

function tempPng(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'flamingo-example-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'snap.png');
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

describe('examples/live-and-tiles.mjs (child process against the simulator)', () => {
  for (const echoSequence of [true, false]) {
    it(`prepares a laser, crops, saves a PNG snapshot and runs 21 tiles (${echoSequence ? 'sequenced' : 'lease'} mode)`, async () => {
      // 21 tiles over 1.5 s of real time: the example confirms a tile run's start by a 500 ms busy poll.
      const { sim: s, port, livePort } = await sim({ echoSequence, timeScale: 20, workflowDurationMs: 30_000 });
      const png = tempPng();
      const r = await run(['--port', port, '--live-port', livePort, '--laser', '3', '--percent', '12.5', '--crop', '1024x512', '--png', png], cleanups, {
        script: liveAndTiles,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        [
          `connected to 127.0.0.1:${port}`,
          'laser 3 at 12.5 % ready on the left path',
          'camera cropped to 1024 x 512',
          `snapshot 128 x 64 saved to ${png}`,
          // FOV 0.000406 mm/px: x 512 px = 0.2079 mm → ceil(1.2079 / 0.1871) = 7; y 1024 px = 0.4157 mm → ceil(0.9157 / 0.3742) = 3.
          'tile workflow sent: 21 tiles',
          ...Array.from({ length: 21 }, (_, i) => `tile ${i + 1}/21`),
          'done: 21 tiles',
          '',
        ].join('\n'),
      );
      expect([...readFileSync(png).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const after = s.snapshot();
      expect(after.roi).toEqual({ left: 513, top: 769, width: 1024, height: 512 });
      expect(after.lasers.map((l) => l.previewOn)).toEqual([false, false, true, false]);
      // prepareLive leaves the right path as it was (0x7007 is never sent, spec/vocabulary.md); the simulator starts with both on.
      expect(after.illumination).toEqual({ left: true, right: true });
      expect(after.workflowsRun).toBe(1);
    });
  }

  it('Ctrl-C during the tiles stops the workflow, closes the connection and exits 130', async () => {
    const { sim: s, port, livePort } = await sim({ timeScale: 1, workflowDurationMs: 600_000 });
    const disconnected = new Promise((resolve) => s.once('disconnect', resolve));
    const child = start(['--port', port, '--live-port', livePort, '--png', tempPng()], cleanups, { script: liveAndTiles });
    // Default crop 1024 x 1024: 0.4157 mm FOV, step 0.3742 mm → x ceil(1.4157 / 0.3742) = 4, y ceil(0.9157 / 0.3742) = 3.
    await child.line(/^tile workflow sent: 12 tiles$/);
    child.child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\nstopped after 0 of 12 tiles\n$/);
    await disconnected;
    expect(s.records.map((rec) => rec.name)).toContain('CAMERA_WORKFLOW_STOP');
    expect(s.snapshot().workflow).toBeNull();
  });
});
