import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, ensureBuilt, root } from '../support/build.js';
import { Command, Deframer, Flags, listenTcp, type LiveViewerStats, type Packet } from 'flamingo-protocol';
import { LiveImageServer } from 'flamingo-protocol/sim';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cli = cliPath;

beforeAll(ensureBuilt, 180_000);

const dir = mkdtempSync(path.join(tmpdir(), 'flamingo-live-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups = cleanedUpAfterEach();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `flamingo ...args` as a child process; it is killed if it outlives the test. */
function flamingo(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    });
  });
}

async function liveServer(options: ConstructorParameters<typeof LiveImageServer>[0]) {
  const server = new LiveImageServer(options);
  cleanups.push(() => server.close());
  const { port } = await server.listen();
  return { server, port };
}

function pngSize(file: string) {
  const png = readFileSync(file);
  return {
    signature: [...png.subarray(0, 8)],
    type: png.toString('latin1', 12, 16),
    width: png.readUInt32BE(16),
    height: png.readUInt32BE(20),
    bitDepth: png[24],
    colorType: png[25],
  };
}

describe('flamingo live', () => {
  it('saves the first frame from the live port (command port + 1) as a PNG', async () => {
    const { server, port } = await liveServer({ width: 40, height: 30, deviceIndex: 2 });
    const out = path.join(dir, 'one.png');
    // Live view is off: the frame is sent by hand once the CLI is connected, so it is frame 1.
    server.once('viewer', () => server.broadcastFrame());
    const run = await flamingo('live', '--port', String(port - 1), '--png', out, '--timeout-ms', '10000');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^frame 1: 40x30, camera 2, saved ${out.replace(/[.\\]/g, '\\$&')} \\(contrast \\d+\\.\\.\\d+\\)\\n$`));
    expect(pngSize(out)).toEqual({
      signature: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      type: 'IHDR',
      width: 40,
      height: 30,
      bitDepth: 8,
      colorType: 0,
    });
  });

  it('does not stop on an options-only header: it waits on for the frames after it', async () => {
    const { server, port } = await liveServer({ width: 12, height: 10 });
    // Options, frame, options, frame: with --frames 2 the second picture is the one saved.
    server.once('viewer', () => {
      server.broadcastOptions();
      server.broadcastFrame();
      server.broadcastOptions();
      server.broadcastFrame();
    });
    const out = path.join(dir, 'after-options.png');
    const run = await flamingo('live', '--port', String(port - 1), '--png', out, '--frames', '2', '--timeout-ms', '10000');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^frame 2: 12x10, camera 0, saved .*after-options\.png \(contrast \d+\.\.\d+\)\n$/);
    expect(pngSize(out)).toMatchObject({ width: 12, height: 10 });
  });

  it('--start switches live view on over the command port and off again afterwards', async () => {
    const { server, port: livePort } = await liveServer({ width: 16, height: 8, frameIntervalMs: 10 });
    const received: Packet[] = [];
    const commandPort = await listenTcp({ port: 0 }, (transport) => {
      const deframer = new Deframer();
      transport.attach({
        data: (chunk) => {
          for (const packet of deframer.push(chunk)) {
            received.push(packet);
            if (packet.code === Command.CAMERA_LIVE_VIEW_START) server.setLive(true);
            if (packet.code === Command.CAMERA_LIVE_VIEW_STOP) server.setLive(false);
          }
        },
        close: () => {},
      });
    });
    cleanups.push(() => commandPort.close());
    const out = path.join(dir, 'start.png');
    const run = await flamingo(
      'live',
      '--port',
      String(commandPort.port),
      '--live-port',
      String(livePort),
      '--start',
      '--png',
      out,
      '--depth',
      '16',
      '--timeout-ms',
      '10000',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^frame \d+: 16x8, camera 0, saved .*start\.png \(16-bit\)/);
    expect(received.map((p) => p.code)).toEqual([Command.CAMERA_LIVE_VIEW_START, Command.CAMERA_LIVE_VIEW_STOP]);
    // Fire-and-forget: sent without TRIGGER_CALL_BACK and nothing waited for (an answer, if
    // the instrument sends one, is not read: whether it does is not recorded).
    expect(received.every((p) => (p.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) === 0)).toBe(true);
    expect(server.live).toBe(false);
    expect(pngSize(out)).toMatchObject({ width: 16, height: 8, bitDepth: 16, colorType: 0 });
  });

  it('names host:port and suggests `flamingo sim` when nothing listens', async () => {
    const listener = await listenTcp({ port: 0 }, () => {});
    const { port } = listener;
    await listener.close();
    const run = await flamingo('live', '--port', '1000', '--live-port', String(port), '--png', path.join(dir, 'none.png'));
    expect(run.code).toBe(69);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `flamingo live: cannot connect to 127.0.0.1:${port}: connection refused (the live-image port, command port + 1). Is the microscope, or a simulator, running on 127.0.0.1? Start one with \`flamingo sim --port 1000\`.\n`,
    );
    expect(existsSync(path.join(dir, 'none.png'))).toBe(false);
  });

  it('gives up after --timeout-ms when live view is off, and says how to start it', async () => {
    const { server, port } = await liveServer({ width: 4, height: 4 });
    const joined = new Promise<LiveViewerStats>((resolve) => server.once('viewer', resolve));
    const run = await flamingo('live', '--port', String(port - 1), '--timeout-ms', '300');
    await joined;
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `flamingo live: no live image from 127.0.0.1:${port} within 300 ms. Live view may be off: start it from the instrument, or pass --start.\n`,
    );
  });
});
