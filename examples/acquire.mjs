#!/usr/bin/env node
/**
 * An app-style acquisition script: connect, move to the start of a stack, wait until the
 * instrument is idle, acquire, report. Ctrl-C halts the stage (or stops the acquisition),
 * closes the connection and exits 130.
 *
 *   flamingo sim --port 53717 &                 # or a real instrument
 *   node examples/acquire.mjs --port 53717 --x 8 --y 16 --planes 20
 *
 * It imports the package by name, as an app would (inside this repository the name
 * resolves to the built dist/; `npm install` builds it).
 */
import { parseArgs } from 'node:util';
import { buildWorkflowText, ConnectError, FlamingoClient } from 'flamingo-protocol';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '53717' },
    x: { type: 'string', default: '8.0' },
    y: { type: 'string', default: '16.0' },
    planes: { type: 'string', default: '20' },
  },
});
const target = { x: Number(args.x), y: Number(args.y) };
const planes = Number(args.planes);

// One AbortController for the whole run: Ctrl-C (or SIGTERM) cancels whatever is awaited.
const stop = new AbortController();
const interrupt = () => stop.abort();
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

let client;
try {
  client = await FlamingoClient.connect({ host: args.host, port: Number(args.port) });
} catch (error) {
  console.error(error instanceof ConnectError ? `${error.message} (start one with: flamingo sim --port ${args.port})` : error);
  process.exit(1);
}
console.log(`connected to ${args.host}:${args.port} in ${client.mode} mode`);

let phase = 'connected';
try {
  // Move both axes at once; each promise resolves when its STAGE_MOTION_STOPPED arrives.
  phase = 'moving';
  console.log(`moving to X ${target.x} mm, Y ${target.y} mm`);
  const [x, y] = await Promise.all([client.stage.moveTo(1, target.x, { signal: stop.signal }), client.stage.moveTo(2, target.y, { signal: stop.signal })]);
  console.log(`reached X ${x.position} mm, Y ${y.position} mm`);

  // Wait until nothing else is acquiring.
  phase = 'waiting';
  if ((await client.system.state()) !== 'idle') {
    console.log('instrument busy; waiting for it to become idle');
    await client.waitFor('SYSTEM_STATE_IDLE', { signal: stop.signal });
  }

  // Acquire a stack at the current position.
  phase = 'acquiring';
  const z = await client.stage.position(3);
  const workflow = buildWorkflowText({ numberOfPlanes: planes, start: { x: x.position, y: y.position, z }, comments: 'examples/acquire.mjs' });
  let reported = 0;
  const result = await client.workflow.start(workflow, {
    signal: stop.signal,
    onProgress: ({ value, max }) => {
      // A line per 25 %: gauge events come many per second on a real instrument.
      const quarter = max > 0 ? Math.floor((value / max) * 4) : 0;
      if (quarter > reported) {
        reported = quarter;
        console.log(`acquired ${value}/${max} planes`);
      }
    },
  });
  console.log(`done: ${result.acquired}/${result.expected} images, ${result.errors} errors`);
} catch (error) {
  if (stop.signal.aborted) {
    // Leave the instrument still: halt the stage, or stop the acquisition.
    if (phase === 'moving') await client.stage.halt().catch(() => undefined);
    if (phase === 'acquiring') await client.send('CAMERA_WORKFLOW_STOP').catch(() => undefined);
    console.error(`interrupted while ${phase}; ${phase === 'moving' ? 'stage halted' : phase === 'acquiring' ? 'acquisition stopped' : 'nothing running'}`);
    process.exitCode = 130;
  } else {
    console.error(`acquire failed while ${phase}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
} finally {
  await client.close();
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
}
