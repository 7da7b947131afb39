import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflowText, Command, DEFAULT_SETTINGS_TEXT, Flags, listenTcp } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { ensureBuilt } from '../support/build.js';
import { run } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();
const dir = mkdtempSync(path.join(tmpdir(), 'flamingo-cli-send-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sim(options: ConstructorParameters<typeof SimulatedMicroscope>[0] = {}) {
  const s = new SimulatedMicroscope({ timeScale: 100, ...options });
  cleanups.push(() => s.close());
  const { port } = await s.listen({ port: 0 });
  return { sim: s, port: String(port) };
}

/** The reply time varies; everything else is exact. */
const steady = (stdout: string) => stdout.replace(/reply in \d+ ms/, 'reply in N ms');

describe('flamingo send (child process)', () => {
  it('prints the request and every decoded field of the reply', async () => {
    const { port } = await sim();
    const r = await run(['send', 'STAGE_POSITION_GET', '--port', port, '--axis', '1'], cleanups);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(steady(r.stdout)).toBe(
      [
        '-> STAGE_POSITION_GET int32Data0=1 flags=TRIGGER_CALL_BACK',
        '<- reply in N ms',
        '  code          0x6008 STAGE_POSITION_GET',
        '  status        1 (ok)',
        '  hardwareId    0',
        '  subsystemId   0',
        '  clientId      0',
        '  int32Data0    1  — axis (echoed)',
        '  int32Data1    0',
        '  int32Data2    0',
        '  cmdDataBits0  0',
        '  value         7.5  — position',
        '  addDataBytes  0',
        '  data          ""',
        '',
      ].join('\n'),
    );
  });

  it('sends --int0 and --data as given (names in any case, - for _), and the instrument takes them', async () => {
    const { sim: s, port } = await sim();
    const r = await run(['send', 'laser-level-set', '--port', port, '--int0', '2', '--data', '7.25'], cleanups);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('-> LASER_LEVEL_SET int32Data0=2 data="7.25" flags=TRIGGER_CALL_BACK');
    expect(s.snapshot().lasers[1]?.level).toBe(7.25);
    expect(s.records.map((x) => [x.name, x.int32Data0, x.data, x.cmdDataBits0])).toEqual([['LASER_LEVEL_SET', 2, '7.25', Flags.TRIGGER_CALL_BACK]]);
  });

  it('accepts a hex code and prints JSON with --json', async () => {
    const { port } = await sim();
    const r = await run(['send', '0xA007', '--port', port, '--json'], cleanups);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { request: Record<string, unknown>; reply: Record<string, unknown>; elapsedMs: number };
    expect(out.request).toMatchObject({ name: 'SYSTEM_STATE_GET', code: 0xa007, cmdDataBits0: Flags.TRIGGER_CALL_BACK });
    expect(out.reply).toMatchObject({ name: 'SYSTEM_STATE_GET', code: 0xa007, status: 1, int32Data0: 0xa002, data: '' });
    expect(typeof out.elapsedMs).toBe('number');
  });

  it('shows a trailing payload: its length and a preview (full text with --json)', async () => {
    const { port } = await sim();
    const r = await run(['send', 'COMMON_SCOPE_SETTINGS_LOAD', '--port', port], cleanups);
    expect(r.code).toBe(0);
    const length = Buffer.byteLength(DEFAULT_SETTINGS_TEXT);
    expect(r.stdout).toContain('  code          0x1007 COMMON_SCOPE_SETTINGS\n');
    expect(r.stdout).toContain(`  addDataBytes  ${length}  — length of the settings text, or 0 with the bare text right after the packet\n`);
    expect(r.stdout).toContain(`  payload       ${length} bytes: <Filter wheel encoder counts>\\r\\n  Filter wheel position 1 = 3840 7\\r\\n`);
    const json = await run(['send', 'COMMON_SCOPE_SETTINGS_LOAD', '--port', port, '--json'], cleanups);
    expect((JSON.parse(json.stdout) as { reply: { payloadBytes: number; payloadText: string } }).reply).toMatchObject({
      payloadBytes: length,
      payloadText: DEFAULT_SETTINGS_TEXT,
    });
  });

  it('uploads --payload-file as the trailing payload (a workflow starts)', async () => {
    const { sim: s, port } = await sim();
    const text = buildWorkflowText({ numberOfPlanes: 2 });
    const file = path.join(dir, 'workflow.txt');
    writeFileSync(file, text);
    const r = await run(['send', 'CAMERA_WORKFLOW_START', '--port', port, '--payload-file', file], cleanups);
    expect(r.code).toBe(0);
    // Never answered: sent as the vendor GUI sends it (flag set), and not waited for.
    expect(r.stdout).toContain('   CAMERA_WORKFLOW_START is not acknowledged by the instrument (spec/commands.json reply "never"); not waiting for a reply\n');
    if (s.records.length === 0) await new Promise((resolve) => s.once('command', resolve));
    expect(s.records[0]?.cmdDataBits0).toBe(0x80000000);
    const record = s.records[0];
    expect(record).toMatchObject({ name: 'CAMERA_WORKFLOW_START', addDataBytes: Buffer.byteLength(text) });
    expect(record?.payloadHash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(s.snapshot().workflowsRun + (s.snapshot().workflow === null ? 0 : 1)).toBe(1);
  });

  it('exits 2 and names the failure when the reply has a failure status', async () => {
    const { port } = await sim();
    const r = await run(['send', 'LASER_LEVEL_GET', '--port', port, '--int0', '9'], cleanups);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('  status        0 (failed)\n');
    expect(r.stdout).toContain('  data          "getLevel error"  — level text "5.00", or "getLevel error"\n');
    expect(r.stderr).toBe('flamingo send: LASER_LEVEL_GET failed with status 0: "getLevel error"\n');
  });

  it('exits 3 with advice when no reply comes in time', async () => {
    const silent = await listenTcp({ port: 0 }, (t) => t.attach({ data: () => {}, close: () => {} }));
    cleanups.push(() => silent.close());
    const r = await run(['send', 'SYSTEM_STATE_GET', '--port', String(silent.port), '--timeout-ms', '200'], cleanups);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('-> SYSTEM_STATE_GET flags=TRIGGER_CALL_BACK\n');
    expect(r.stderr).toBe(
      `flamingo send: no reply to SYSTEM_STATE_GET (0xA007) from 127.0.0.1:${silent.port} within 200 ms. The server may not know this command, or be busy; try --timeout-ms, or \`flamingo watch\` to see what it sends.\n`,
    );
  });

  it('--no-wait sends without TRIGGER_CALL_BACK; never-acknowledged commands are not waited for', async () => {
    const { sim: s, port } = await sim();
    const noWait = await run(['send', 'STAGE_POSITION_GET', '--axis', '3', '--port', port, '--no-wait'], cleanups);
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toBe('-> STAGE_POSITION_GET int32Data0=3\n   sent without TRIGGER_CALL_BACK (--no-wait): no reply expected\n');
    const disable = await run(['send', 'LASER_ALL_DISABLE', '--port', port], cleanups);
    expect(disable.code).toBe(0);
    expect(disable.stdout).toBe(
      '-> LASER_ALL_DISABLE flags=TRIGGER_CALL_BACK\n   LASER_ALL_DISABLE is not acknowledged by the instrument (spec/commands.json reply "never"); not waiting for a reply\n',
    );
    expect(s.records.map((x) => [x.code, x.cmdDataBits0])).toEqual([
      [Command.STAGE_POSITION_GET, 0],
      [Command.LASER_ALL_DISABLE, 0x80000000],
    ]);
  });

  it('--flag adds flag bits', async () => {
    const { sim: s, port } = await sim();
    const r = await run(['send', 'STAGE_POSITION_SET', '--axis', '1', '--value', '7.6', '--flag', 'stage_not_update_client', '--port', port], cleanups);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('-> STAGE_POSITION_SET int32Data0=1 value=7.6 flags=TRIGGER_CALL_BACK|STAGE_NOT_UPDATE_CLIENT');
    expect(s.records[0]?.cmdDataBits0).toBe((Flags.TRIGGER_CALL_BACK | Flags.STAGE_NOT_UPDATE_CLIENT) >>> 0);
  });

  it('exits 64 with close matches and the usage line for an unknown command name', async () => {
    const r = await run(['send', 'STAGE_POSTION_GET'], cleanups);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: unknown command "STAGE_POSTION_GET". Did you mean STAGE_POSITION_GET, STAGE_POSITION_SET?\nUsage: flamingo send [options] <command>\n(run with --help for usage)\n',
    );
  });

  it('exits 64 on bad values: conflicting --axis/--int0, long --data, unknown flag, missing file, bad number', async () => {
    const cases: [string[], string][] = [
      [['send', 'STAGE_POSITION_GET', '--axis', '1', '--int0', '2'], 'error: --axis 1 and --int0 2 both set int32Data0; give one\n'],
      [['send', 'LASER_LEVEL_SET', '--data', 'x'.repeat(73)], 'error: --data is 73 bytes; the data field holds 72 (use --payload-file for more)\n'],
      [
        ['send', 'SYSTEM_STATE_GET', '--flag', 'SAVE_TO_DSK'],
        'error: unknown flag "SAVE_TO_DSK". Did you mean SAVE_TO_DISK? Flags: TRIGGER_CALL_BACK, EXPERIMENT_TIME_REMAINING, STAGE_POSITIONS_IN_BUFFER, MAX_PROJECTION, SAVE_TO_DISK, STAGE_NOT_UPDATE_CLIENT, STAGE_ZSWEEP\n',
      ],
      [
        ['send', 'CAMERA_WORKFLOW_START', '--payload-file', path.join(dir, 'missing.txt')],
        `error: cannot read --payload-file ${path.join(dir, 'missing.txt')}: ENOENT\n`,
      ],
      [['send', 'STAGE_POSITION_GET', '--axis', '5'], "error: option '--axis <n>' argument '5' is invalid. expected an integer from 1 to 4\n"],
    ];
    for (const [args, first] of cases) {
      const r = await run(args, cleanups);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr.startsWith(first), `${args.join(' ')}: ${r.stderr}`).toBe(true);
    }
  });

  it('exits 69, naming host:port and `flamingo sim`, when nothing listens', async () => {
    const gone = await listenTcp({ port: 0 }, () => {});
    await gone.close();
    const r = await run(['send', 'SYSTEM_STATE_GET', '--port', String(gone.port)], cleanups);
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(
      `flamingo send: cannot connect to 127.0.0.1:${gone.port}: connection refused. Is the microscope, or a simulator, listening on 127.0.0.1:${gone.port}? Start one with \`flamingo sim --port ${gone.port}\`.\n`,
    );
  });

  it('--help shows the examples and exit codes', async () => {
    const r = await run(['send', '--help'], cleanups);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: flamingo send [options] <command>');
    expect(r.stdout).toContain('  flamingo send STAGE_POSITION_GET --axis 1\n');
    expect(r.stdout).toContain('Exit codes: 0 reply status 1');
  });
});
