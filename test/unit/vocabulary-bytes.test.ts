/**
 * Field layouts of the vocabulary helpers, asserted on the bytes the client writes, and bad
 * input refused before anything is written. The far end records and answers nothing unless
 * told to, so a helper whose command is never acknowledged must still resolve.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, Command, FlamingoClient, NEVER_ACKNOWLEDGED, createMemoryPair, decodePacket, encodePacket, type Packet } from 'flamingo-protocol';
import { until } from '../support/wait.js';

const FLAG = 0x80000000;

interface Far {
  client: FlamingoClient;
  /** Every byte the client wrote, in order. */
  bytes: () => Uint8Array;
  packets: () => Packet[];
  /** The packets without lease fences (SYSTEM_STATE_GET written behind LED_DISABLE, which the instrument also pushes). */
  commands: () => Packet[];
}

let open: FlamingoClient[] = [];
afterEach(async () => {
  for (const c of open) await c.close();
  open = [];
});

/** A lease-mode client whose far end records, and answers `answer(packet)` when it returns a reply. */
async function far(answer: (p: Packet) => Uint8Array | undefined = () => undefined): Promise<Far> {
  const [mine, theirs] = createMemoryPair();
  const chunks: Uint8Array[] = [];
  let pending = new Uint8Array(0);
  theirs.attach({
    data(chunk) {
      chunks.push(chunk);
      const all = new Uint8Array(pending.length + chunk.length);
      all.set(pending);
      all.set(chunk, pending.length);
      let at = 0;
      while (all.length - at >= 128) {
        const reply = answer(decodePacket(all.subarray(at, at + 128)));
        if (reply !== undefined) void theirs.write(reply);
        at += 128;
      }
      pending = all.slice(at);
    },
    close() {},
  });
  const client = await FlamingoClient.connect({ transport: mine, mode: 'lease', requestTimeoutMs: 2000 });
  open.push(client);
  const bytes = (): Uint8Array => {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  const packets = (): Packet[] => {
    const b = bytes();
    const list: Packet[] = [];
    for (let at = 0; at + 128 <= b.length; at += 128) list.push(decodePacket(b.subarray(at, at + 128)));
    return list;
  };
  const commands = (): Packet[] => packets().filter((p) => p.code !== Command.SYSTEM_STATE_GET);
  return { client, bytes, packets, commands };
}

/** The little-endian u32 / i32 at `offset` of packet `n`. */
const u32 = (b: Uint8Array, n: number, offset: number): number => new DataView(b.buffer, b.byteOffset + n * 128 + offset, 4).getUint32(0, true);
const i32 = (b: Uint8Array, n: number, offset: number): number => new DataView(b.buffer, b.byteOffset + n * 128 + offset, 4).getInt32(0, true);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Acknowledge everything with status 1 (echoing the code). */
const ackAll = (p: Packet): Uint8Array => encodePacket({ code: p.code, status: 1, int32Data0: p.int32Data0 });

describe('vocabulary field layouts on the wire', () => {
  it('the never-acknowledged set comes from the behaviour profile and holds the three laser commands', () => {
    for (const code of [Command.LASER_LEVEL_SET, Command.LASER_PREVIEW_ENABLE, Command.LASER_ALL_DISABLE]) expect(NEVER_ACKNOWLEDGED.has(code)).toBe(true);
    for (const code of [Command.LED_SET, Command.ILLUMINATION_LEFT_ENABLE, Command.CAMERA_ROI_LEFT_SET, Command.STORAGE_PATH_GET])
      expect(NEVER_ACKNOWLEDGED.has(code)).toBe(false);
  });

  it('led.set: colour in int32Data0 (bytes 24-27), the DAC value in int32Data1 (28-31), callback flag (36-39)', async () => {
    const f = await far(ackAll);
    await f.client.led.set(2, 50);
    await f.client.led.set(3, 0);
    await f.client.led.set(0, 100);
    await f.client.led.set(1, 25);
    const b = f.bytes();
    expect(b.length).toBe(4 * 128);
    expect([0, 1, 2, 3].map((n) => u32(b, n, 4))).toEqual([0x4001, 0x4001, 0x4001, 0x4001]);
    expect([0, 1, 2, 3].map((n) => i32(b, n, 24))).toEqual([2, 3, 0, 1]);
    expect([0, 1, 2, 3].map((n) => i32(b, n, 28))).toEqual([48767, 32000, 65534, 40384]);
    expect([0, 1, 2, 3].map((n) => u32(b, n, 36))).toEqual([FLAG, FLAG, FLAG, FLAG]);
  });

  it('lasers.preview and lasers.allOff are written with the flag and never wait for an answer', async () => {
    const f = await far(); // answers nothing
    await f.client.lasers.preview(3);
    await f.client.lasers.allOff();
    // Written means handed to the transport; the memory pair delivers on a later turn.
    await until(() => f.bytes().length >= 5 * 128, 2000, 'five packets at the far end');
    const b = f.bytes();
    expect(b.length).toBe(5 * 128);
    expect([0, 1, 2, 3, 4].map((n) => u32(b, n, 4))).toEqual([0x2004, 0x2007, 0x2007, 0x2007, 0x2007]);
    expect([0, 1, 2, 3, 4].map((n) => i32(b, n, 24))).toEqual([3, 1, 2, 3, 4]);
    expect([0, 1, 2, 3, 4].map((n) => u32(b, n, 36))).toEqual([FLAG, FLAG, FLAG, FLAG, FLAG]);
    expect(f.client.pendingCount).toBe(0);
  });

  it('prepareLive (laser, right path): everything off, level as "%.2f" text, preview, then the path; laser commands unanswered', async () => {
    const f = await far((p) => ([0x2001, 0x2004, 0x2007].includes(p.code) ? undefined : ackAll(p)));
    await f.client.illumination.prepareLive({ laser: { index: 2, percent: 11.5 }, path: 'right' });
    const p = f.commands();
    expect(p.map((x) => x.code)).toEqual([0x2007, 0x2007, 0x2007, 0x2007, 0x4003, 0x7005, 0x2001, 0x2004, 0x7006]);
    expect(p.map((x) => x.int32Data0)).toEqual([1, 2, 3, 4, 0, 0, 2, 2, 0]);
    const level = encodePacket(p[6] as Packet);
    expect(new TextDecoder().decode(level.subarray(52, 57))).toBe('11.50');
    expect(level[57]).toBe(0);
  });

  it('prepareLive (LED, left path): LED_SET colour + DAC, LED_ENABLE, left path', async () => {
    const f = await far(ackAll);
    await f.client.illumination.prepareLive({ led: { colour: 3, percent: 50 }, path: 'left' });
    const p = f.commands();
    expect(p.map((x) => x.code)).toEqual([0x2007, 0x2007, 0x2007, 0x2007, 0x4003, 0x7005, 0x4001, 0x4002, 0x7004]);
    expect([p[6]?.int32Data0, p[6]?.int32Data1]).toEqual([3, 48767]);
  });

  it('camera.setRoi: live stop, left edge 0x300F and top edge 0x3011 as (sensor - size)/2 + 1, restart only when live ran, size read back', async () => {
    let live = true;
    const f = await far((p) => {
      if (p.code === Command.CAMERA_LIVE_VIEW_STOP) {
        const was = live;
        live = false;
        return encodePacket({ code: p.code, status: was ? 1 : 0 });
      }
      if (p.code === Command.CAMERA_LIVE_VIEW_START) live = true;
      if (p.code === Command.CAMERA_IMAGE_SIZE_GET) return encodePacket({ code: p.code, status: 1, int32Data0: 1024, int32Data1: 512, value: 6.5 });
      return ackAll(p);
    });
    expect(await f.client.camera.setRoi({ width: 1024, height: 512 })).toEqual({ width: 1024, height: 512, sensorPixelUm: 6.5 });
    // 0x3011 is also pushed as CAMERA_STACK_COMPLETE, so lease mode writes a fence behind it: left out here.
    const first = f.commands();
    expect(first.map((x) => x.code)).toEqual([0x3008, 0x300f, 0x3011, 0x3007, 0x3027]);
    const left = encodePacket(first[1] as Packet);
    const top = encodePacket(first[2] as Packet);
    expect(new DataView(left.buffer).getInt32(24, true)).toBe(513);
    expect(new DataView(top.buffer).getInt32(24, true)).toBe(769);
    // The crop restarted live view; with it stopped, a second crop leaves it off.
    live = false;
    await f.client.camera.setRoi({ width: 2048, height: 2000 }, { sensorWidth: 2048, sensorHeight: 2048 });
    const again = f.commands().slice(5);
    expect(again.map((x) => x.code)).toEqual([0x3008, 0x300f, 0x3011, 0x3027]);
    expect([again[1]?.int32Data0, again[2]?.int32Data0]).toEqual([1, 25]);
  });

  it('illumination paths, storage query and workflow stop', async () => {
    const f = await far(ackAll);
    await f.client.illumination.left(true);
    await f.client.illumination.left(false);
    await f.client.illumination.right(true);
    await f.client.illumination.right(false);
    expect(await f.client.workflow.stop()).toBe(1);
    const drives = await far((p) =>
      p.code === Command.STORAGE_PATH_GET
        ? concat(encodePacket({ code: p.code, status: 1, addDataBytes: 42 }), new TextEncoder().encode('/media/deploy/ctlsm1\n/media/deploy/MSN_LS\0'))
        : undefined,
    );
    expect(await drives.client.storage.drives()).toEqual(['/media/deploy/ctlsm1', '/media/deploy/MSN_LS']);
    const p = f.packets();
    expect(p.map((x) => x.code)).toEqual([0x7004, 0x7005, 0x7006, 0x7007, 0x3005]);
    expect(p.every((x) => x.cmdDataBits0 === FLAG && x.int32Data0 === 0)).toBe(true);
    const q = drives.packets();
    expect(q.map((x) => [x.code, x.int32Data0, x.cmdDataBits0])).toEqual([[0x1013, 0, FLAG]]);
  });
});

describe('bad input: ArgumentError, nothing written', () => {
  const cases: [string, (c: FlamingoClient) => Promise<unknown>][] = [
    ['LED colour 4', (c) => c.led.set(4, 10)],
    ['LED colour -1', (c) => c.led.set(-1, 10)],
    ['LED colour 1.5', (c) => c.led.set(1.5, 10)],
    ['LED percent 101', (c) => c.led.set(0, 101)],
    ['LED percent -0.1', (c) => c.led.set(0, -0.1)],
    ['LED percent NaN', (c) => c.led.set(0, Number.NaN)],
    ['laser preview 0', (c) => c.lasers.preview(0)],
    ['laser preview 5', (c) => c.lasers.preview(5)],
    ['ROI wider than the sensor', (c) => c.camera.setRoi({ width: 2050, height: 2048 })],
    ['ROI that cannot be centred', (c) => c.camera.setRoi({ width: 1023, height: 1024 })],
    ['ROI height 0', (c) => c.camera.setRoi({ width: 1024, height: 0 })],
    ['prepareLive without a source', (c) => c.illumination.prepareLive({ path: 'left' })],
    ['prepareLive with two sources', (c) => c.illumination.prepareLive({ laser: { index: 1 }, led: { colour: 0, percent: 5 }, path: 'left' })],
    ['prepareLive unknown path', (c) => c.illumination.prepareLive({ laser: { index: 1 }, path: 'up' as 'left' })],
    ['prepareLive laser percent 120', (c) => c.illumination.prepareLive({ laser: { index: 1, percent: 120 }, path: 'left' })],
    ['prepareLive LED colour 7', (c) => c.illumination.prepareLive({ led: { colour: 7, percent: 5 }, path: 'left' })],
    ['path switch not boolean', (c) => c.illumination.left('yes' as unknown as boolean)],
    ['moveToMany with no axis', (c) => c.stage.moveToMany({})],
    // Deliberately ill-typed (here and above): the runtime checks of an untyped caller are under test.
    ['moveToMany unknown axis', (c) => c.stage.moveToMany({ w: 1 } as never)],
    ['moveToMany NaN', (c) => c.stage.moveToMany({ x: Number.NaN })],
  ];
  for (const [name, call] of cases) {
    it(name, async () => {
      const f = await far(ackAll);
      await expect(call(f.client)).rejects.toBeInstanceOf(ArgumentError);
      expect(f.bytes().length).toBe(0);
    });
  }
});
