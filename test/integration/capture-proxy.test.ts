import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, encodePacket, Flags } from '../../protocol/index.js';
import { CaptureProxy } from '../../src/apps/capture/capture-proxy.js';
import { parseCapture, type ReadRecord } from '../../src/apps/capture/capture-format.js';
import { connectRaw, RawPeer, tempDir, toolAvailable } from '../support/capture-helpers.js';
import { nextEvent } from '../support/wait.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cleanups = cleanedUpAfterEach();

/** A raw upstream that hands each accepted connection to the test. */
async function rawUpstream(): Promise<{ port: number; peers: RawPeer[]; next: () => Promise<RawPeer> }> {
  const peers: RawPeer[] = [];
  const waiting: ((p: RawPeer) => void)[] = [];
  const server = net.createServer((s) => {
    const peer = new RawPeer(s);
    peers.push(peer);
    waiting.shift()?.(peer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const p of peers) p.socket.destroy();
        server.close(() => r());
      }),
  );
  let taken = 0;
  return {
    port: (server.address() as net.AddressInfo).port,
    peers,
    next: () =>
      peers.length > taken
        ? Promise.resolve(peers[taken++] as RawPeer)
        : new Promise((r) =>
            waiting.push((p) => {
              taken++;
              r(p);
            }),
          ),
  };
}

/** The bytes of one connection and direction, rebuilt from its packet and garbage records. */
function rebuilt(records: ReadRecord[], conn: number, dir: 'c2s' | 's2c'): Buffer {
  const parts = records.filter((r) => 'dir' in r && r.conn === conn && r.dir === dir && (r.type === 'packet' || r.type === 'garbage')) as { hex: string }[];
  return Buffer.concat(parts.map((r) => Buffer.from(r.hex, 'hex')));
}

const GARBAGE = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);
const request = (axis: number) => encodePacket({ code: Command.STAGE_POSITION_GET, int32Data0: axis, cmdDataBits0: Flags.TRIGGER_CALL_BACK });
const settingsReply = encodePacket({
  code: Command.COMMON_SCOPE_SETTINGS,
  status: 1,
  payload: new TextEncoder().encode('<Type>\n  Microscope name = test\n</Type>\n'),
});

describe('flamingo capture proxy', () => {
  it('forwards two clients at once byte for byte and records every packet, garbage and resync', async () => {
    const up = await rawUpstream();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const out = path.join(dir, 'c.jsonl');
    const pcap = path.join(dir, 'c.pcapng');
    const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: up.port, out, pcapng: pcap });
    cleanups.push(() => proxy.close());
    const a = await connectRaw(proxy.address.port);
    const ua = await up.next();
    const b = await connectRaw(proxy.address.port);
    const ub = await up.next();
    cleanups.push(() => {
      a.socket.destroy();
      b.socket.destroy();
    });
    // Client A: a request, garbage, a request cut in two writes. Client B: one request.
    const aBytes = Buffer.concat([request(1), GARBAGE, request(2)]);
    a.socket.write(aBytes.subarray(0, 140));
    b.socket.write(request(3));
    a.socket.write(aBytes.subarray(140));
    await ua.waitBytes(aBytes.length);
    await ub.waitBytes(128);
    // The upstream answers B with a reply whose payload arrives in pieces, A with one reply.
    ub.socket.write(settingsReply.subarray(0, 100));
    ub.socket.write(settingsReply.subarray(100, 150));
    ub.socket.write(settingsReply.subarray(150));
    const aReply = encodePacket({ code: Command.STAGE_POSITION_GET, status: 1, int32Data0: 1, value: 2.5 });
    ua.socket.write(aReply);
    await b.waitBytes(settingsReply.length);
    await a.waitBytes(128);
    expect(ua.bytes.equals(aBytes)).toBe(true);
    expect(ub.bytes.equals(Buffer.from(request(3)))).toBe(true);
    expect(b.bytes.equals(Buffer.from(settingsReply))).toBe(true);
    expect(a.bytes.equals(Buffer.from(aReply))).toBe(true);
    // Both connections' 'closed', counted: two `once` listeners would both fire on the first.
    const bothClosed = nextEvent<number[]>((deliver) => {
      const conns: number[] = [];
      proxy.on('closed', (conn) => {
        conns.push(conn);
        if (conns.length === 2) deliver(conns);
      });
    }, 'both connections closed');
    a.socket.end();
    b.socket.end();
    expect((await bothClosed).sort()).toEqual([1, 2]);
    await proxy.close('test done');

    const { header, records } = parseCapture(fs.readFileSync(out, 'utf8'));
    expect(header.version).toBe(1);
    expect(records.flatMap((r) => (r.type === 'open' ? [r.conn] : []))).toEqual([1, 2]);
    expect(rebuilt(records, 1, 'c2s').equals(aBytes)).toBe(true);
    expect(rebuilt(records, 1, 's2c').equals(Buffer.from(aReply))).toBe(true);
    expect(rebuilt(records, 2, 'c2s').equals(Buffer.from(request(3)))).toBe(true);
    expect(rebuilt(records, 2, 's2c').equals(Buffer.from(settingsReply))).toBe(true);
    const a2s = records.filter((r) => 'dir' in r && r.conn === 1 && r.dir === 'c2s');
    expect(a2s.map((r) => r.type)).toEqual(['packet', 'garbage', 'resync', 'packet']);
    expect(a2s[2]).toMatchObject({ type: 'resync', skippedBytes: 7 });
    const settings = records.find((r) => r.type === 'packet' && r.conn === 2 && r.dir === 's2c');
    expect(settings).toMatchObject({ name: 'COMMON_SCOPE_SETTINGS', fields: { addDataBytes: settingsReply.length - 128, status: 1 } });
    expect(records.filter((r) => r.type === 'close').length).toBe(2);
    expect(records.at(-1)).toMatchObject({ type: 'end', reason: 'test done' });

    if (toolAvailable('tshark')) {
      // Wireshark's own reader: the synthetic TCP streams reassemble into Flamingo packets.
      const lua = path.resolve('spec/wireshark/flamingo.lua');
      const text = execFileSync(
        'tshark',
        ['-r', pcap, '-X', `lua_script:${lua}`, '-d', `tcp.port==${up.port},flamingo`, '-T', 'fields', '-e', 'tcp.stream', '-e', 'flamingo.command'],
        { encoding: 'utf8', env: { ...process.env, HOME: dir } },
      );
      const rows = text
        .trim()
        .split('\n')
        .filter((l) => /\t\S/.test(l))
        .map((l) => l.split('\t'));
      const commands = rows.flatMap(([stream, names]) => (names ?? '').split(',').map((n) => `${stream}:${n}`));
      expect(commands.sort()).toEqual(['0:0x00006008', '0:0x00006008', '0:0x00006008', '1:0x00006008', '1:0x00001007'].sort());
    }
  });

  it('keeps forwarding when the capture file fails (a full disk), and says why it stopped', async () => {
    const up = await rawUpstream();
    const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: up.port, out: '/dev/full' });
    cleanups.push(() => proxy.close());
    const a = await connectRaw(proxy.address.port);
    cleanups.push(() => {
      a.socket.destroy();
    });
    const ua = await up.next();
    // The header write may already have failed while the proxy started.
    const message = proxy.writer.stopped[0] ?? (await nextEvent<string>((deliver) => proxy.once('captureStopped', deliver), 'captureStopped'));
    expect(message).toMatch(/cannot write \/dev\/full: .*ENOSPC/);
    expect(proxy.writer.stopped).toEqual([message]);
    a.socket.write(request(1));
    await ua.waitBytes(128);
    ua.socket.write(request(2));
    await a.waitBytes(128);
    expect(ua.bytes.equals(Buffer.from(request(1)))).toBe(true);
    expect(a.bytes.equals(Buffer.from(request(2)))).toBe(true);
  });

  it('refuses to start when the capture file cannot be opened', async () => {
    await expect(CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: 1, out: '/nonexistent-dir/x.jsonl' })).rejects.toThrow(
      /cannot write \/nonexistent-dir\/x.jsonl: ENOENT/,
    );
  });
});
