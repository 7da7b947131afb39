import type fc from 'fast-check';
import { InvariantError } from './invariant-error.js';
import type { Model } from './model.js';
import type { Rig } from './rig.js';

export type Cmd = fc.AsyncCommand<Model, Rig, false>;

/**
 * Base of every matrix command. Each one applies in every model state: the model records
 * what became unknown (a lost ack, a dropped link) instead of ruling steps out, so fast-check
 * never skips a drawn command.
 */
export abstract class AppCommand implements Cmd {
  check(): boolean {
    return true;
  }
  abstract run(model: Model, rig: Rig): Promise<void>;
  abstract toString(): string;
}

export function fail(message: string): never {
  throw new InvariantError(message);
}

/** Run one step: time it, then wait for the client to settle and check the step invariants. */
export async function step(rig: Rig, label: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now();
  rig.beginStep();
  await body();
  await rig.afterStep(label, started);
}
