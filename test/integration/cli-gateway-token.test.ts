import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command, Flags, type FlamingoGateway } from 'flamingo-protocol';
import { ensureBuilt } from '../support/build.js';
import { makeTestPki } from '../support/certificates.js';
import { run, start } from '../support/cli-process.js';
import { tempFiles } from '../support/capture-helpers.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';
import { nextGatewayEvent, stacksCleanedUpAfterEach } from '../support/gateway-harness.js';

beforeAll(ensureBuilt, 180_000);

const cleanups = cleanedUpAfterEach();
const startStack = stacksCleanedUpAfterEach();
const TOKEN = 'facility-s3cret';

/** A simulator behind a gateway that wants TOKEN; the CLI's address arguments for it. */
async function tokenStack(sim: { liveFrameWidth?: number; liveFrameHeight?: number } = {}) {
  const stack = await startStack({ sim, gateway: { token: TOKEN } });
  const { port, livePort } = stack.gateway.address;
  return { stack, port: String(port), livePort: String(livePort) };
}

/** Resolves with the next command-port session the gateway closed for its token. */
function nextTokenRefusal(gateway: FlamingoGateway) {
  return nextGatewayEvent(gateway, 'closed', (session) => session.end.kind === 'token');
}

describe('flamingo send --token (through a gateway that wants a token)', () => {
  it('sends GATEWAY_HELLO first: the request is forwarded and its reply printed', async () => {
    const { stack, port } = await tokenStack();
    // A position no axis starts at, so the printed value can only come from the instrument's reply.
    const app = await stack.client({ token: TOKEN });
    await app.stage.moveTo(2, 12.5);
    const r = await run(['send', 'STAGE_POSITION_GET', '--port', port, '--axis', '2', '--token', TOKEN, '--json'], cleanups);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { request: Record<string, unknown>; reply: Record<string, unknown> };
    expect(out.request).toMatchObject({ name: 'STAGE_POSITION_GET', code: Command.STAGE_POSITION_GET, int32Data0: 2, cmdDataBits0: Flags.TRIGGER_CALL_BACK });
    expect(out.reply).toMatchObject({
      name: 'STAGE_POSITION_GET',
      code: Command.STAGE_POSITION_GET,
      status: 1,
      hardwareId: 0,
      subsystemId: 0,
      clientId: 0,
      int32Data0: 2,
      int32Data1: 0,
      int32Data2: 0,
      cmdDataBits0: 0,
      value: 12.5,
      addDataBytes: 0,
      data: '',
    });
    expect(stack.gateway.stats.rejected).toBe(0);
  });

  it('a wrong token: the gateway closes the connection, forwards nothing, and send says so with exit 1', async () => {
    const { stack, port } = await tokenStack();
    const refused = nextTokenRefusal(stack.gateway);
    const r = await run(['send', 'STAGE_POSITION_GET', '--port', port, '--axis', '1', '--token', 'guess'], cleanups);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('-> STAGE_POSITION_GET int32Data0=1 flags=TRIGGER_CALL_BACK\n');
    expect(r.stderr).toBe(
      `flamingo send: the gateway closed the connection: wrong or missing --token?; no reply to STAGE_POSITION_GET from 127.0.0.1:${port}\n`,
    );
    const [session] = await refused;
    expect(session.end).toEqual({ kind: 'token', detail: 'wrong token' });
    expect(stack.gateway.stats.rejected).toBe(1);
    expect(stack.sim.records.filter((x) => x.name === 'STAGE_POSITION_GET')).toEqual([]);
  });

  it('no --token: the gateway closes the connection at the first packet, and send points at --token', async () => {
    const { stack, port } = await tokenStack();
    const refused = nextTokenRefusal(stack.gateway);
    const r = await run(['send', 'SYSTEM_STATE_GET', '--port', port], cleanups);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('-> SYSTEM_STATE_GET flags=TRIGGER_CALL_BACK\n');
    expect(r.stderr).toBe(
      `flamingo send: the server closed the connection (a gateway with a token does this: pass --token); no reply to SYSTEM_STATE_GET from 127.0.0.1:${port}\n`,
    );
    expect((await refused)[0].end).toEqual({ kind: 'token', detail: 'first packet was SYSTEM_STATE_GET, not GATEWAY_HELLO' });
  });

  it('a token the gateway could never accept (over 72 bytes) is a bad command line: exit 64', async () => {
    const r = await run(['send', 'SYSTEM_STATE_GET', '--port', '1', '--token', 'x'.repeat(73)], cleanups);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "error: option '--token <token>' argument 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is invalid. the gateway token must be 1..72 UTF-8 bytes without NUL\n(run with --help for usage)\n",
    );
  });

  it('--tls-ca, --tls-cert and --tls-key reach a gateway that serves TLS and requires client certificates', async () => {
    const pki = await makeTestPki();
    const { dir, write: file } = tempFiles(cleanups);
    const stack = await startStack({ gateway: { token: TOKEN, tls: { ...pki.server, ca: pki.ca } } });
    const port = String(stack.gateway.address.port);
    const tls = ['--tls-ca', file('ca.pem', pki.ca), '--tls-cert', file('app.pem', pki.client.cert), '--tls-key', file('app-key.pem', pki.client.key)];
    const r = await run(['send', 'SYSTEM_STATE_GET', '--port', port, '--token', TOKEN, '--json', ...tls], cleanups);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { reply: Record<string, unknown> }).reply).toMatchObject({ name: 'SYSTEM_STATE_GET', status: 1, int32Data0: 0xa002 });
    // Half a client certificate is a bad command line, as for `flamingo gateway`.
    const half = await run(['send', 'SYSTEM_STATE_GET', '--port', port, '--tls-cert', path.join(dir, 'app.pem')], cleanups);
    expect(half.code).toBe(64);
    expect(half.stderr).toBe('error: --tls-cert and --tls-key go together\nUsage: flamingo send [options] <command>\n(run with --help for usage)\n');
  });
});

describe('flamingo watch --token', () => {
  it('sends GATEWAY_HELLO first and then prints the events the gateway fans out', async () => {
    const { stack, port } = await tokenStack();
    const opened = nextGatewayEvent(stack.gateway, 'opened');
    const child = start(['watch', '--port', port, '--token', TOKEN, '--json', '--code', 'STAGE_MOTION_STOPPED', '--count', '1'], cleanups);
    await opened;
    const app = await stack.client({ token: TOKEN });
    await app.request(Command.STAGE_POSITION_SET, { int32Data0: 1, value: 7.55 });
    const r = await child.done;
    expect(r.code).toBe(0);
    const event = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(event).toMatchObject({ name: 'STAGE_MOTION_STOPPED', code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 1, value: 7.55 });
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/\nflamingo watch: done; 1 event in [\d.]+ m?s\n$/);
    expect(stack.gateway.stats.rejected).toBe(0);
  });

  it('a wrong token: the gateway closes the connection at once, and watch says so with exit 1', async () => {
    const { stack, port } = await tokenStack();
    const refused = nextTokenRefusal(stack.gateway);
    const r = await run(['watch', '--port', port, '--token', 'guess'], cleanups);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^flamingo watch: watching 127\\.0\\.0\\.1:${port} for unsolicited events \\(Ctrl-C to stop\\)\\n` +
          'flamingo watch: the gateway closed the connection: wrong or missing --token\\?; 0 events in [\\d.]+ m?s\\n$',
      ),
    );
    expect((await refused)[0].end).toEqual({ kind: 'token', detail: 'wrong token' });
  });
});

describe('flamingo live --token', () => {
  it('sends GATEWAY_HELLO on the live-image connection and on the --start control connection: a frame arrives', async () => {
    const { stack, port, livePort } = await tokenStack({ liveFrameWidth: 48, liveFrameHeight: 32 });
    const r = await run(['live', '--port', port, '--live-port', livePort, '--token', TOKEN, '--start', '--timeout-ms', '10000'], cleanups);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('frame 1: 48x32, camera 0\n');
    // The start went through the control connection, which the gateway only forwards after the hello.
    expect(stack.sim.records.filter((x) => x.name === 'CAMERA_LIVE_VIEW_START')).toHaveLength(1);
    expect(stack.gateway.stats.rejected).toBe(0);
  });

  it('a wrong token: both connections are refused, and live says so with exit 1', async () => {
    const { stack, port, livePort } = await tokenStack();
    const controlRefused = nextTokenRefusal(stack.gateway);
    const viewerRefused = nextGatewayEvent(stack.gateway, 'log', (line) => /^live viewer .* refused: wrong token$/.test(line));
    const r = await run(['live', '--port', port, '--live-port', livePort, '--token', 'guess', '--start', '--timeout-ms', '10000'], cleanups);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('flamingo live: the gateway closed the connection: wrong or missing --token?\n');
    expect((await controlRefused)[0].end).toEqual({ kind: 'token', detail: 'wrong token' });
    await viewerRefused;
    expect(stack.gateway.stats.rejected).toBe(2);
    expect(stack.sim.records.filter((x) => x.name === 'CAMERA_LIVE_VIEW_START')).toEqual([]);
  });
});
