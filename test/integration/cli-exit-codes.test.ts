/**
 * The README's exit-code table is what the CLI does: one run per code (issue 18, defect 9:
 * a mistyped subcommand and bad options to sim/gateway/live exited 1 instead of 64, an
 * unreachable upstream 1 instead of 69, a live frame timeout 1 instead of 3, and
 * `flamingo sim | head -2` printed an EPIPE stack trace).
 */
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { FlamingoClient } from 'flamingo-protocol';
import { ensureBuilt } from '../support/build.js';
import { run, start, startSimCli } from '../support/cli-process.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();

/** A loopback port nobody listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('issue 18 defect 9: CLI exit codes match the README table', () => {
  it('0: success', async () => {
    const sim = await startSimCli(cleanups);
    const result = await run(['send', 'SYSTEM_STATE_GET', '--port', String(sim.port)], cleanups);
    expect(result.code).toBe(0);
  });

  it('1: a runtime failure (the gateway cannot listen on a port that is taken)', async () => {
    const sim = await startSimCli(cleanups);
    const result = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', `127.0.0.1:${sim.port}`, '--quiet'], cleanups);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EADDRINUSE|in use/);
  });

  it('1: flamingo watch --record to a file that cannot be opened: a message, no stack trace (issue 16)', async () => {
    const sim = await startSimCli(cleanups);
    const file = '/nonexistent-flamingo-dir/watch.jsonl';
    const result = await run(['watch', '--port', String(sim.port), '--record', file, '--count', '1'], cleanups);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`flamingo watch: recording not started: cannot write ${file}:`);
    expect(result.stderr).toContain('ENOENT');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('2: the reply had a failure status', async () => {
    const sim = await startSimCli(cleanups);
    const result = await run(['send', 'STAGE_POSITION_SET', '--axis', '1', '--value', '1000', '--port', String(sim.port)], cleanups);
    expect(result.code).toBe(2);
  });

  it('3: no frame in time (flamingo live)', async () => {
    const sim = await startSimCli(cleanups);
    const livePort = (await sim.process.line(/^live images on [^:]+:(\d+)$/))[1] as string;
    // Live view is off (no --start): the connection opens, no frame comes.
    const result = await run(['live', '--port', String(sim.port), '--live-port', livePort, '--timeout-ms', '200'], cleanups);
    expect(result.stderr).toContain('flamingo live:');
    expect(result.code).toBe(3);
  });

  it.each([
    ['a mistyped subcommand', ['simm']],
    ['sim --seed x', ['sim', '--seed', 'x']],
    ['sim --time-scale 0', ['sim', '--time-scale', '0']],
    ['sim --bogus', ['sim', '--bogus']],
    ['gateway --upstream nope', ['gateway', '--upstream', 'nope']],
    ['gateway without --upstream', ['gateway']],
    ['live --frames 0', ['live', '--frames', '0']],
    ['live --timeout-ms above 2^31-1', ['live', '--timeout-ms', '2147483648']],
    ['send --timeout-ms -1', ['send', 'SYSTEM_STATE_GET', '--timeout-ms', '-1']],
  ])('64: bad command line: %s', async (_, args) => {
    const result = await run(args, cleanups);
    expect(result.code).toBe(64);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it.each([
    ['gateway', (port: number) => ['gateway', '--upstream', `127.0.0.1:${port}`, '--quiet']],
    ['live', (port: number) => ['live', '--port', String(port), '--timeout-ms', '2000']],
    ['send', (port: number) => ['send', 'SYSTEM_STATE_GET', '--port', String(port)]],
  ])('69: %s cannot reach its server, and says how to start a simulator', async (_, args) => {
    const port = await closedPort();
    const result = await run(args(port), cleanups);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('flamingo sim');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('flamingo sim whose reader went away (| head -2) stops with 0 and no EPIPE stack trace', async () => {
    const sim = start(['sim', '--port', '0'], cleanups);
    const port = Number((await sim.line(/^listening on [^:]+:(\d+)$/))[1]);
    sim.child.stdout?.destroy(); // the reader is gone: the next line the sim prints hits EPIPE
    // Its next line (the live port, or the log line of a connection) hits the closed pipe.
    await FlamingoClient.connect({ port, mode: 'lease' })
      .then((client) => client.request('SYSTEM_STATE_GET').finally(() => client.close()))
      .catch(() => undefined);
    const result = await sim.done;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.stderr).toBe('');
  });
});
