import type { PacketInit } from '../protocol/packet.js';
import { entryValue, findSection, parseNumberValue } from '../protocol/text-format.js';
import type { Workflow } from '../protocol/workflow-text.js';
import { TileRun, tileCounts } from './tile-run.js';
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
 * Settings 1 and 2 are the X and Y overlap percent; the field of view comes from the
 * camera's current crop (x and y swapped, as the instrument does), not from the text.
 */
export function tileRunFor(workflow: Workflow, fovMm: { x: number; y: number }, ctx: TileRunContext): TileRun | undefined {
  const stack = findSection(workflow.document.root, 'Workflow Settings', 'Stack Settings') ?? findSection(workflow.document.root, 'Stack Settings');
  if (stack === undefined || entryValue(stack, 'Stack option')?.trim() !== 'Tile') return undefined;
  const overlap = (key: string): number => parseNumberValue(entryValue(stack, key) ?? '') ?? 0;
  const { nx, ny } = tileCounts({
    start: { x: workflow.start.x ?? 0, y: workflow.start.y ?? 0 },
    end: { x: workflow.end.x ?? workflow.start.x ?? 0, y: workflow.end.y ?? workflow.start.y ?? 0 },
    fovMm,
    overlapPercent: [overlap('Stack option settings 1'), overlap('Stack option settings 2')],
  });
  const tiles = nx * ny;
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
