/**
 * Replay one counterexample of the reliability matrix: the same rig, the same command
 * sequence and simulator seed, the invariants checked after every step and at the end.
 */
import fc from 'fast-check';
import { initialModel, type Model } from './model.js';
import { PROFILES, type Cell, type CorrelationKind, type FaultProfile, type TransportKind } from './profiles.js';
import { Rig } from './rig.js';

/** A profile of the matrix by name, optionally with other faults (the ones in force when the counterexample was found). */
export function profile(name: string, overrides: Partial<FaultProfile> = {}): FaultProfile {
  const found = PROFILES.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no profile ${name}`);
  return { ...found, ...overrides };
}

/** Run `commands` against a fresh rig; throws the first broken invariant. */
export async function replay(
  transport: TransportKind,
  mode: CorrelationKind,
  faultProfile: FaultProfile,
  simSeed: number,
  commands: fc.AsyncCommand<Model, Rig, false>[],
): Promise<Rig> {
  const cell: Cell = { transport, mode, profile: faultProfile };
  const rig = await Rig.start(cell, simSeed);
  let failed = true;
  try {
    await fc.asyncModelRun(() => ({ model: initialModel(), real: rig }), commands);
    await rig.quiesce();
    failed = false;
  } finally {
    await rig.stop();
    if (!failed) await rig.checkNothingLeft();
  }
  return rig;
}
