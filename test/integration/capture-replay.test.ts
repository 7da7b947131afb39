import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, FlamingoClient } from '../../src/index.js';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { CaptureProxy } from '../../src/apps/capture/capture-proxy.js';
import { loadCapture } from '../../src/apps/capture/capture-file.js';
import { buildReplayScript } from '../../src/apps/capture/replay-script.js';
import { ReplayServer } from '../../src/apps/capture/replay-server.js';
import { replayAgainst } from '../../src/apps/capture/replay-client.js';
import { tempDir } from '../support/capture-helpers.js';
import { nextEvent } from '../support/wait.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cleanups = cleanedUpAfterEach();

/** Record a short lease-mode session against a simulator through the capture proxy. */
async function recordSession(file: string): Promise<void> {
  const sim = new SimulatedMicroscope({ echoSequence: false, timeScale: 1000 });
  const { port } = await sim.listen({ port: 0, host: '127.0.0.1' });
  const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: port, out: file });
  const client = await FlamingoClient.connect({ port: proxy.address.port, mode: 'lease' });
  await client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
  await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
  await client.request(Command.SYSTEM_STATE_GET);
  const closed = nextEvent<number>((deliver) => proxy.once('closed', deliver), 'closed');
  await client.close();
  await closed;
  await proxy.close('recorded');
  await sim.close();
}

describe('replay of a capture', () => {
  it('sim --replay answers recorded requests with the recorded replies, in order, and the model answers the rest', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 's.jsonl');
    await recordSession(file);
    const { records } = await loadCapture(file);
    const script = buildReplayScript(records);
    expect(script.exchanges.map((e) => e.request.code)).toEqual([Command.STAGE_POSITION_GET, Command.STAGE_POSITION_GET, Command.SYSTEM_STATE_GET]);
    expect(script.exchanges.every((e) => e.reply !== undefined)).toBe(true);

    const server = new ReplayServer(script, { model: new SimulatedMicroscope({ echoSequence: false }) });
    const { port } = await server.listen(0);
    cleanups.push(() => server.close());
    const client = await FlamingoClient.connect({ port, mode: 'lease' });
    cleanups.push(() => client.close());
    const y = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
    const x = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
    expect(y.value).toBe(script.exchanges[1]!.reply!.value);
    expect(x.value).toBe(script.exchanges[0]!.reply!.value);
    expect(x.int32Data0).toBe(1);
    // Not in the recording: the model answers (a second SYSTEM_STATE_GET is past the recorded one).
    await client.request(Command.SYSTEM_STATE_GET);
    const again = await client.request(Command.SYSTEM_STATE_GET);
    expect(again.code).toBe(Command.SYSTEM_STATE_GET);
    expect(server.counts).toEqual({ replayed: 3, missed: 1 });
  });

  it('--strict closes a client that asks what the recording lacks', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 's.jsonl');
    await recordSession(file);
    const server = new ReplayServer(buildReplayScript((await loadCapture(file)).records), { strict: true });
    const { port } = await server.listen(0);
    cleanups.push(() => server.close());
    const client = await FlamingoClient.connect({ port, mode: 'lease', requestTimeoutMs: 5000 });
    cleanups.push(() => client.close());
    const miss = nextEvent<{ name: string; strict: boolean }>((deliver) => server.once('miss', deliver), 'miss');
    await expect(client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 })).rejects.toMatchObject({ code: 'CLOSED' });
    expect(await miss).toMatchObject({ name: 'STAGE_POSITION_GET', strict: true });
  });

  it('flamingo replay reports per request where a server now answers differently', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 's.jsonl');
    await recordSession(file);
    const script = buildReplayScript((await loadCapture(file)).records);
    const same = new SimulatedMicroscope({ echoSequence: false, timeScale: 1000 });
    const a = await same.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => same.close());
    const results = await replayAgainst(script, { host: '127.0.0.1', port: a.port });
    expect(results.map((r) => r.outcome)).toEqual(['same', 'same', 'same']);

    // A "firmware upgrade" whose stage stands elsewhere: only the X position reply differs.
    const moved = new SimulatedMicroscope({ echoSequence: false, timeScale: 1000 });
    const b = await moved.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => moved.close());
    const mover = await FlamingoClient.connect({ port: b.port, mode: 'lease' });
    await mover.stage.moveTo(1, script.exchanges[0]!.reply!.value + 1);
    await mover.close();
    const diff = await replayAgainst(script, { host: '127.0.0.1', port: b.port });
    expect(diff.map((r) => r.outcome)).toEqual(['differs', 'same', 'same']);
    expect(diff[0]!.differences).toEqual([`value: ${script.exchanges[0]!.reply!.value} → ${script.exchanges[0]!.reply!.value + 1}`]);
  });

  it('a corrupt or truncated line is an error naming the line; another version is refused', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 's.jsonl');
    await recordSession(file);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const truncated = path.join(dir, 't.jsonl');
    fs.writeFileSync(truncated, `${lines.slice(0, 4).join('\n')}\n${lines[4]!.slice(0, 30)}`);
    await expect(loadCapture(truncated)).rejects.toThrow(`${truncated} line 5: not JSON (a truncated or corrupt line)`);
    const corrupt = path.join(dir, 'x.jsonl');
    const packetLine = lines.findIndex((l) => l.includes('"type":"packet"'));
    const bad = lines.map((l, i) => (i === packetLine ? l.replace(/"hex":"54e621f3/, '"hex":"00e621f3') : l));
    fs.writeFileSync(corrupt, bad.join('\n'));
    await expect(loadCapture(corrupt)).rejects.toThrow(new RegExp(`line ${packetLine + 1}: packet bytes do not decode: bad packet markers`));
    const v2 = path.join(dir, 'v2.jsonl');
    fs.writeFileSync(v2, [lines[0]!.replace('"version":1', '"version":2'), ...lines.slice(1)].join('\n'));
    await expect(loadCapture(v2)).rejects.toThrow(`${v2} line 1: capture format version 2 is not supported; this flamingo reads version 1 only`);
  });
});
