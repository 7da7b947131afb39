import fc from 'fast-check';
import { AbortedMove, AbortedRead, type AbortWhen, TimedOutRead } from './abort-commands.js';
import type { Cmd } from './app-command.js';
import { LaserSetGet } from './laser-commands.js';
import { LIMITS } from './model.js';
import { Halt, MoveBy, MoveThenHalt, MoveTo } from './move-commands.js';
import { ConcurrentReads, type Read, ReadSettings } from './read-commands.js';
import { WaitForMotion, WaitForNothing } from './wait-commands.js';
import { RunWorkflow } from './workflow-commands.js';

export const axisArb = fc.integer({ min: 1, max: 4 });
/** A target inside the axis' limits, in µm (or milli-degrees) steps, as apps send them. */
const moveArb = axisArb.chain((axis) => {
  const [min, max] = LIMITS[axis] as readonly [number, number];
  return fc.tuple(
    fc.constant(axis),
    fc.integer({ min: min * 1000, max: max * 1000 }).map((n) => n / 1000),
  );
});

const readArb: fc.Arbitrary<Read> = fc.oneof(
  axisArb.map((axis) => ({ kind: 'axis' as const, axis })),
  axisArb.map((axis) => ({ kind: 'position' as const, axis })),
  fc.integer({ min: 1, max: 6 }).map((laser) => ({ kind: 'laser' as const, laser })),
  fc.constant({ kind: 'state' as const }),
);

/** Every command apps issue, with the weights a run draws them by. */
export function commandArbitraries(): fc.Arbitrary<Cmd>[] {
  return [
    // Mostly a handful at once; sometimes more than the sequencer's window (32) of them.
    fc
      .oneof(
        { weight: 5, arbitrary: fc.array(readArb, { minLength: 1, maxLength: 8 }) },
        { weight: 1, arbitrary: fc.array(readArb, { minLength: 20, maxLength: 40 }) },
      )
      .map((reads) => new ConcurrentReads(reads)),
    moveArb.map(([axis, target]) => new MoveTo(axis, target)),
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 10_000 })).map(([laser, h]) => new LaserSetGet(laser, h)),
    fc.constant(new ReadSettings()),
    fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.option(fc.record({ index: fc.integer({ min: 1, max: 4 }), hundredths: fc.integer({ min: 0, max: 10_000 }) })))
      .map(([planes, laser]) => new RunWorkflow(planes, laser)),
    moveArb.map(([axis, target]) => new MoveThenHalt(axis, target)),
    fc.constant(new Halt()),
    axisArb.map((axis) => new WaitForMotion(axis)),
    fc.constant(new WaitForNothing()),
    fc.tuple(axisArb, fc.constantFrom<AbortWhen>('before', 'sync', 'microtask', 'immediate')).map(([axis, when]) => new AbortedRead(axis, when)),
    axisArb.map((axis) => new TimedOutRead(axis)),
    fc.tuple(axisArb, fc.integer({ min: -20_000, max: 20_000 }), axisArb).map(([axis, micro, other]) => new MoveBy(axis, micro / 1000, other)),
    fc
      .tuple(moveArb, fc.constantFrom<AbortWhen>('before', 'sync', 'microtask', 'immediate'))
      .map(([[axis, target], when]) => new AbortedMove(axis, target, when)),
  ];
}
