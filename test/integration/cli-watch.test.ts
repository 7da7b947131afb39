import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflowText, Command, encodePacket } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { ProbeConnection } from '../../src/apps/conformance/probe.js';
import { ensureBuilt } from '../support/build.js';
import { run, start } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';
import { PACKET_FIELDS_IN_WIRE_ORDER } from '../support/packets.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

async function sim() {
  const s = new SimulatedMicroscope({ timeScale: 100 });
  cleanups.push(() => s.close());
  const { port } = await s.listen({ port: 0 });
  return { sim: s, port };
}

/** Start `flamingo watch` and resolve once the simulator has accepted its connection. */
async function watch(s: SimulatedMicroscope, port: number, extra: string[] = []) {
  const connected = new Promise<void>((resolve) => s.once('connection', () => resolve()));
  const child = start(['watch', '--port', String(port), ...extra], cleanups);
  await connected;
  return child;
}

/** A raw connection that makes the simulator push events (sent without the callback flag). */
async function trigger(port: number) {
  const conn = await ProbeConnection.open({ host: '127.0.0.1', port });
  cleanups.push(() => conn.destroy());
  return conn;
}

describe('flamingo watch (child process)', () => {
  it('prints each event with a time stamp and labelled fields, and ends cleanly on SIGINT', async () => {
    const { sim: s, port } = await sim();
    const child = await watch(s, port);
    const conn = await trigger(port);
    await conn.write(encodePacket({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 7.55 }));
    await child.line(/STAGE_MOTION_STOPPED/);
    child.child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}STAGE_MOTION_STOPPED status=1 int32Data0=1 \[axis\] value=7\.55 \[final position\]\n$/);
    expect(r.stderr).toMatch(
      new RegExp(
        `^flamingo watch: watching 127\\.0\\.0\\.1:${port} for unsolicited events \\(Ctrl-C to stop\\)\\nflamingo watch: stopped by SIGINT; 1 event in [\\d.]+ m?s\\n$`,
      ),
    );
  });

  it('--json --code filters to the named events, one JSON object per line; --count ends it', async () => {
    const { sim: s, port } = await sim();
    const child = await watch(s, port, ['--json', '--code', 'ui_set_gauge_value,SYSTEM_STATE_IDLE', '--count', '5']);
    const conn = await trigger(port);
    await conn.write(encodePacket({ code: Command.CAMERA_WORKFLOW_START, payload: new TextEncoder().encode(buildWorkflowText({ numberOfPlanes: 3 })) }));
    const r = await child.done;
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // The stale idle the instrument pushes right after a start comes first.
    expect(lines.map((l) => [l.name, l.int32Data0])).toEqual([
      ['SYSTEM_STATE_IDLE', 0],
      ['UI_SET_GAUGE_VALUE', 1],
      ['UI_SET_GAUGE_VALUE', 2],
      ['UI_SET_GAUGE_VALUE', 3],
      ['SYSTEM_STATE_IDLE', 0],
    ]);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['time', 'elapsedMs', 'name', ...PACKET_FIELDS_IN_WIRE_ORDER]);
      expect(new Date(l.time as string).toISOString()).toBe(l.time);
    }
    expect(r.stderr).toMatch(/for UI_SET_GAUGE_VALUE, SYSTEM_STATE_IDLE \(Ctrl-C to stop\)\nflamingo watch: done; 5 events in /);
  });

  it('ends with exit 0 when the server closes, and on SIGTERM', async () => {
    const first = await sim();
    const closing = await watch(first.sim, first.port);
    await first.sim.close();
    const r = await closing.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\nflamingo watch: the server closed the connection; 0 events in [\d.]+ m?s\n$/);

    const second = await sim();
    const terminated = await watch(second.sim, second.port);
    terminated.child.kill('SIGTERM');
    const t = await terminated.done;
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/\nflamingo watch: stopped by SIGTERM; 0 events in /);
  });

  it('exits 64 with close matches for an unknown --code', async () => {
    const r = await run(['watch', '--code', 'STAGE_MOTION_STOPED'], cleanups);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(
      'error: unknown command "STAGE_MOTION_STOPED". Did you mean STAGE_MOTION_STOPPED?\nUsage: flamingo watch [options]\n(run with --help for usage)\n',
    );
  });

  it('exits 69 with advice when nothing listens', async () => {
    const { sim: s, port } = await sim();
    await s.close();
    const r = await run(['watch', '--port', String(port)], cleanups);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(
      `cannot connect to 127.0.0.1:${port}: connection refused. Is the microscope, or a simulator, listening on 127.0.0.1:${port}? Start one with \`flamingo sim --port ${port}\`.`,
    );
  });
});
