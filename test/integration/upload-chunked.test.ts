/**
 * Long transfers never freeze the connection: payloads go out in chunks that wait for the
 * transport (backpressure), packets written meanwhile queue behind the payload (it must be
 * contiguous on the wire), replies and events keep being delivered during a large upload
 * or download, and upload progress is reported chunk by chunk.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Command,
  DEFAULT_SETTINGS_TEXT,
  Deframer,
  PacketWriter,
  buildWorkflowText,
  createMemoryPair,
  encodePacket,
  type Packet,
  type PacketInit,
  type UploadProgress,
  type WriteResult,
} from 'flamingo-protocol';
import { MATRIX, SimClients } from '../support/sim-clients.js';
import { until } from '../support/wait.js';

/** A write made while an upload runs: it must wait (a promise), not go straight out (`true`). */
function waitingWrite(result: WriteResult): Promise<void> {
  if (result === true) throw new Error('the write went out at once instead of waiting behind the upload');
  return result;
}

let env: SimClients | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await env?.cleanup();
  env = null;
  for (const c of cleanups.splice(0)) await c();
});

/** Deterministic, non-repeating payload bytes (a repeated pattern could hide a misplaced chunk). */
function payloadOf(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * The simulator numbers flood events 1, 2, 3…; the flood starts with the connection, so the
 * first few may precede the test's listener. From the first one seen: none missing, none twice, in order.
 */
function expectContiguous(numbers: readonly number[]): void {
  const first = numbers[0] as number;
  expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => first + i));
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function header(init: PacketInit, payloadLength: number): Uint8Array {
  return encodePacket({ ...init, addDataBytes: payloadLength });
}

describe('PacketWriter', () => {
  it('writes header + payload in chunks, reports progress per chunk, and queues later packets behind the payload', async () => {
    const [mine, theirs] = createMemoryPair({ highWaterBytes: 100_000 });
    cleanups.push(
      () => mine.destroy(),
      () => theirs.destroy(),
    );
    const received: Packet[] = [];
    const deframer = new Deframer({ maxPayloadBytes: 8 * 1024 * 1024 });
    let chunks = 0;
    theirs.attach({
      data: (chunk) => {
        chunks++;
        received.push(...deframer.push(chunk));
      },
      close: () => undefined,
    });
    const noted: number[] = [];
    const writer = new PacketWriter(mine, { chunkBytes: 65536, beforeWrite: (sent) => noted.push(sent.code as number) });

    const payload = payloadOf(1_000_000);
    const progress: UploadProgress[] = [];
    const order: string[] = [];
    const upload = writer.write(header({ code: Command.CAMERA_WORKFLOW_START }, payload.length), { code: Command.CAMERA_WORKFLOW_START }, payload, (p) =>
      progress.push(p),
    );
    expect(writer.isUploading).toBe(true);
    // Written while the upload runs: they wait, in order, and go out after its last byte.
    const small1 = waitingWrite(writer.write(header({ code: Command.SYSTEM_STATE_GET }, 0), { code: Command.SYSTEM_STATE_GET })).then(() => {
      // Resolved only once the upload's last byte was accepted.
      expect(progress.some((p) => p.sent === payload.length)).toBe(true);
      order.push('small1');
    });
    const small2 = waitingWrite(
      writer.write(header({ code: Command.COMMON_SCOPE_SETTINGS_SAVE }, 3), { code: Command.COMMON_SCOPE_SETTINGS_SAVE }, new Uint8Array([1, 2, 3]), (p) =>
        progress.push(p),
      ),
    ).then(() => order.push('small2'));
    expect(writer.queuedCount).toBe(2);
    expect(noted).toEqual([Command.CAMERA_WORKFLOW_START]);
    await Promise.all([upload, small1, small2]);
    expect(order.sort()).toEqual(['small1', 'small2']);
    expect(noted).toEqual([Command.CAMERA_WORKFLOW_START, Command.SYSTEM_STATE_GET, Command.COMMON_SCOPE_SETTINGS_SAVE]);

    const expected = Math.ceil(payload.length / 65536);
    expect(progress.length).toBe(expected + 1);
    expect(progress.slice(0, expected).map((p) => p.sent)).toEqual(Array.from({ length: expected }, (_, i) => Math.min(payload.length, (i + 1) * 65536)));
    expect(progress.every((p, i) => p.total === (i < expected ? payload.length : 3))).toBe(true);
    expect(progress[expected]).toEqual({ sent: 3, total: 3 });

    await until(() => received.length === 3, 5000, 'three packets at the server');
    expect(received.map((p) => p.code)).toEqual([Command.CAMERA_WORKFLOW_START, Command.SYSTEM_STATE_GET, Command.COMMON_SCOPE_SETTINGS_SAVE]);
    expect(received[0]?.addDataBytes).toBe(payload.length);
    expect(sha256(received[0]?.payload as Uint8Array)).toBe(sha256(payload));
    expect(Array.from(received[2]?.payload ?? [])).toEqual([1, 2, 3]);
    // The 1 MB crossed in many reads, not one: it was handed over chunk by chunk.
    expect(chunks).toBeGreaterThanOrEqual(expected);
  });

  it('a progress listener that throws is reported and the upload completes; a closed transport fails the upload and everything queued', async () => {
    // A small high-water mark: every chunk fills the buffer, so the upload is still waiting
    // for room when the transport is destroyed.
    const [mine, theirs] = createMemoryPair({ highWaterBytes: 1000 });
    cleanups.push(() => theirs.destroy());
    theirs.attach({ data: () => undefined, close: () => undefined });
    const errors: unknown[] = [];
    const writer = new PacketWriter(mine, { chunkBytes: 1000, onListenerError: (e) => errors.push(e) });
    const payload = payloadOf(5000);
    await writer.write(header({ code: 1 }, payload.length), undefined, payload, () => {
      throw new Error('listener bug');
    });
    expect(errors.length).toBe(5);
    const big = Promise.resolve(writer.write(header({ code: 1 }, payload.length), undefined, payload)).catch((e: Error) => e);
    const after = Promise.resolve(writer.write(header({ code: 2 }, 0))).catch((e: Error) => e);
    mine.destroy();
    expect(await big).toMatchObject({ code: 'CLOSED' });
    expect(await after).toMatchObject({ code: 'CLOSED' });
  });

  it('refuses a chunk size that is not a positive integer', () => {
    const [mine, theirs] = createMemoryPair();
    cleanups.push(
      () => mine.destroy(),
      () => theirs.destroy(),
    );
    expect(() => new PacketWriter(mine, { chunkBytes: 0 })).toThrow(RangeError);
    expect(() => new PacketWriter(mine, { chunkBytes: 1.5 })).toThrow(RangeError);
  });
});

const UPLOAD_BYTES = 12 * 1024 * 1024;
const FLOOD = 'flood=20000/s:UI_SET_GAUGE_VALUE';

describe.each(MATRIX)('a large upload through the client over %s, %s mode', (kind, mode) => {
  it('completes while concurrent requests are answered and a flood of events is delivered whole and in order', async () => {
    env = new SimClients(mode, { maxPayloadBytes: 64 * 1024 * 1024, faults: FLOOD });
    env.fragmentMaxBytes = 16 * 1024;
    const client = await env.connect(kind);
    const connectionId = env.sim.connectionIds[0] as number;
    const gauges: number[] = [];
    let duringUpload = 0;
    let uploading = false;
    client.on('UI_SET_GAUGE_VALUE', (p) => {
      gauges.push(p.int32Data0);
      if (uploading) duringUpload++;
    });
    const payload = payloadOf(UPLOAD_BYTES);
    const progress: UploadProgress[] = [];
    let concurrent: Promise<unknown[]> | null = null;
    uploading = true;
    // A settings save carries the big payload (WORKFLOW_START is never answered, and this test needs an answer).
    const upload = client.request(Command.COMMON_SCOPE_SETTINGS_SAVE, undefined, {
      payload,
      timeoutMs: 20_000,
      onUploadProgress: (p) => {
        progress.push(p);
        if (p.sent === p.total) uploading = false;
        // Fired once the upload is under way: these must wait for the payload, then be answered.
        if (concurrent === null && p.sent >= UPLOAD_BYTES / 4) {
          concurrent = Promise.all([client.stage.position(1), client.lasers.level(2), client.request(Command.CAMERA_IMAGE_SIZE_GET), client.system.state()]);
        }
      },
    });
    const reply = await upload;
    expect(concurrent).not.toBeNull();
    const [x, level, size, system] = (await concurrent) as unknown as [number, number, Packet, string];
    // Not a settings text: the simulator answers status 0, having read every byte.
    expect(reply.status).toBe(0);
    expect(x).toBe(env.sim.stagePosition(1));
    expect(level).toBe(env.sim.snapshot().lasers[1]?.level);
    expect([size.int32Data0, size.int32Data1]).toEqual([2048, 2048]);
    expect(['idle', 'busy']).toContain(system);

    const records = env.sim.recordsFor(connectionId);
    const at = records.findIndex((r) => r.code === Command.COMMON_SCOPE_SETTINGS_SAVE);
    expect(records[at]?.addDataBytes).toBe(UPLOAD_BYTES);
    expect(records[at]?.payloadHash).toBe(sha256(payload));
    // The concurrent requests went out after the payload (it is contiguous on the wire).
    const later = records.slice(at + 1).map((r) => r.code);
    expect(later).toEqual(
      expect.arrayContaining([Command.STAGE_POSITION_GET, Command.LASER_LEVEL_GET, Command.CAMERA_IMAGE_SIZE_GET, Command.SYSTEM_STATE_GET]),
    );

    expect(progress.at(-1)).toEqual({ sent: UPLOAD_BYTES, total: UPLOAD_BYTES });
    expect(progress.length).toBe(Math.ceil(UPLOAD_BYTES / 65536));

    // Every flood event arrived, in order, none twice, none missing.
    const target = gauges.length + 50;
    await client.waitFor((p) => p.code === Command.UI_SET_GAUGE_VALUE && p.int32Data0 >= target, { timeoutMs: 5000 });
    expect(gauges.length).toBeGreaterThan(100);
    expectContiguous(gauges);
    // Events kept flowing while the payload was being written (between its first and last chunk), not only after it.
    expect(duringUpload).toBeGreaterThan(0);
    // The mirror followed every one of them.
    expect(client.state.snapshot().workflow.gaugeValue).toBe(gauges.at(-1));
  });
});

describe.each(MATRIX)('a large download through the client over %s, %s mode', (kind, mode) => {
  it('a multi-megabyte reply payload is streamed into its packet; events before and after it arrive whole and in order', async () => {
    // Settings text padded to ~8 MB: the simulator sends it as COMMON_SCOPE_SETTINGS's payload.
    const filler = `<Padding>\n${'  Note = the quick brown fox jumps over the lazy dog 0123456789\n'.repeat(130_000)}</Padding>\n`;
    const settingsText = DEFAULT_SETTINGS_TEXT + filler;
    env = new SimClients(mode, { settingsText, faults: FLOOD, maxOutgoingBytes: 64 * 1024 * 1024 });
    env.fragmentMaxBytes = 16 * 1024;
    const client = await env.connect(kind);
    const gauges: number[] = [];
    client.on('UI_SET_GAUGE_VALUE', (p) => gauges.push(p.int32Data0));
    await client.waitFor(Command.UI_SET_GAUGE_VALUE, { timeoutMs: 5000 });
    const [text, x] = await Promise.all([client.settings({ timeoutMs: 20_000 }), client.stage.position(2)]);
    expect(text.length).toBe(settingsText.length);
    expect(text).toBe(settingsText);
    expect(x).toBe(env.sim.stagePosition(2));
    const target = gauges.length + 50;
    await client.waitFor((p) => p.code === Command.UI_SET_GAUGE_VALUE && p.int32Data0 >= target, { timeoutMs: 5000 });
    expectContiguous(gauges);
  });
});

describe.each(['sequenced', 'lease'] as const)('a request given up while it waits behind an upload (%s mode)', (mode) => {
  it('is never written, so its reply cannot answer a later request', async () => {
    env = new SimClients(mode, { maxPayloadBytes: 64 * 1024 * 1024 });
    env.fragmentMaxBytes = 16 * 1024;
    const client = await env.connect('memory');
    const connectionId = env.sim.connectionIds[0] as number;
    const payload = payloadOf(4 * 1024 * 1024);
    const abort = new AbortController();
    let aborted: Promise<unknown> | null = null;
    // A fire-and-forget upload (like workflow.start's); a request made during it waits behind it.
    await client.send(Command.COMMON_SCOPE_SETTINGS_SAVE, undefined, {
      payload,
      onUploadProgress: ({ sent }) => {
        if (aborted !== null || sent < payload.length / 2) return;
        aborted = client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 }, { signal: abort.signal }).catch((e: Error) => e);
        abort.abort();
      },
    });
    expect(await aborted).toMatchObject({ code: 'ABORTED' });
    const later = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
    expect(later.value).toBe(env.sim.stagePosition(3));
    const gets = env.sim.recordsFor(connectionId).filter((r) => r.code === Command.STAGE_POSITION_GET);
    expect(gets.length).toBe(1);
    expect(client.pendingCount).toBe(0);
  });
});

describe.each(['sequenced', 'lease'] as const)('workflow.start upload progress (%s mode)', (mode) => {
  it('reports the workflow text upload and still runs the workflow', async () => {
    env = new SimClients(mode);
    const client = await env.connect('memory', { uploadChunkBytes: 1024 });
    const text = buildWorkflowText({ numberOfPlanes: 4 });
    const progress: UploadProgress[] = [];
    const result = await client.workflow.start(text, { onUploadProgress: (p) => progress.push(p) });
    expect(result.expected).toBe(4);
    const total = new TextEncoder().encode(text).length;
    expect(total).toBeGreaterThan(1024);
    expect(progress.map((p) => p.sent)).toEqual(Array.from({ length: Math.ceil(total / 1024) }, (_, i) => Math.min(total, (i + 1) * 1024)));
    expect(progress.every((p) => p.total === total)).toBe(true);
    const record = env.sim.records.find((r) => r.code === Command.CAMERA_WORKFLOW_START);
    expect(record?.payloadHash).toBe(sha256(new TextEncoder().encode(text)));
  });
});
