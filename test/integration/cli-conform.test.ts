import { beforeAll, describe, expect, it } from 'vitest';
import { listenTcp } from 'flamingo-protocol';
import { ensureBuilt } from '../support/build.js';
import { run, startSimCli } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

const CHECK_COUNT = 20;

/** The table rows: check name → result word. */
function rows(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n').slice(2)) {
    const m = /^([a-z-]+)\s+(PASS|FAIL|INFO)\s/.exec(line);
    if (m !== null) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

describe('flamingo conform (child processes)', () => {
  for (const sequenced of [false, true]) {
    it(`passes with zero FAIL against \`flamingo sim${sequenced ? ' --sequenced' : ''}\` (real time)`, async () => {
      const sim = await startSimCli(cleanups, sequenced ? ['--sequenced'] : []);
      const result = await run(['conform', '--port', String(sim.port)], cleanups);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const table = rows(result.stdout);
      expect(table.size).toBe(CHECK_COUNT);
      expect([...table.entries()].filter(([, word]) => word !== 'PASS')).toEqual([
        ['sequence-echo', 'INFO'],
        ['zero-length-move', 'INFO'],
      ]);
      expect(result.stdout).toMatch(/^check\s+result\s+time\s+reason\n/);
      expect(result.stdout).toMatch(new RegExp(`\\n\\n18 passed, 0 failed, 2 info in [\\d.]+ m?s against 127\\.0\\.0\\.1:${sim.port}\\n$`));
      expect(result.stdout).toContain(sequenced ? 'clientId 0x5E0C0001 echoed' : 'no echo (clientId 0 in the reply, like published firmware)');
      const stopped = await sim.stop();
      expect(stopped.code).toBe(0);
    });
  }

  it('--json prints one parseable report; --only narrows it', async () => {
    const sim = await startSimCli(cleanups, ['--time-scale', '20']);
    const result = await run(['conform', '--port', String(sim.port), '--json', '--only', 'markers,zero-length-move'], cleanups);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; server: string; results: { name: string; status: string }[] };
    expect(report.ok).toBe(true);
    expect(report.server).toBe(`127.0.0.1:${sim.port}`);
    expect(report.results.map((r) => [r.name, r.status])).toEqual([
      ['markers', 'pass'],
      ['zero-length-move', 'info'],
    ]);
  });

  it('exits 1 with FAIL rows when the server does not conform', async () => {
    // A server that accepts connections and never answers.
    const silent = await listenTcp({ port: 0 }, (t) => t.attach({ data: () => {}, close: () => {} }));
    cleanups.push(() => silent.close());
    const result = await run(['conform', '--port', String(silent.port), '--only', 'markers', 'laser-bad-index', '--reply-timeout-ms', '100'], cleanups);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('markers          FAIL');
    expect(result.stdout).toContain('no reply to SYSTEM_STATE_GET within 100 ms');
    expect(result.stdout).toContain('no reply to LASER_LEVEL_GET(int32Data0 99) within 100 ms');
    expect(result.stdout).toMatch(/0 passed, 2 failed, 0 info in .* — NOT CONFORMANT\n$/);
  });

  it('names host:port, suggests `flamingo sim` and exits 69 when nothing listens', async () => {
    const gone = await listenTcp({ port: 0 }, () => {});
    await gone.close();
    const result = await run(['conform', '--port', String(gone.port)], cleanups);
    expect(result.code).toBe(69);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `flamingo conform: cannot connect to 127.0.0.1:${gone.port}: connection refused. Is the microscope, or a simulator, listening on 127.0.0.1:${gone.port}? Start one with \`flamingo sim --port ${gone.port}\`.\n`,
    );
  });

  it('exits 64 with suggestions and usage for an unknown check or a bad flag', async () => {
    const unknown = await run(['conform', '--only', 'marker'], cleanups);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toBe(
      'error: unknown check "marker". Did you mean markers? Run `flamingo conform --list` for the checks.\nUsage: flamingo conform [options]\n(run with --help for usage)\n',
    );
    const badFlag = await run(['conform', '--port', 'eighty'], cleanups);
    expect(badFlag.code).toBe(64);
    expect(badFlag.stderr).toBe(
      "error: option '--port <port>' argument 'eighty' is invalid. expected an integer from 1 to 65535\n(run with --help for usage)\n",
    );
  });

  it('--list and --help exit 0', async () => {
    const list = await run(['conform', '--list'], cleanups);
    expect(list.code).toBe(0);
    expect(rows(list.stdout).size).toBe(0);
    expect(
      list.stdout
        .split('\n')
        .slice(2, -1)
        .map((l) => l.split(/\s+/)[0]),
    ).toHaveLength(CHECK_COUNT);
    const help = await run(['conform', '--help'], cleanups);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: flamingo conform [options]');
    expect(help.stdout).toContain('Exit codes: 0 all checks pass, 1 a check failed, 64 bad command line, 69 cannot connect.');
  });
});
