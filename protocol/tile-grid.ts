import { ArgumentError } from './errors.js';
import type { StageSettings } from './settings-text.js';
import type { Workflow } from './workflow-text.js';

/**
 * The tiles a `Tile` workflow makes the instrument visit (spec/text-format.md "Tile grid").
 * Start and End are the centres of the corner tiles; the region is their distance plus one
 * field of view; the step is FOV × (100 − overlap) / 100; the count is the region over the
 * step, rounded up (one tile, at full FOV pitch, when start and end coincide on an axis); the
 * grid is centred on the region and walked downward from its high corner. The instrument
 * checks every tile centre against the HARD limits and refuses the whole run if one is out.
 */

/** One tile: its stage centre, its column and row, and whether the instrument would refuse it. */
export interface Tile {
  x: number;
  y: number;
  column: number;
  row: number;
  /** The axes on which this tile's centre is outside the hard limits. */
  outside: ('x' | 'y')[];
}

/** The grid of {@link tileGrid}. */
export interface TileGrid {
  columns: number;
  rows: number;
  /** Centre-to-centre steps (mm). */
  stepX: number;
  stepY: number;
  /** Overlap used on each axis (percent, 0..50). */
  overlapX: number;
  overlapY: number;
  /** Row by row, in the order the instrument visits them. */
  tiles: Tile[];
  /** The tiles outside the hard limits: when any, the instrument will refuse the workflow. */
  outside: Tile[];
}

function axis(start: number, end: number, fov: number, overlap: number): { count: number; step: number; first: number } {
  const half = fov / 2;
  const high = Math.max(start, end) + half;
  const region = Math.abs(start - end) + fov;
  if (start === end) return { count: 1, step: fov, first: start };
  const step = (fov * (100 - overlap)) / 100;
  const count = Math.max(1, Math.ceil(region / step));
  // Centre the rounded-up grid on the region: the excess is split evenly on both sides.
  const first = high + (count * step - region) / 2 - half;
  return { count, step, first };
}

/**
 * Compute the tile grid of a parsed workflow. `fieldOfViewMm` is the camera's field of view at
 * the sample (one number for a square field, or x and y), as the instrument takes it from the
 * live camera, not from the file. With `limits`, each tile is checked against the hard limits.
 * @throws ArgumentError when the workflow has no start/end X and Y, overlaps outside 0..50,
 *   or the field of view is not positive.
 */
export function tileGrid(workflow: Workflow, fieldOfViewMm: number | { x: number; y: number }, limits?: StageSettings): TileGrid {
  const fov = typeof fieldOfViewMm === 'number' ? { x: fieldOfViewMm, y: fieldOfViewMm } : fieldOfViewMm;
  if (!(fov.x > 0 && fov.y > 0 && Number.isFinite(fov.x) && Number.isFinite(fov.y))) {
    throw new ArgumentError(`field of view must be a positive number of mm, got ${JSON.stringify(fieldOfViewMm)}`);
  }
  const { start, end } = workflow;
  if (start.x === undefined || start.y === undefined || end.x === undefined || end.y === undefined) {
    throw new ArgumentError('the workflow needs X and Y in both <Start Position> and <End Position> for a tile grid');
  }
  const [overlapX = 0, overlapY = 0] = workflow.stackOptionSettings;
  for (const o of [overlapX, overlapY]) {
    if (!(o >= 0 && o <= 50)) throw new ArgumentError(`tile overlap must be 0..50 %, got ${o}`);
  }
  const gx = axis(start.x, end.x, fov.x, overlapX);
  const gy = axis(start.y, end.y, fov.y, overlapY);
  const tiles: Tile[] = [];
  for (let row = 0; row < gy.count; row++) {
    const y = gy.first - row * gy.step;
    for (let column = 0; column < gx.count; column++) {
      const x = gx.first - column * gx.step;
      const outside: ('x' | 'y')[] = [];
      if (limits !== undefined) {
        if (outOf(x, limits.x.hardMin, limits.x.hardMax)) outside.push('x');
        if (outOf(y, limits.y.hardMin, limits.y.hardMax)) outside.push('y');
      }
      tiles.push({ x, y, column, row, outside });
    }
  }
  return { columns: gx.count, rows: gy.count, stepX: gx.step, stepY: gy.step, overlapX, overlapY, tiles, outside: tiles.filter((t) => t.outside.length > 0) };
}

const outOf = (v: number, min: number | undefined, max: number | undefined): boolean => (min !== undefined && v < min) || (max !== undefined && v > max);
