#!/usr/bin/env node
/**
 * An app built on the instrument's vocabulary: prepare a laser for live view, crop the
 * camera, save a snapshot as PNG, then run a small tile workflow and report each tile.
 * Ctrl-C during the tiles stops the workflow (the instrument answers the stop), waits for
 * the run to settle, closes the connection and exits 130.
 *
 *   flamingo sim --port 53717 &                 # or a real instrument
 *   node examples/live-and-tiles.mjs --port 53717 --laser 2 --percent 10 --crop 1024x1024 --png snap.png
 *
 * It imports the package by name, as an app would (inside this repository the name
 * resolves to the built dist/; `npm install` builds it).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildWorkflowText, ConnectError, FlamingoClient, frameToPng, parseWorkflow, tileGrid } from 'flamingo-protocol';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '53717' },
    'live-port': { type: 'string' },
    laser: { type: 'string', default: '2' },
    percent: { type: 'string', default: '10' },
    crop: { type: 'string', default: '1024x1024' },
    png: { type: 'string', default: 'snapshot.png' },
    'range-x': { type: 'string', default: '1.0' },
    'range-y': { type: 'string', default: '0.5' },
    overlap: { type: 'string', default: '10' },
  },
});
const crop = /^(\d+)x(\d+)$/.exec(args.crop);
if (crop === null) {
  console.error(`--crop takes WIDTHxHEIGHT, e.g. 1024x1024 (got ${args.crop})`);
  process.exit(2);
}
const cropWidth = Number(crop[1]);
const cropHeight = Number(crop[2]);

let client;
try {
  client = await FlamingoClient.connect({ host: args.host, port: Number(args.port) });
} catch (error) {
  console.error(error instanceof ConnectError ? `${error.message} (start one with: flamingo sim --port ${args.port})` : error);
  process.exit(1);
}
console.log(`connected to ${args.host}:${args.port}`);

let phase = 'preparing';
let interrupted = false;
const onSigint = () => {
  interrupted = true;
  // Only a running workflow needs stopping; elsewhere the current step ends and we exit.
  if (phase === 'tiles') client.workflow.stop().catch(() => undefined);
};
process.on('SIGINT', onSigint);

try {
  const laser = Number(args.laser);
  await client.illumination.prepareLive({ laser: { index: laser, percent: Number(args.percent) }, path: 'left' });
  console.log(`laser ${laser} at ${Number(args.percent)} % ready on the left path`);

  const size = await client.camera.setRoi({ width: cropWidth, height: cropHeight });
  console.log(`camera cropped to ${size.width} x ${size.height}`);

  const frame = await client.camera.snapshot(args['live-port'] === undefined ? {} : { livePort: Number(args['live-port']) });
  await writeFile(args.png, frameToPng(frame).png);
  console.log(`snapshot ${frame.header.width} x ${frame.header.height} saved to ${args.png}`);
  if (interrupted) throw new Error('interrupted');

  const overlap = Number(args.overlap);
  const start = { x: 7, y: 15, z: 16 };
  const text = buildWorkflowText({
    stackOption: 'Tile',
    overlapPercent: [overlap, overlap],
    numberOfPlanes: 5,
    start,
    end: { x: start.x + Number(args['range-x']), y: start.y + Number(args['range-y']), z: start.z },
    comments: 'examples/live-and-tiles.mjs',
  });
  // The tiles the instrument will visit: FOV from the live crop (x and y swapped, as the
  // instrument does), each centre checked against the hard limits before anything is sent.
  const mmPerPixel = await client.camera.pixelSizeMm();
  const grid = tileGrid(parseWorkflow(text), { x: mmPerPixel * size.height, y: mmPerPixel * size.width }, await client.stage.limits());
  if (grid.outside.length > 0) throw new Error(`${grid.outside.length} tiles lie outside the stage's hard limits; not sending`);
  const total = grid.tiles.length;
  let visited = 0;
  // A tile run sends no gauge: one STAGE_MOTION_STOPPED per tile is the progress.
  const onTile = () => console.log(`tile ${++visited}/${total}`);
  client.on('STAGE_MOTION_STOPPED', onTile);
  phase = 'tiles';
  console.log(`tile workflow sent: ${total} tiles`);
  // A tile run sends no gauge: its start shows only through the busy poll, every 500 ms here.
  const result = await client.workflow.start(text, { startTimeoutMs: 10_000, pollIntervalMs: 500 });
  client.off('STAGE_MOTION_STOPPED', onTile);
  phase = 'done';
  if (result.stopped) {
    console.log(`stopped after ${visited} of ${total} tiles`);
    process.exitCode = 130;
  } else console.log(`done: ${visited} tiles`);
} catch (error) {
  if (interrupted) {
    console.error(`interrupted while ${phase}`);
    process.exitCode = 130;
  } else {
    console.error(`failed while ${phase}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
} finally {
  process.off('SIGINT', onSigint);
  await client.close();
}
