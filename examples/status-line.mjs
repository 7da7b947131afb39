#!/usr/bin/env node
/**
 * A GUI-style status display: one terminal line that shows `client.state` (stage, lasers,
 * system, workflow progress, link) and is redrawn whenever the mirror changes.
 *
 *   flamingo sim --port 53717 &                 # or a real instrument
 *   node examples/status-line.mjs --port 53717  # watch; Ctrl-C to quit
 *   node examples/status-line.mjs --demo        # embedded simulator, a few moves and a workflow, then exit
 *
 * The app keeps no bookkeeping of its own: the client's reader keeps the mirror from every
 * reply and event, and the view only renders snapshots. A snapshot is frozen and
 * self-consistent (never half of a packet), so it can be rendered later without copying.
 */
import { parseArgs } from 'node:util';
import { FlamingoClient, buildWorkflowText } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '53717' },
    demo: { type: 'boolean', default: false },
  },
});

/** @typedef {import('flamingo-protocol').AxisSnapshot} AxisSnapshot */
/** @typedef {import('flamingo-protocol').InstrumentSnapshot} InstrumentSnapshot */

/** @param {number | undefined} v  @param {number} [digits] */
const fixed = (v, digits = 3) => (v === undefined ? '?' : v.toFixed(digits));

/** @param {string} name  @param {AxisSnapshot} axis  @param {string} unit */
function axisText(name, axis, unit) {
  const where = `${name} ${fixed(axis.position)}${unit}`;
  return axis.moving ? `${where}→${fixed(axis.target)}` : where;
}

/**
 * One line from one snapshot: a pure function of the state, as a GUI's render would be.
 * @param {InstrumentSnapshot} s
 */
function render(s) {
  const { x, y, z, r } = s.stage;
  const lasers = /** @type {const} */ ([1, 2, 3, 4]).map((i) => `L${i} ${fixed(s.lasers[i].level, 2)}%${s.lasers[i].enabled ? '*' : ''}`).join(' ');
  const wf = s.workflow;
  const run = wf.running
    ? `run ${wf.gaugeValue ?? 0}/${wf.gaugeSize ?? '?'}`
    : wf.stackComplete
      ? `done ${wf.stackComplete.acquired}/${wf.stackComplete.expected}`
      : 'no run';
  const link = `${s.connection.state ?? '?'}${s.connection.mode ? `/${s.connection.mode}` : ''}`;
  return [axisText('X', x, ''), axisText('Y', y, ''), axisText('Z', z, ''), axisText('R', r, '°'), lasers, s.system ?? '?', run, link, `v${s.version}`].join(
    ' | ',
  );
}

// Redraw at most once per event-loop turn: a flood of progress events changes the state
// thousands of times a second, and only the latest snapshot is worth drawing.
const tty = process.stdout.isTTY === true;
let drawScheduled = false;
let lastLine = '';
/** @param {FlamingoClient} client */
function draw(client) {
  if (drawScheduled) return;
  drawScheduled = true;
  setImmediate(() => {
    drawScheduled = false;
    const line = render(client.state.snapshot());
    if (line === lastLine) return;
    lastLine = line;
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else console.log(line);
  });
}

/** @type {SimulatedMicroscope | null} */
let sim = null;
let port = Number(args.port);
if (args.demo) {
  sim = new SimulatedMicroscope({ timeScale: 20, workflowDurationMs: 1500 });
  port = (await sim.listen({ port: 0, host: '127.0.0.1' })).port;
}

const client = await FlamingoClient.connect({ host: args.host, port });
client.state.on('change', () => draw(client));
client.on('close', () => draw(client));
// Start from what the instrument says now, not from "unknown".
await client.state.refresh();
draw(client);

async function shutdown() {
  await client.close();
  await sim?.close();
  if (tty) process.stdout.write('\n');
}

if (args.demo) {
  await client.stage.moveBy(1, 0.5);
  await Promise.all([client.stage.moveTo(2, 16), client.lasers.setLevel(2, 12.5)]);
  await client.workflow.start(buildWorkflowText({ numberOfPlanes: 20 }));
  await client.stage.moveBy(1, -0.5);
  await new Promise((resolve) => setImmediate(resolve));
  await shutdown();
} else {
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
