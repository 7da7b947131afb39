/**
 * Client bench: what FlamingoClient costs over a raw node:net loop doing the same work.
 *
 * The server is the same for both sides: a raw node:net server in its own process that
 * answers every 128-byte packet with a copy (status 1, every header field echoed, so the
 * client probes into sequenced mode). Figures, each beside its raw floor from the same run:
 * - serial round trip (µs) of `client.request` in sequenced and in lease mode vs a raw
 *   ping-pong of 128-byte packets (targets ≤ 1.15 and ≤ 1.2);
 * - pipelined requests/s in sequenced mode (maxInFlight 32) vs raw with 32 outstanding
 *   (target ≥ 0.85). Client and raw rounds alternate; each figure is the median of its
 *   rounds, so a neighbour's load spike in one round does not decide a ratio;
 * - heap growth after 1e6 unsolicited events with no listener (target < 20 MB).
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Command, PACKET_SIZE, encodePacket } from '../protocol/index.js';
import { createMemoryPair } from '../transports/memory.js';
import { writeAndWaitForRoom } from '../transports/transport.js';
import { FlamingoClient } from '../src/client/client.js';
import { printTable, round } from './suite.js';
import { ECHO_SERVER, median, startProcess, stopProcess } from './processes.js';
import type { BenchFigures, BenchSuite } from './suite.js';

const SERIAL = 4000;
const PIPELINED = 40_000;
const WINDOW = 32;
const ROUNDS = 7;
const EVENTS = 1_000_000;

/**
 * The echo server, in its own process (pinned to the other CPU, bench/pinning.ts) so that it
 * shares neither the client's event loop nor its core.
 */
export async function startServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const server = await startProcess(['-e', ECHO_SERVER]);
  return { port: server.port, stop: () => stopProcess(server.child) };
}

/** Raw floor: `window` packets outstanding, `count` round trips; returns elapsed ms. */
function rawLoop(port: number, count: number, window: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const packet = Buffer.from(encodePacket({ code: Command.SYSTEM_STATE_GET, clientId: 1, cmdDataBits0: 0x80000000 }));
    const socket = net.createConnection({ port, host: '127.0.0.1', noDelay: true });
    let sent = 0;
    let received = 0;
    let pendingBytes = 0;
    let start = 0;
    socket.on('error', reject);
    socket.on('connect', () => {
      start = performance.now();
      for (; sent < Math.min(window, count); sent++) socket.write(packet);
    });
    socket.on('data', (chunk: Buffer) => {
      pendingBytes += chunk.length;
      while (pendingBytes >= PACKET_SIZE) {
        pendingBytes -= PACKET_SIZE;
        received++;
        if (sent < count) {
          sent++;
          socket.write(packet);
        }
      }
      if (received === count) {
        const elapsed = performance.now() - start;
        socket.destroy();
        resolve(elapsed);
      }
    });
  });
}

async function clientSerial(port: number, mode: 'sequenced' | 'lease', count: number): Promise<number> {
  const client = await FlamingoClient.connect({ port, mode });
  try {
    for (let i = 0; i < 200; i++) await client.request(Command.SYSTEM_STATE_GET);
    const start = performance.now();
    for (let i = 0; i < count; i++) await client.request(Command.SYSTEM_STATE_GET);
    return performance.now() - start;
  } finally {
    await client.close();
  }
}

async function clientPipelined(port: number, count: number): Promise<number> {
  const client = await FlamingoClient.connect({ port, mode: 'sequenced', maxInFlight: WINDOW, maxQueued: WINDOW });
  try {
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (issued < count) {
        issued++;
        await client.request(Command.SYSTEM_STATE_GET);
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, () => worker()));
    issued = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: WINDOW }, () => worker()));
    return performance.now() - start;
  } finally {
    await client.close();
  }
}

function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/** 1e6 unsolicited events through a client with no listener; returns heap growth (bytes) and events/s. */
async function eventFlood(): Promise<{ growth: number; perSecond: number }> {
  const gc = collectGarbage();
  const [clientSide, serverSide] = createMemoryPair({ highWaterBytes: 4 * 1024 * 1024 });
  serverSide.attach({ data: () => undefined, close: () => undefined });
  const client = await FlamingoClient.connect({ transport: clientSide, mode: 'lease' });
  const perChunk = 4096;
  const chunk = new Uint8Array(perChunk * PACKET_SIZE);
  for (let i = 0; i < perChunk; i++) chunk.set(encodePacket({ code: Command.UI_SET_GAUGE_VALUE, status: 1, int32Data0: i }), i * PACKET_SIZE);
  const done = client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 120_000 });
  gc();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  for (let sent = 0; sent < EVENTS; sent += perChunk) await writeAndWaitForRoom(serverSide, chunk);
  await writeAndWaitForRoom(serverSide, encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }));
  await done;
  const elapsed = performance.now() - start;
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  await client.close();
  const sentEvents = Math.ceil(EVENTS / perChunk) * perChunk;
  return { growth, perSecond: (sentEvents * 1000) / elapsed };
}

/** The client bench as `bench/run.ts` runs it: client figures beside their raw node:net floors. */
export const clientSuite: BenchSuite = {
  name: 'client',
  async run(): Promise<BenchFigures> {
    const server = await startServer();
    try {
      const rawSerial: number[] = [];
      const seqSerial: number[] = [];
      const leaseSerial: number[] = [];
      const rawPiped: number[] = [];
      const seqPiped: number[] = [];
      await rawLoop(server.port, 500, 1);
      for (let r = 0; r < ROUNDS; r++) {
        rawSerial.push((await rawLoop(server.port, SERIAL, 1)) / SERIAL);
        seqSerial.push((await clientSerial(server.port, 'sequenced', SERIAL)) / SERIAL);
        leaseSerial.push((await clientSerial(server.port, 'lease', SERIAL)) / SERIAL);
        rawPiped.push(PIPELINED / (await rawLoop(server.port, PIPELINED, WINDOW)));
        seqPiped.push(PIPELINED / (await clientPipelined(server.port, PIPELINED)));
      }
      const raw = median(rawSerial) * 1000;
      const seq = median(seqSerial) * 1000;
      const lease = median(leaseSerial) * 1000;
      const rawRps = median(rawPiped) * 1000;
      const seqRps = median(seqPiped) * 1000;
      const flood = await eventFlood();
      printTable(
        ['figure', 'client', 'raw node:net', 'ratio'],
        [
          ['serial round trip, sequenced (µs)', seq.toFixed(1), raw.toFixed(1), (seq / raw).toFixed(2)],
          ['serial round trip, lease (µs)', lease.toFixed(1), raw.toFixed(1), (lease / raw).toFixed(2)],
          ['sequenced requests/s (serial)', (1e6 / seq).toFixed(0), (1e6 / raw).toFixed(0), (raw / seq).toFixed(2)],
          ['lease requests/s (serial)', (1e6 / lease).toFixed(0), (1e6 / raw).toFixed(0), (raw / lease).toFixed(2)],
          [`pipelined requests/s (window ${WINDOW})`, seqRps.toFixed(0), rawRps.toFixed(0), (seqRps / rawRps).toFixed(2)],
          ['1e6 events, no listener: heap growth (MB)', (flood.growth / 1e6).toFixed(2), '', ''],
          ['1e6 events, no listener: events/s', flood.perSecond.toFixed(0), '', ''],
        ],
      );
      return {
        client_rtt_us: round(seq, 1),
        client_lease_rtt_us: round(lease, 1),
        client_raw_rtt_us: round(raw, 1),
        client_rtt_ratio: round(seq / raw, 3),
        client_lease_rtt_ratio: round(lease / raw, 3),
        client_lease_rps: Math.round(1e6 / lease),
        client_raw_serial_rps: Math.round(1e6 / raw),
        client_pipelined_rps: Math.round(seqRps),
        client_raw_pipelined_rps: Math.round(rawRps),
        client_pipelined_ratio: round(seqRps / rawRps, 3),
        client_event_heap_growth_mb: round(flood.growth / 1e6, 2),
        client_events_per_s: Math.round(flood.perSecond),
      };
    } finally {
      await server.stop();
    }
  },
};
