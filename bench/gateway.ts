import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from '../protocol/commands.js';
import { FlamingoClient } from '../src/client/client.js';
import { printTable, round, type BenchFigures, type BenchSuite } from './suite.js';

/**
 * Gateway figures. The simulator and the gateway run as their own processes (the built
 * `flamingo sim` and `flamingo gateway`), as they would in a lab, so the bench process's
 * event loop is not shared with them:
 * - latency of one request at a time, direct to the simulator and through the gateway
 *   (median of alternating blocks), and their ratio (target ≤ 1.5);
 * - aggregate requests/s of 8 clients with 8 requests in flight each, through the gateway
 *   and, for comparison, direct.
 */

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/**
 * The floor any relay pays: a byte pipe between two sockets in its own process, with no
 * parsing at all. Measured beside the gateway so the ratio can be read against it (on a
 * loaded 2-core machine each extra process hop costs a context switch per direction).
 */
const PIPE_PROXY = `const net = require('node:net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const server = net.createServer((c) => {
  const u = net.connect(port, host);
  c.setNoDelay(true); u.setNoDelay(true);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
});
server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));`;

/** Start a built CLI command and resolve with the port of its `listening on HOST:PORT` line. */
function startCli(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args[0] === '-e' ? args : [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`${args[0]} did not start: ${out}${err}`)), 15_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^listening on [^\n]*:(\d+)$/m.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', () => fail(new Error(`${args[0]} exited: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Per-request latencies (µs) of `count` sequential requests. */
async function sequential(client: FlamingoClient, count: number, into: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await client.request(Command.SYSTEM_STATE_GET);
    into.push((performance.now() - t0) * 1000);
  }
}

/** Requests/s of `clients`, each keeping `depth` requests in flight for `ms`. */
async function aggregate(clients: FlamingoClient[], depth: number, ms: number): Promise<number> {
  let done = 0;
  const deadline = performance.now() + ms;
  const t0 = performance.now();
  const lane = async (client: FlamingoClient, axis: number) => {
    while (performance.now() < deadline) {
      await client.request(Command.STAGE_POSITION_GET, { int32Data0: axis });
      done++;
    }
  };
  await Promise.all(clients.flatMap((client) => Array.from({ length: depth }, (_, i) => lane(client, 1 + (i % 3)))));
  return (done * 1000) / (performance.now() - t0);
}

async function runGatewayBench(): Promise<BenchFigures> {
  const sim = await startCli(['sim', '--port', '0', '--quiet', '--time-scale', '1000']);
  let gateway: { child: ChildProcess; port: number } | undefined;
  let pipe: { child: ChildProcess; port: number } | undefined;
  const clients: FlamingoClient[] = [];
  try {
    gateway = await startCli(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--listen', '127.0.0.1:0', '--quiet']);
    const direct = await FlamingoClient.connect({ port: sim.port });
    const via = await FlamingoClient.connect({ port: gateway.port });
    pipe = await startCli(['-e', PIPE_PROXY, '127.0.0.1', String(sim.port)]);
    const piped = await FlamingoClient.connect({ port: pipe.port });
    clients.push(direct, via, piped);
    const warm: number[] = [];
    await sequential(direct, 300, warm);
    await sequential(via, 300, warm);
    await sequential(piped, 300, warm);
    const directUs: number[] = [];
    const viaUs: number[] = [];
    const pipedUs: number[] = [];
    for (let block = 0; block < 6; block++) {
      await sequential(direct, 500, directUs);
      await sequential(via, 500, viaUs);
      await sequential(piped, 500, pipedUs);
    }
    const directLatency = median(directUs);
    const viaLatency = median(viaUs);
    const pipedLatency = median(pipedUs);

    const viaClients = await Promise.all(Array.from({ length: 8 }, () => FlamingoClient.connect({ port: (gateway as { port: number }).port })));
    clients.push(...viaClients);
    await aggregate(viaClients, 8, 300);
    const viaRate = await aggregate(viaClients, 8, 2000);
    const directClients = await Promise.all(Array.from({ length: 8 }, () => FlamingoClient.connect({ port: sim.port })));
    clients.push(...directClients);
    await aggregate(directClients, 8, 300);
    const directRate = await aggregate(directClients, 8, 2000);

    printTable(
      ['figure', 'direct', 'through gateway', 'through a byte pipe'],
      [
        ['median latency, 1 request at a time (µs)', directLatency.toFixed(1), viaLatency.toFixed(1), pipedLatency.toFixed(1)],
        ['requests/s, 8 clients x 8 in flight', directRate.toFixed(0), viaRate.toFixed(0), '-'],
      ],
    );
    console.log(`latency ratio ${(viaLatency / directLatency).toFixed(2)} (target <= 1.5); a bare byte pipe: ${(pipedLatency / directLatency).toFixed(2)}`);
    return {
      gateway_direct_latency_us: round(directLatency, 1),
      gateway_latency_us: round(viaLatency, 1),
      gateway_latency_ratio: round(viaLatency / directLatency, 2),
      gateway_pipe_floor_latency_us: round(pipedLatency, 1),
      gateway_pipe_floor_ratio: round(pipedLatency / directLatency, 2),
      gateway_req_per_s_8_clients: Math.round(viaRate),
      gateway_direct_req_per_s_8_clients: Math.round(directRate),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    if (gateway !== undefined) await stop(gateway.child);
    if (pipe !== undefined) await stop(pipe.child);
    await stop(sim.child);
  }
}

/** The gateway suite for bench/run.ts. */
export const gatewaySuite: BenchSuite = { name: 'gateway', run: runGatewayBench };
