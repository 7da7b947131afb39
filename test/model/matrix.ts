/**
 * Vitest glue of the reliability matrix (test/model holds the model, the rig and the
 * cell runner, compiled so that `npm run soak` runs the same code): one test per cell,
 * few runs and short sequences under the global fixed seed; FC_NUM_RUNS widens it.
 */
import { expect, it } from 'vitest';
import { runCell } from './cell.js';
import { cellName, matrixCells, type TransportKind } from './profiles.js';

/** Runs per cell in CI: the whole matrix must stay well under a minute on 2 cores. */
const CI_RUNS = 6;
const CI_MAX_COMMANDS = 12;

/** Register one `it` per cell of the matrix over `transport`. */
export function matrixTests(transport: TransportKind): void {
  const numRuns = process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : CI_RUNS;
  for (const cell of matrixCells([transport])) {
    it(`${cellName(cell)}: every invariant holds after every step`, async () => {
      const stats = await runCell(cell, { numRuns, maxCommands: CI_MAX_COMMANDS, size: 'large' });
      expect(stats.report).toBeUndefined();
      expect(stats.failures).toBe(0);
      expect(stats.runs).toBeGreaterThanOrEqual(numRuns);
      // API misuse (test/model/misuse.ts) is part of every cell's command mix.
      expect(stats.misuse).toBeGreaterThan(0);
      // The profile's fault did strike: a green cell that never met its fault proves nothing.
      const struck = { drop: stats.droppedReplies, reconnect: stats.disconnects, garbage: stats.resyncs, flood: stats.events - stats.commands }[
        cell.profile.name
      ];
      if (struck !== undefined) expect(struck, `${cell.profile.name} never struck`).toBeGreaterThan(0);
    });
  }
}
