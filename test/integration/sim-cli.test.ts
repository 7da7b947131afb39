import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, ensureBuilt, root } from '../support/build.js';
import { Command, dataText, STATUS_FAILED, STATUS_OK } from 'flamingo-protocol';
import { tcpClient } from '../support/sim-harness.js';

const cli = cliPath;

beforeAll(ensureBuilt, 180_000);

/** A running `flamingo sim` child with its output split into lines. */
class SimProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  private partial = '';
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        const i = this.waiters.findIndex((w) => w.match(line));
        if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(line);
      }
    });
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  line(match: (l: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line; got:\n${this.lines.join('\n')}\n${this.stderr}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }
}

const running: SimProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
});

async function startSim(...args: string[]): Promise<{ proc: SimProcess; port: number }> {
  const proc = new SimProcess(spawn(process.execPath, [cli, 'sim', '--port', '0', ...args], { cwd: root }));
  running.push(proc);
  const first = await proc.line(() => true);
  const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(first);
  expect(m, `first line: ${first}`).not.toBeNull();
  return { proc, port: Number(m?.[1]) };
}

describe('flamingo sim (child process)', () => {
  it('prints the port first, logs one line per command with --verbose, and exits 0 on SIGTERM', async () => {
    const { proc, port } = await startSim('--time-scale', '1000', '--sequenced', '--verbose');
    const { client, socket } = await tcpClient(port);
    // Never answered (as on the instrument): the level read back shows it was applied.
    client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 2, data: '12.50', clientId: 77, cmdDataBits0: 0x80000000 });
    const reply = await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 2, clientId: 78 });
    expect([reply.status, reply.int32Data0, reply.clientId, dataText(reply)]).toEqual([STATUS_OK, 2, 78, '12.50']);
    const moved = await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 9 });
    expect(moved.status).toBe(STATUS_OK);
    await client.next((p) => p.code === Command.STAGE_MOTION_STOPPED);
    client.send({ code: 0x9999 });
    expect(await proc.line((l) => l.includes('LASER_LEVEL_SET'))).toBe('#1 LASER_LEVEL_SET i0=2 data="12.50" seq=77 -> no reply');
    expect(await proc.line((l) => l.includes('STAGE_POSITION_SET'))).toBe('#1 STAGE_POSITION_SET i0=1 value=9 -> status 1');
    expect(await proc.line((l) => l.includes('UNKNOWN'))).toBe('#1 UNKNOWN_0x9999 -> no reply');
    socket.destroy();
    await proc.line((l) => l === '#1 disconnected');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.lines.slice(-2)).toEqual(['SIGTERM: closing', 'closed']);
  });

  it('logs by default one summary line per second that saw commands, counted per command name, and no line per command', async () => {
    const { proc, port } = await startSim();
    const { client, socket } = await tcpClient(port);
    for (let i = 1; i <= 3; i++) await client.request({ code: Command.SYSTEM_STATE_GET, clientId: i });
    await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 1, clientId: 4 });
    expect(await proc.line((l) => l.includes('commands in the last second'), 5000)).toBe(
      '4 commands in the last second: SYSTEM_STATE_GET 3, LASER_LEVEL_GET 1',
    );
    socket.destroy();
    await proc.line((l) => l === '#1 disconnected');
    expect(proc.lines.filter((l) => l.includes('->'))).toEqual([]);
  });

  it('--legacy replies without echoing the sequence fields; SIGINT closes open connections', async () => {
    const { proc, port } = await startSim('--legacy');
    const { client } = await tcpClient(port);
    const r = await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 9, clientId: 5, hardwareId: 6 });
    expect([r.status, r.clientId, r.hardwareId, dataText(r)]).toEqual([STATUS_FAILED, 0, 0, 'getLevel error']);
    proc.child.kill('SIGINT');
    await client.whenClosed();
    expect(await proc.exited).toBe(0);
  });

  it('applies --faults with --seed (fragmented replies still decode)', async () => {
    const { port } = await startSim('--faults', 'fragment=1..7,garbage=0.3', '--seed', '9', '--sequenced');
    const { client } = await tcpClient(port);
    for (let i = 1; i <= 5; i++) expect((await client.request({ code: Command.SYSTEM_STATE_GET, clientId: i })).clientId).toBe(i);
    expect(client.deframer.skippedBytes).toBeGreaterThan(0);
  });

  it('rejects a bad fault spec with a message and a failure exit code', async () => {
    const proc = new SimProcess(spawn(process.execPath, [cli, 'sim', '--port', '0', '--faults', 'drop=7'], { cwd: root }));
    running.push(proc);
    expect(await proc.exited).not.toBe(0);
    expect(proc.stderr).toContain('drop: 7 is not a probability');
  });
});
