import type { PacketInit } from '../protocol/packet.js';
import { tileGrid } from '../protocol/tile-grid.js';
import type { Workflow } from '../protocol/workflow-text.js';
import { TileRun } from './tile-run.js';
import type { TimerSet } from './timers.js';

/** What {@link tileRunFor} needs from the instrument besides the workflow. */
export interface TileRunContext {
  /** Instrument time of the whole run. */
  instrumentMs: number;
  timeScale: number;
  lasers: number[];
  timers: TimerSet;
  broadcast: (init: PacketInit) => void;
  laserLevel: (index: number) => string;
  finished: () => void;
}

/**
 * A TileRun for a workflow whose `Stack option` is `Tile`, or undefined for any other.
 * The grid is the one protocol/tile-grid.ts derives (settings 1 and 2 are the X and Y
 * overlap percent); the field of view comes from the camera's current crop (x and y swapped,
 * as the instrument does), not from the text. A grid the instrument could not derive (no
 * start/end X and Y, overlap outside 0..50) throws ArgumentError: the caller refuses the run.
 */
export function tileRunFor(workflow: Workflow, fovMm: { x: number; y: number }, ctx: TileRunContext): TileRun | undefined {
  if (workflow.stackOption?.trim() !== 'Tile') return undefined;
  const grid = tileGrid(workflow, fovMm);
  const tiles = grid.tiles.length;
  return new TileRun({
    tiles,
    tileMs: ctx.instrumentMs / ctx.timeScale / tiles,
    lasers: ctx.lasers,
    timers: ctx.timers,
    broadcast: ctx.broadcast,
    laserLevel: ctx.laserLevel,
    finished: ctx.finished,
  });
}
