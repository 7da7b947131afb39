/**
 * Vitest glue of the reliability matrix (bench/matrix holds the model, the rig and the
 * cell runner, compiled so that `npm run soak` runs the same code): one test per cell,
 * few runs and short sequences under the global fixed seed; FC_NUM_RUNS widens it.
 */
import { expect, it } from 'vitest';
import { runCell } from '../../bench/matrix/cell.js';
import { cellName, matrixCells, type TransportKind } from '../../bench/matrix/profiles.js';

/** Runs per cell in CI: the whole matrix must stay well under a minute on 2 cores. */
export const CI_RUNS = 4;
export const CI_MAX_COMMANDS = 10;

/** Register one `it` per cell of the matrix over `transport`. */
export function matrixTests(transport: TransportKind): void {
  const numRuns = process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : CI_RUNS;
  for (const cell of matrixCells([transport])) {
    it(`${cellName(cell)}: every invariant holds after every step`, async () => {
      const stats = await runCell(cell, { numRuns, maxCommands: CI_MAX_COMMANDS });
      expect(stats.report).toBeUndefined();
      expect(stats.failures).toBe(0);
      // Each run executes at least the commands fast-check drew for it (a run can draw none).
      expect(stats.runs).toBeGreaterThanOrEqual(numRuns);
    });
  }
}
