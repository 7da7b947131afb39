/**
 * The gateway model in CI (issue 18): several raw apps through one gateway, on a legacy
 * (lease) and an echoing (sequenced) instrument, under the fixed fast-check seed;
 * FC_NUM_RUNS widens it, `npm run soak` runs it longer. Invariants: test/model/gateway/rig.ts.
 */
import { describe, expect, it } from 'vitest';
import { GATEWAY_MODEL_CELLS, runGatewayModel } from './gateway/run.js';

/** Runs per cell in CI: about a second each on 2 cores. */
const CI_RUNS = 30;
const CI_MAX_COMMANDS = 15;

describe('gateway model', () => {
  const numRuns = process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : CI_RUNS;
  let cutOffs = 0;
  for (const cell of GATEWAY_MODEL_CELLS) {
    it(`${cell.name}: per-app order at the instrument, replies only to their sender, every event to every app once`, async () => {
      const stats = await runGatewayModel(cell, { numRuns, maxCommands: CI_MAX_COMMANDS });
      expect(stats.report).toBeUndefined();
      expect(stats.failures).toBe(0);
      expect(stats.runs).toBeGreaterThanOrEqual(numRuns);
      // The model did exercise what it claims to: replies, events and hang-ups.
      expect(stats.replies).toBeGreaterThan(0);
      expect(stats.events).toBeGreaterThan(0);
      expect(stats.disconnects).toBeGreaterThan(0);
      cutOffs += stats.cutOffs;
    }, 120_000);
  }
  it('cut a paused app off as a slow reader in some run', () => {
    expect(cutOffs).toBeGreaterThan(0);
  });
});
