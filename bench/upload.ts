/**
 * Upload figures: what a 50 MB trailing-payload upload does to the rest of a sequenced
 * connection. A request issued while the payload is going out cannot overtake it (the
 * payload must follow its header contiguously on the wire), so its latency is compared
 * both with the same request on an idle connection and with the time it had to wait for
 * what was queued ahead of it (the rest of the payload, and the instrument's handling of it).
 *
 * The simulator runs in a worker thread, so its work (deframing 50 MB, hashing it for its
 * records) does not share the client's event loop. Run alone: `node dist/bench/run.js upload`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Command } from '../protocol/commands.js';
import { FlamingoClient } from '../src/client/client.js';
import { SimulatedMicroscope } from '../mocks/simulated-microscope.js';
import { printTable, round } from './suite.js';
import type { BenchFigures, BenchSuite } from './suite.js';

const UPLOAD_BYTES = 50 * 1024 * 1024;
const IDLE_REQUESTS = 300;
const ROUNDS = 3;
/** Fractions of the payload sent at which a concurrent request is issued. */
const PROBE_POINTS = [0.1, 0.3, 0.5, 0.7, 0.9];
const FLOOD_PER_SECOND = 2000;
const WORKER_ROLE = 'flamingo-upload-bench-sim';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Worker side: a simulator that accepts 64 MiB payloads and floods gauge events, until told to stop. */
async function runSimWorker(): Promise<void> {
  const sim = new SimulatedMicroscope({
    maxPayloadBytes: 64 * 1024 * 1024,
    maxRecords: 1000,
    // The clients below run in sequenced mode: the simulator must echo the sequence field
    // (it no longer does by default), or every reply is taken for an event.
    echoSequence: true,
    faults: `flood=${FLOOD_PER_SECOND}/s:UI_SET_GAUGE_VALUE`,
  });
  const { port } = await sim.listen({ port: 0, host: '127.0.0.1' });
  parentPort?.postMessage({ port });
  parentPort?.once('message', () => {
    void sim.close().then(() => parentPort?.close());
  });
}

async function startSimWorker(): Promise<{ port: number; stop(): Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    port,
    async stop() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await exited;
    },
  };
}

async function timed(client: FlamingoClient): Promise<number> {
  const t0 = performance.now();
  await client.request(Command.SYSTEM_STATE_GET);
  return performance.now() - t0;
}

interface RoundResult {
  writeMs: number;
  /** Until the reply of the request queued right behind the upload (the end of the upload as the instrument saw it). */
  replyMs: number;
  /** Per probe: latency, and how long the upload still needed from the probe's issue until its reply. */
  probes: { latencyMs: number; queuedAheadMs: number }[];
  secondConnectionMs: number[];
  maxEventGapMs: number;
  eventsWhileWriting: number;
  /** Longest stall of the client's own event loop during the round (perf_hooks histogram). */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
}

/**
 * One upload with probes. Probes are issued as progress passes PROBE_POINTS, or, when
 * `probeAtMs` is given (the one-write baseline reports progress only at its end), at those
 * times after the start.
 */
async function uploadRound(client: FlamingoClient, second: FlamingoClient, payload: Uint8Array, probeAtMs?: readonly number[]): Promise<RoundResult> {
  const probes: { issuedAt: number; done: Promise<number> }[] = [];
  const secondLatencies: Promise<number>[] = [];
  let next = 0;
  let writtenAt = 0;
  let lastEventAt = 0;
  let maxGap = 0;
  let eventsWhileWriting = 0;
  let writing = true;
  const onEvent = (): void => {
    const now = performance.now();
    if (writing) {
      eventsWhileWriting++;
      if (lastEventAt > 0) maxGap = Math.max(maxGap, now - lastEventAt);
      lastEventAt = now;
    }
  };
  client.on('UI_SET_GAUGE_VALUE', onEvent);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const start = performance.now();
  lastEventAt = start;
  const probe = (): void => {
    const issuedAt = performance.now();
    probes.push({ issuedAt, done: client.request(Command.SYSTEM_STATE_GET).then(() => performance.now() - issuedAt) });
    secondLatencies.push(timed(second));
  };
  const timers = (probeAtMs ?? []).map((ms) => setTimeout(probe, ms));
  // The instrument never answers WORKFLOW_START (spec/protocol.md), so the payload goes with
  // send() and a request queued right behind it marks the end: its reply can only come once
  // the instrument has taken the whole payload.
  const sent = client.send(Command.CAMERA_WORKFLOW_START, undefined, {
    payload,
    onUploadProgress: ({ sent, total }) => {
      while (probeAtMs === undefined && next < PROBE_POINTS.length && sent >= (PROBE_POINTS[next] as number) * total) {
        next++;
        probe();
      }
      if (sent === total) {
        writtenAt = performance.now();
        writing = false;
      }
    },
  });
  const behind = client.request(Command.SYSTEM_STATE_GET, undefined, { timeoutMs: 60_000 });
  await Promise.all([sent, behind]);
  const repliedAt = performance.now();
  for (const t of timers) clearTimeout(t);
  const latencies = await Promise.all(probes.map((p) => p.done));
  loop.disable();
  client.off('UI_SET_GAUGE_VALUE', onEvent);
  return {
    writeMs: writtenAt - start,
    replyMs: repliedAt - start,
    probes: probes.map((p, i) => ({ latencyMs: latencies[i] as number, queuedAheadMs: repliedAt - p.issuedAt })),
    secondConnectionMs: await Promise.all(secondLatencies),
    maxEventGapMs: maxGap,
    eventsWhileWriting,
    // The histogram is in ns and includes the 1 ms sampling resolution.
    loopDelayMaxMs: loop.max / 1e6,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
  };
}

async function runUploadBench(): Promise<BenchFigures> {
  const sim = await startSimWorker();
  const client = await FlamingoClient.connect({ port: sim.port, mode: 'sequenced', requestTimeoutMs: 60_000 });
  const second = await FlamingoClient.connect({ port: sim.port, mode: 'sequenced' });
  // Baseline: the whole packet handed to the socket in one write (header + 50 MB copied into one buffer).
  const oneShot = await FlamingoClient.connect({ port: sim.port, mode: 'sequenced', requestTimeoutMs: 60_000, uploadChunkBytes: 64 * 1024 * 1024 });
  try {
    for (let i = 0; i < 100; i++) await timed(client);
    const idle: number[] = [];
    for (let i = 0; i < IDLE_REQUESTS; i++) idle.push(await timed(client));

    // Zero bytes: the simulator's text decode is cheap and its answer is status 0 ("not a workflow").
    const payload = new Uint8Array(UPLOAD_BYTES);
    const rounds: RoundResult[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await uploadRound(client, second, payload));
    // Probes at the same fractions of the chunked upload's write time.
    const chunkedWriteMs = median(rounds.map((r) => r.writeMs));
    const baseline = await uploadRound(
      oneShot,
      second,
      payload,
      PROBE_POINTS.map((f) => f * chunkedWriteMs),
    );

    const idleMs = median(idle);
    const probeLatencies = rounds.flatMap((r) => r.probes.map((p) => p.latencyMs));
    const excess = rounds.flatMap((r) => r.probes.map((p) => p.latencyMs - p.queuedAheadMs));
    const secondMs = rounds.flatMap((r) => r.secondConnectionMs);
    const writeMs = chunkedWriteMs;
    const replyMs = median(rounds.map((r) => r.replyMs));
    const figures: BenchFigures = {
      upload_idle_latency_ms: round(idleMs),
      upload_idle_latency_p95_ms: round(percentile(idle, 0.95)),
      upload_concurrent_latency_ms: round(median(probeLatencies)),
      upload_concurrent_latency_ratio: round(median(probeLatencies) / idleMs, 1),
      upload_concurrent_excess_over_queued_ms: round(median(excess)),
      upload_concurrent_excess_max_ms: round(Math.max(...excess)),
      upload_second_connection_latency_ms: round(median(secondMs)),
      upload_second_connection_ratio: round(median(secondMs) / idleMs, 2),
      upload_write_ms: round(writeMs, 1),
      upload_reply_ms: round(replyMs, 1),
      upload_throughput_mb_s: round(UPLOAD_BYTES / (1024 * 1024) / (writeMs / 1000), 1),
      upload_max_event_gap_ms: round(Math.max(...rounds.map((r) => r.maxEventGapMs))),
      upload_events_while_writing: Math.round(median(rounds.map((r) => r.eventsWhileWriting))),
      upload_client_loop_delay_max_ms: round(Math.max(...rounds.map((r) => r.loopDelayMaxMs))),
      upload_client_loop_delay_p99_ms: round(median(rounds.map((r) => r.loopDelayP99Ms))),
      upload_oneshot_write_ms: round(baseline.writeMs, 1),
      upload_oneshot_concurrent_latency_ms: round(median(baseline.probes.map((p) => p.latencyMs))),
      upload_oneshot_excess_over_queued_ms: round(median(baseline.probes.map((p) => p.latencyMs - p.queuedAheadMs))),
      upload_oneshot_client_loop_delay_max_ms: round(baseline.loopDelayMaxMs),
      upload_oneshot_client_loop_delay_p99_ms: round(baseline.loopDelayP99Ms),
    };
    printTable(
      ['figure', 'value'],
      Object.entries(figures).map(([k, v]) => [k, String(v)]),
    );
    return figures;
  } finally {
    await client.close();
    await second.close();
    await oneShot.close();
    await sim.stop();
  }
}

/** The upload suite for bench/run.ts. */
export const uploadSuite: BenchSuite = { name: 'upload', run: runUploadBench };

if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) await runSimWorker();
