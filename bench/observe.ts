/**
 * Observability figures (issue 17):
 * - `/health` latency while a 50 MB workflow upload goes through the gateway and the
 *   instrument floods events (2000/s): the gateway and its HTTP side run here, as deployed;
 *   the simulator AND the uploading app run in a worker thread, so they do not share the
 *   gateway's event loop. A poller here asks /health back to back over one keep-alive
 *   connection from the first byte of the upload until the reply to a request sent behind it.
 * - The cost of `client.stats()` on the request path: serial and pipelined requests with
 *   stats on and off, alternating rounds against the same echo server, best of each.
 * Run alone: `node dist/bench/run.js observe`.
 */
import { Agent, request } from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Command } from '../protocol/commands.js';
import { FlamingoClient } from '../src/client/client.js';
import { FlamingoGateway } from '../src/apps/gateway/gateway.js';
import { SimulatedMicroscope } from '../mocks/simulated-microscope.js';
import { startServer } from './client.js';
import { ClientStats } from '../src/client/stats.js';
import { printTable, round, throughput } from './suite.js';
import type { BenchFigures, BenchSuite } from './suite.js';

const UPLOAD_BYTES = 50 * 1024 * 1024;
const FLOOD_PER_SECOND = 2000;
const WORKER_ROLE = 'flamingo-observe-bench-sim';
const SERIAL = 4000;
const PIPELINED = 100_000;
const WINDOW = 32;
const ROUNDS = 9;

type ToWorker = { kind: 'upload'; gatewayPort: number } | { kind: 'stop' };
type FromWorker = { kind: 'listening'; port: number } | { kind: 'uploading' } | { kind: 'uploaded'; ms: number } | { kind: 'failed'; message: string };

/** Worker: the simulator (64 MiB payloads, event flood) and, when told, the app that uploads through the gateway. */
async function runWorker(): Promise<void> {
  const sim = new SimulatedMicroscope({ maxPayloadBytes: 64 * 1024 * 1024, maxRecords: 1000, faults: `flood=${FLOOD_PER_SECOND}/s:UI_SET_GAUGE_VALUE` });
  const { port } = await sim.listen({ port: 0, host: '127.0.0.1' });
  const post = (m: FromWorker) => parentPort?.postMessage(m);
  post({ kind: 'listening', port });
  parentPort?.on('message', (m: ToWorker) => {
    if (m.kind === 'stop') {
      void sim.close().then(() => parentPort?.close());
      return;
    }
    (async () => {
      const app = await FlamingoClient.connect({ port: m.gatewayPort, requestTimeoutMs: 120_000 });
      const payload = new Uint8Array(UPLOAD_BYTES).fill(0x41);
      post({ kind: 'uploading' });
      const t0 = performance.now();
      // The workflow start is never answered (spec/commands.json): the reply to the request
      // behind it marks the moment the gateway has passed the whole payload on.
      const sent = app.send(Command.CAMERA_WORKFLOW_START, undefined, { payload });
      const behind = app.request(Command.SYSTEM_STATE_GET, undefined, { timeoutMs: 120_000 });
      await sent;
      await behind;
      post({ kind: 'uploaded', ms: performance.now() - t0 });
      await app.close();
    })().catch((error: unknown) => post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }));
  });
}

function getHealth(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`/health answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

async function healthDuringUpload(): Promise<{ idle: number[]; busy: number[]; uploadMs: number }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE } });
  const messages: FromWorker[] = [];
  // Every waiting `next` is woken by each message (two wait at once: uploaded or failed).
  let wakers: (() => void)[] = [];
  worker.on('message', (m: FromWorker) => {
    messages.push(m);
    const woken = wakers;
    wakers = [];
    for (const w of woken) w();
  });
  const next = async <K extends FromWorker['kind']>(kind: K): Promise<Extract<FromWorker, { kind: K }>> => {
    for (;;) {
      const i = messages.findIndex((m) => m.kind === kind);
      if (i >= 0) return messages.splice(i, 1)[0] as Extract<FromWorker, { kind: K }>;
      await new Promise<void>((resolve) => wakers.push(resolve));
    }
  };
  const { port: simPort } = await next('listening');
  const gateway = await FlamingoGateway.start({
    upstreamPort: simPort,
    port: 0,
    livePort: false,
    maxPayloadBytes: 64 * 1024 * 1024,
    requestTimeoutMs: 120_000,
    http: { port: 0 },
  });
  const cutOff: string[] = [];
  gateway.on('closed', (session) => cutOff.push(session.reason));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const httpPort = gateway.address.httpPort as number;
  try {
    const idle: number[] = [];
    for (let i = 0; i < 300; i++) idle.push(await getHealth(httpPort, agent));
    worker.postMessage({ kind: 'upload', gatewayPort: gateway.address.port } satisfies ToWorker);
    await next('uploading');
    const busy: number[] = [];
    // Set by the worker's answer while the poller runs (an object, so the loop sees the change).
    const outcome: { uploadMs?: number; failed?: string } = {};
    void next('uploaded').then((m) => (outcome.uploadMs = m.ms));
    void next('failed').then((m) => (outcome.failed = `${m.message}${cutOff.length > 0 ? ` (gateway: ${cutOff.join(', ')})` : ''}`));
    while (outcome.uploadMs === undefined && outcome.failed === undefined) busy.push(await getHealth(httpPort, agent));
    if (outcome.failed !== undefined) throw new Error(`the upload through the gateway failed: ${outcome.failed}`);
    return { idle, busy, uploadMs: outcome.uploadMs as number };
  } finally {
    agent.destroy();
    await gateway.close();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ kind: 'stop' } satisfies ToWorker);
    await exited;
  }
}

async function serial(port: number, stats: boolean): Promise<number> {
  const client = await FlamingoClient.connect({ port, mode: 'sequenced', stats });
  try {
    for (let i = 0; i < 200; i++) await client.request(Command.SYSTEM_STATE_GET);
    const start = performance.now();
    for (let i = 0; i < SERIAL; i++) await client.request(Command.SYSTEM_STATE_GET);
    return ((performance.now() - start) * 1000) / SERIAL;
  } finally {
    await client.close();
  }
}

async function pipelined(port: number, stats: boolean): Promise<number> {
  const client = await FlamingoClient.connect({ port, mode: 'sequenced', maxInFlight: WINDOW, maxQueued: WINDOW, stats });
  try {
    let issued = 0;
    const lane = async (count: number): Promise<void> => {
      while (issued < count) {
        issued++;
        await client.request(Command.SYSTEM_STATE_GET);
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, () => lane(2000)));
    issued = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: WINDOW }, () => lane(PIPELINED)));
    return (PIPELINED * 1000) / (performance.now() - start);
  } finally {
    await client.close();
  }
}

async function statsCost(): Promise<{ serialOn: number; serialOff: number; rpsOn: number; rpsOff: number }> {
  const server = await startServer();
  try {
    const on: number[] = [];
    const off: number[] = [];
    const rpsOn: number[] = [];
    const rpsOff: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so drift in the machine's load hits both alike.
      if (r % 2 === 0) {
        on.push(await serial(server.port, true));
        off.push(await serial(server.port, false));
        rpsOn.push(await pipelined(server.port, true));
        rpsOff.push(await pipelined(server.port, false));
      } else {
        off.push(await serial(server.port, false));
        on.push(await serial(server.port, true));
        rpsOff.push(await pipelined(server.port, false));
        rpsOn.push(await pipelined(server.port, true));
      }
    }
    return { serialOn: Math.min(...on), serialOff: Math.min(...off), rpsOn: Math.max(...rpsOn), rpsOff: Math.max(...rpsOff) };
  } finally {
    await server.stop();
  }
}

/**
 * What the stats add to one request, in isolation: the calls the link makes for a request
 * and its reply (sent, packet seen, turn wait, round trip), with the clock reads they need
 * (`throughput` adds one more per call, so this is an upper bound).
 */
function recordCostNs(): number {
  const stats = new ClientStats();
  const codes = [0xa007, 0x6008, 0x6004, 0x2001];
  let i = 0;
  const writtenAt = performance.now();
  // As the link does for a serial request: one clock read for the round trip, one chunk.
  const perSecond = throughput(
    () => {
      const code = codes[i++ & 3] as number;
      stats.noteSent(code);
      stats.notePacket();
      stats.recordTurnWait(0);
      stats.recordRoundTrip(code, performance.now() - writtenAt);
    },
    1,
    500,
  );
  return 1e9 / perSecond;
}

/** The observability bench as `bench/run.ts` runs it. */
export const observeSuite: BenchSuite = {
  name: 'observe',
  async run(): Promise<BenchFigures> {
    const health = await healthDuringUpload();
    const cost = await statsCost();
    const recordNs = recordCostNs();
    const idleP50 = quantile(health.idle, 0.5);
    const busyP50 = quantile(health.busy, 0.5);
    const busyP99 = quantile(health.busy, 0.99);
    const busyMax = Math.max(...health.busy);
    printTable(
      ['figure', 'value'],
      [
        ['/health idle p50 (ms)', idleP50.toFixed(2)],
        [`/health during a 50 MB upload + ${FLOOD_PER_SECOND} events/s: p50 (ms)`, busyP50.toFixed(2)],
        ['  p99 (ms)', busyP99.toFixed(2)],
        ['  max (ms)', busyMax.toFixed(2)],
        ['  answers during the upload', String(health.busy.length)],
        ['50 MB upload through the gateway (ms)', health.uploadMs.toFixed(0)],
        ['serial round trip, stats on / off (µs)', `${cost.serialOn.toFixed(1)} / ${cost.serialOff.toFixed(1)}`],
        ['pipelined requests/s, stats on / off', `${cost.rpsOn.toFixed(0)} / ${cost.rpsOff.toFixed(0)}`],
        ['stats recorded per request, in isolation (ns)', recordNs.toFixed(0)],
      ],
    );
    return {
      observe_health_idle_p50_ms: round(idleP50),
      observe_health_upload_p50_ms: round(busyP50),
      observe_health_upload_p99_ms: round(busyP99),
      observe_health_upload_max_ms: round(busyMax),
      observe_health_upload_samples: health.busy.length,
      observe_upload_50mb_gateway_ms: round(health.uploadMs, 0),
      observe_stats_on_serial_us: round(cost.serialOn, 1),
      observe_stats_off_serial_us: round(cost.serialOff, 1),
      observe_stats_cost_ratio_serial: round(cost.serialOn / cost.serialOff),
      observe_stats_on_pipelined_rps: round(cost.rpsOn, 0),
      observe_stats_off_pipelined_rps: round(cost.rpsOff, 0),
      observe_stats_cost_ratio_pipelined: round(cost.rpsOff / cost.rpsOn),
      observe_stats_record_ns_per_request: round(recordNs, 0),
    };
  },
};

if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) await runWorker();
