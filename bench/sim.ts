/**
 * Simulator figures (issue 14). `flamingo sim` runs as a user starts it (its own process,
 * default logging) and is driven by a raw node:net client, so only the server is measured:
 * - against a bare echo process (bench/processes.ts ECHO_SERVER), serial and with 32 in
 *   flight: rounds of simulator and echo alternate, the ratio is of their medians;
 * - its age: 1,000,000 pipelined requests on one connection, the rate of the last 50,000
 *   over the rate of the first 50,000, and the simulator's resident memory along the way;
 *   then the aged simulator against a fresh one in alternating rounds (less sensitive to
 *   a neighbour's load than two windows a minute apart).
 * `node dist/bench/run.js sim` runs it alone; SIM_AGE_REQUESTS shortens the age run.
 */
import { printTable, round, type BenchFigures, type BenchSuite } from './suite.js';
import { cpuMicros, ECHO_SERVER, median, RawDriver, residentBytes, startProcess, stopProcess, type Started } from './processes.js';

const SERIAL = 3000;
const PIPELINED = 30_000;
const WINDOW = 32;
const ROUNDS = 7;
const AGE_REQUESTS = Number(process.env.SIM_AGE_REQUESTS ?? 1_000_000);
const AGE_WINDOW = 50_000;
const MB = 1024 * 1024;

const SIM_ARGS = ['sim', '--port', '0', '--time-scale', '1000'];

/** Serial µs per request and pipelined requests/s of one server, `ROUNDS` alternating rounds each. */
async function versusEcho(sim: RawDriver, echo: RawDriver, simPid: number | undefined, echoPid: number | undefined): Promise<BenchFigures> {
  const simSerial: number[] = [];
  const echoSerial: number[] = [];
  const simPiped: number[] = [];
  const echoPiped: number[] = [];
  await sim.run(2000, WINDOW);
  await echo.run(2000, WINDOW);
  // CPU time each server spent in the pipelined rounds (µs per request): the cost of the
  // request path itself, whatever the wall clock did meanwhile.
  let simCpu = 0;
  let echoCpu = 0;
  for (let r = 0; r < ROUNDS; r++) {
    simSerial.push(((await sim.run(SERIAL, 1)) * 1000) / SERIAL);
    echoSerial.push(((await echo.run(SERIAL, 1)) * 1000) / SERIAL);
    let before = cpuMicros(simPid);
    simPiped.push((PIPELINED * 1000) / (await sim.run(PIPELINED, WINDOW)));
    simCpu += cpuMicros(simPid) - before;
    before = cpuMicros(echoPid);
    echoPiped.push((PIPELINED * 1000) / (await echo.run(PIPELINED, WINDOW)));
    echoCpu += cpuMicros(echoPid) - before;
  }
  const simCpuUs = simCpu / (ROUNDS * PIPELINED);
  const echoCpuUs = echoCpu / (ROUNDS * PIPELINED);
  const s = median(simSerial);
  const e = median(echoSerial);
  const sp = median(simPiped);
  const ep = median(echoPiped);
  printTable(
    ['figure (median of alternating rounds)', 'flamingo sim', 'bare echo', 'sim / echo'],
    [
      ['serial round trip (µs)', s.toFixed(1), e.toFixed(1), ''],
      ['serial requests/s', (1e6 / s).toFixed(0), (1e6 / e).toFixed(0), (e / s).toFixed(2)],
      [`requests/s, ${WINDOW} in flight`, sp.toFixed(0), ep.toFixed(0), (sp / ep).toFixed(2)],
      [`server CPU µs per request, ${WINDOW} in flight`, simCpuUs.toFixed(2), echoCpuUs.toFixed(2), ''],
    ],
  );
  return {
    sim_serial_rtt_us: round(s, 1),
    sim_echo_serial_rtt_us: round(e, 1),
    sim_vs_echo_serial: round(e / s, 3),
    sim_pipelined_rps: Math.round(sp),
    sim_echo_pipelined_rps: Math.round(ep),
    sim_vs_echo_pipelined: round(sp / ep, 3),
    sim_cpu_us_per_request: round(simCpuUs, 2),
    sim_echo_cpu_us_per_request: round(echoCpuUs, 2),
  };
}

/** 1e6 requests through one simulator; rates of the first and last 50k; memory along the way. */
async function age(sim: Started, driver: RawDriver): Promise<BenchFigures> {
  const marks: { done: number; at: number; rss: number }[] = [];
  const start = performance.now();
  marks.push({ done: 0, at: start, rss: residentBytes(sim.child.pid) });
  await driver.run(AGE_REQUESTS, WINDOW, AGE_WINDOW, (done, at) => marks.push({ done, at, rss: residentBytes(sim.child.pid) }));
  const rate = (i: number) => {
    const a = marks[i - 1] as (typeof marks)[number];
    const b = marks[i] as (typeof marks)[number];
    return ((b.done - a.done) * 1000) / (b.at - a.at);
  };
  const first = rate(1);
  const last = rate(marks.length - 1);
  const rssAfterFirst = (marks[1]?.rss ?? Number.NaN) / MB;
  const rssMax = Math.max(...marks.map((m) => m.rss)) / MB;
  const rssEnd = (marks[marks.length - 1]?.rss ?? Number.NaN) / MB;
  printTable(
    ['window', 'requests/s', 'sim RSS MB'],
    marks
      .slice(1)
      .map((m, i) => [`${((m.done - AGE_WINDOW) / 1000).toFixed(0)}k..${(m.done / 1000).toFixed(0)}k`, rate(i + 1).toFixed(0), (m.rss / MB).toFixed(1)]),
  );
  console.log(
    `${AGE_REQUESTS} requests: last ${AGE_WINDOW} / first ${AGE_WINDOW} = ${(last / first).toFixed(2)}; RSS ${rssAfterFirst.toFixed(1)} MB after the first window, ${rssMax.toFixed(1)} MB at most`,
  );
  return {
    sim_age_requests: AGE_REQUESTS,
    sim_age_first_rps: Math.round(first),
    sim_age_last_rps: Math.round(last),
    sim_age_ratio: round(last / first, 3),
    sim_age_rss_first_mb: round(rssAfterFirst, 1),
    sim_age_rss_max_mb: round(rssMax, 1),
    sim_age_rss_end_mb: round(rssEnd, 1),
  };
}

/** The aged simulator against a fresh one, alternating pipelined rounds; ratio of medians. */
async function agedVersusFresh(aged: RawDriver, fresh: RawDriver): Promise<BenchFigures> {
  const a: number[] = [];
  const f: number[] = [];
  await fresh.run(2000, WINDOW);
  for (let r = 0; r < ROUNDS; r++) {
    a.push((PIPELINED * 1000) / (await aged.run(PIPELINED, WINDOW)));
    f.push((PIPELINED * 1000) / (await fresh.run(PIPELINED, WINDOW)));
  }
  const ratio = median(a) / median(f);
  console.log(
    `aged (${AGE_REQUESTS} requests) vs fresh simulator, ${WINDOW} in flight: ${median(a).toFixed(0)} / ${median(f).toFixed(0)} requests/s = ${ratio.toFixed(2)}`,
  );
  return { sim_aged_vs_fresh: round(ratio, 3) };
}

async function runSimBench(): Promise<BenchFigures> {
  const started: Started[] = [];
  const drivers: RawDriver[] = [];
  try {
    const sim = await startProcess(SIM_ARGS);
    started.push(sim);
    const echo = await startProcess(['-e', ECHO_SERVER]);
    started.push(echo);
    const simDriver = await RawDriver.connect(sim.port);
    const echoDriver = await RawDriver.connect(echo.port);
    drivers.push(simDriver, echoDriver);
    const figures = await versusEcho(simDriver, echoDriver, sim.child.pid, echo.child.pid);
    const ageDriver = await RawDriver.connect(sim.port);
    drivers.push(ageDriver);
    Object.assign(figures, await age(sim, ageDriver));
    const fresh = await startProcess(SIM_ARGS);
    started.push(fresh);
    const freshDriver = await RawDriver.connect(fresh.port);
    drivers.push(freshDriver);
    Object.assign(figures, await agedVersusFresh(ageDriver, freshDriver));
    return figures;
  } finally {
    for (const d of drivers) d.close();
    await Promise.all(started.map((s) => stopProcess(s.child)));
  }
}

/** The simulator suite of `npm run bench`. */
export const simSuite: BenchSuite = { name: 'sim', run: runSimBench };
