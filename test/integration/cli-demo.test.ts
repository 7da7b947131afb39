import { beforeAll, describe, expect, it } from 'vitest';
import { listenTcp } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { ensureBuilt } from '../support/build.js';
import { run, start } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

async function sim(options: ConstructorParameters<typeof SimulatedMicroscope>[0]) {
  const s = new SimulatedMicroscope(options);
  cleanups.push(() => s.close());
  const { port } = await s.listen({ port: 0 });
  return { sim: s, port: String(port) };
}

/** Positions of `lines` matching each pattern, in the order given (-1 when missing). */
function order(lines: string[], patterns: RegExp[]): number[] {
  return patterns.map((p) => lines.findIndex((l) => p.test(l)));
}

describe('flamingo demo (child process)', () => {
  it('`npm start` (demo, no options): embedded simulator, moves, events, workflow, lasers, settings; exits 0 by itself', async () => {
    const r = await run(['demo'], cleanups);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Started the embedded simulator on 127\.0\.0\.1:\d+ \(sequenced extension on to show pipelining; the instrument echoes no sequence \(--legacy\), real speed\); --host\/--port use a real server instead$/,
    );
    expect(lines[1]).toMatch(/^Connected to 127\.0\.0\.1:\d+: sequenced mode \(the server echoes sequence numbers/);
    const positions = order(lines, [
      /^Moving the stage: X 7\.500 → 9\.500 mm, Y 15\.000 → 17\.500 mm$/,
      /^ {2}event {2}STAGE_MOTION_STOPPED status=1 int32Data0=1 \[axis\] value=9\.5 \[final position\]$/,
      /^ {2}X 100% 9\.500 mm, reached$/,
      /^Stage at X 9\.500 mm, Y 17\.500 mm after /,
      /^Acquiring a 80-plane stack at X 9\.500, Y 17\.500, Z 16\.500 mm \(\d+-byte workflow file\)$/,
      /^ {2}event {2}UI_SET_GAUGE_SIZE status=1 int32Data0=80 \[progress maximum\]$/,
      /^ {2}stack {2}50% 40\/80 planes$/,
      /^ {2}event {2}UI_IMAGES_SAVED_TO_STORAGE status=1 int32Data0=80 \[images saved\]$/,
      /^Stack complete: 80\/80 images, 0 errors, 2\.\d s of acquisition/,
      /^Laser levels: laser 1 5\.00 %, laser 2 5\.00 %, laser 3 5\.00 %, laser 4 5\.00 %$/,
      /^Settings: Flamingo simulator \(T, X, L, V SPIM, objective 16×\)$/,
      /^ {2}stage limits X 1\.\.15 mm, Y 5\.\.25 mm, Z 8\.\.25 mm, R -720\.\.720°$/,
      /^Demo finished in [\d.]+ m?s\. Next: `flamingo sim`/,
    ]);
    expect(
      positions.every((p) => p >= 0),
      `missing lines:\n${r.stdout}`,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // The stale idle right after the start, and the real one at the end.
    expect(lines.filter((l) => l === '  event  SYSTEM_STATE_IDLE status=1')).toHaveLength(2);
    // Not a terminal: milestone lines only, no control characters for the CI log.
    expect(r.stdout).not.toMatch(/\x1b|\r/);
    // Positions read 0.000 while moving (as on the instrument): the bars only report the end.
    expect(lines.filter((l) => /^ {2}Y +\d+%/.test(l)).map((l) => l.slice(0, 7))).toEqual(['  Y 100']);
  });

  it('--legacy: the probe finds no sequence echo and the client uses lease mode', async () => {
    const r = await run(['demo', '--legacy', '--time-scale', '20', '--planes', '10'], cleanups);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Started the embedded simulator on 127\.0\.0\.1:\d+ \(like the instrument: no sequence echo, 20× speed\)/);
    expect(r.stdout).toContain(': lease mode (the server echoes no sequence number, so one request is in flight at a time');
    expect(r.stdout).toContain('Stack complete: 10/10 images, 0 errors');
  });

  it('--host/--port run against that server (no embedded simulator), and the instrument really moved', async () => {
    const { sim: s, port } = await sim({ echoSequence: false, timeScale: 20 });
    const r = await run(['demo', '--host', '127.0.0.1', '--port', port, '--planes', '5', '--move-mm', '1'], cleanups);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('embedded simulator');
    expect(r.stdout.split('\n')[0]).toMatch(`Connected to 127.0.0.1:${port}: lease mode`);
    expect(r.stdout).toContain('Moving the stage: X 7.500 → 8.500 mm, Y 15.000 → 16.250 mm\n');
    const after = s.snapshot();
    expect(after.stage.map((a) => a.position).slice(0, 2)).toEqual([8.5, 16.25]);
    expect(after.workflowsRun).toBe(1);
  });

  it('Ctrl-C during a move halts the stage, closes, and exits 130', async () => {
    const { sim: s, port } = await sim({ timeScale: 1 });
    const disconnected = new Promise((resolve) => s.once('disconnect', resolve));
    const child = start(['demo', '--port', port, '--move-mm', '5'], cleanups);
    await child.line(/^Moving the stage: /);
    child.child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('flamingo demo: stopped by SIGINT; stage halted\n');
    const x = s.snapshot().stage[0];
    expect(x?.moving).toBe(false);
    expect(x?.position).toBeLessThan(12.5);
    await disconnected;
    expect(s.connections).toBe(0);
  });

  it('names host:port and suggests `flamingo sim` when the server is not there (exit 69)', async () => {
    const gone = await listenTcp({ port: 0 }, () => {});
    await gone.close();
    const r = await run(['demo', '--port', String(gone.port)], cleanups);
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(
      `flamingo demo: cannot connect to 127.0.0.1:${gone.port}: connection refused. Is the microscope, or a simulator, listening on 127.0.0.1:${gone.port}? Start one with \`flamingo sim --port ${gone.port}\`.\n`,
    );
  });
});
