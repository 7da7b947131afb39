/**
 * API-misuse commands of the reliability matrix (issue 18): what a demanding user does
 * outside the happy path. Each keeps the model exact (reads only, or a move refused before
 * it is sent) and checks that every call settles, with the right outcome.
 */
import fc from 'fast-check';
import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { createMemoryPair } from '../../transports/memory.js';
import { FlamingoClient } from '../../src/client/client.js';
import { AbortError, ArgumentError, ConnectionClosedError } from '../../src/errors.js';
import { MAX_TIMER_MS } from '../../protocol/options-schema.js';
import { AppCommand, fail, step, type Cmd } from './app-command.js';
import { axisArb } from './command-arbitraries.js';
import { axisOf, type Model } from './model.js';
import { checkPositionReply } from './reply-checks.js';
import type { Rig } from './rig.js';

/** Misuse commands run so far in this process (the soak table and the CI matrix report it). */
export const misuseRuns = { count: 0 };

/** Base of the misuse commands: counts each run. */
abstract class MisuseCommand extends AppCommand {
  async run(model: Model, rig: Rig): Promise<void> {
    misuseRuns.count++;
    await this.misuse(model, rig);
  }
  abstract misuse(model: Model, rig: Rig): Promise<void>;
}

/** The exact position of an axis when the model knows it. */
function known(model: Model, axis: number): number | undefined {
  const a = axisOf(model, axis);
  return a.pendingFrom === null ? a.position : undefined;
}

type ReentrantKind = 'nestedExclusive' | 'clientCallsInside' | 'refreshInside' | 'moveByInside';

/** Calls that open their own section, made from inside a section: they run in it and settle (no deadlock). */
export class ReentrantSection extends MisuseCommand {
  constructor(
    readonly axis: number,
    readonly kind: ReentrantKind,
  ) {
    super();
  }
  async misuse(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const client = rig.client;
      const axis = this.axis;
      const disconnects = rig.disconnects;
      let section: Promise<Packet[]>;
      if (this.kind === 'nestedExclusive') {
        section = client.exclusive(async (tx) => [
          await tx.request(Command.STAGE_POSITION_GET, { int32Data0: axis }),
          ...(await client.exclusive(async (inner) => [await inner.request(Command.STAGE_POSITION_GET, { int32Data0: axis })])),
        ]);
      } else if (this.kind === 'clientCallsInside') {
        section = client.exclusive(async () => [
          await client.request(Command.STAGE_POSITION_GET, { int32Data0: axis }),
          await client.request(Command.STAGE_POSITION_GET, { int32Data0: axis }),
        ]);
      } else if (this.kind === 'moveByInside') {
        // A zero move: a real STAGE_POSITION_SET to where the axis rests, inside a section of the caller.
        if (known(model, axis) === undefined) return;
        rig.issue(Command.STAGE_POSITION_SET);
        if (known(model, axis) === 0) rig.issue(Command.STAGE_POSITION_GET);
        const before = (rig.stops[axis] as Packet[]).length;
        const moved = await rig.settle(
          'moveBy inside a section',
          client.exclusive(async () => client.stage.moveBy(axis, 0, { motionTimeoutMs: rig.profile.eventTimeoutMs })),
        );
        if (!moved.ok) {
          rig.allowError(this.toString(), moved.error, disconnects);
          axisOf(model, axis).pendingFrom = before;
          axisOf(model, axis).position = undefined;
        } else if (!Object.is(moved.value.position, moved.value.from)) fail(`zero moveBy inside a section moved: ${JSON.stringify(moved.value)}`);
        return;
      } else {
        section = client.exclusive(async (tx) => {
          await client.state.refresh();
          return [await tx.request(Command.STAGE_POSITION_GET, { int32Data0: axis })];
        });
      }
      // Someone else's request meanwhile: it waits for the section and is answered after it.
      const outside = client.request(Command.SYSTEM_STATE_GET);
      const [inside, other] = await Promise.all([rig.settle(`${this.kind} section`, section), rig.settle('request outside the section', outside)]);
      if (inside.ok) for (const reply of inside.value) checkPositionReply(reply, axis, known(model, axis));
      else rig.allowError(this.toString(), inside.error, disconnects);
      if (!other.ok) rig.allowError('request outside the section', other.error, disconnects);
    });
  }
  toString(): string {
    return `reentrantSection(${this.axis}, ${this.kind})`;
  }
}

/** Sections queued at once run one at a time, in the order they were called, and all settle. */
export class QueuedSections extends MisuseCommand {
  constructor(readonly axes: readonly number[]) {
    super();
  }
  async misuse(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const log: string[] = [];
      const disconnects = rig.disconnects;
      const sections = this.axes.map((axis, i) =>
        rig.client.exclusive(async (tx) => {
          log.push(`start ${i}`);
          try {
            return await tx.request(Command.STAGE_POSITION_GET, { int32Data0: axis });
          } finally {
            log.push(`end ${i}`);
          }
        }),
      );
      const results = await Promise.all(sections.map((s, i) => rig.settle(`queued section ${i}`, s)));
      results.forEach((result, i) => {
        const axis = this.axes[i] as number;
        if (result.ok) checkPositionReply(result.value, axis, known(model, axis));
        else rig.allowError(`queued section ${i}`, result.error, disconnects);
      });
      // Started sections ran alone and in call order (one that never started is absent).
      const started = log.filter((l) => l.startsWith('start')).map((l) => Number(l.slice(6)));
      const expected = started.flatMap((i) => [`start ${i}`, `end ${i}`]);
      if (log.join(',') !== expected.join(',') || started.some((v, k) => k > 0 && v < (started[k - 1] as number)))
        fail(`sections overlapped or ran out of order: ${log.join(', ')}`);
    });
  }
  toString(): string {
    return `queuedSections(${this.axes.join(', ')})`;
  }
}

type TimeoutEdge = 'max' | 'zero' | 'negative' | 'nan' | 'overflow' | 'farFuture';

const EDGE_VALUES: Record<TimeoutEdge, number> = {
  max: MAX_TIMER_MS,
  zero: 0,
  negative: -1,
  nan: Number.NaN,
  overflow: MAX_TIMER_MS + 1,
  farFuture: 30 * 24 * 3600 * 1000,
};

/** Timeouts at the edges of the timer range: the largest valid one works; anything beyond is refused before a byte is sent. */
class TimeoutAtEdge extends MisuseCommand {
  constructor(
    readonly axis: number,
    readonly edge: TimeoutEdge,
  ) {
    super();
  }
  async misuse(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const ms = EDGE_VALUES[this.edge];
      const client = rig.client;
      if (this.edge === 'max') {
        // A dropped reply would wait for 24 days: only where replies are never dropped.
        if (rig.profile.dropsReplies) return;
        const result = await rig.settle(
          'GET with the largest timeout',
          client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { timeoutMs: ms }),
        );
        if (result.ok) checkPositionReply(result.value, this.axis, known(model, this.axis));
        else rig.allowError(this.toString(), result.error);
        return;
      }
      // No rig.issue: a STAGE_POSITION_SET or workflow that went out anyway fails the replay
      // check. (Counting bytes is no test: a lease fence or a refresh may write meanwhile.)
      const attempts = await Promise.all([
        rig.settle('request', client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { timeoutMs: ms })),
        rig.settle('waitFor', client.waitFor(Command.STAGE_MOTION_STOPPED, { timeoutMs: ms })),
        rig.settle('moveTo', client.stage.moveTo(this.axis, 1, { motionTimeoutMs: ms })),
        rig.settle('workflow', client.workflow.start('x', { startTimeoutMs: ms })),
      ]);
      for (const result of attempts) if (result.ok || !(result.error instanceof ArgumentError)) fail(`timeout ${ms} ms was not refused with ArgumentError`);
    });
  }
  toString(): string {
    return `timeoutAtEdge(${this.axis}, ${this.edge})`;
  }
}

type CloseWhen = 'sync' | 'microtask' | 'afterFirstReply' | 'insideSection';

/**
 * A second app's client on the same simulator closes at some point while requests, a
 * running and a queued section, a wait and an event stream are open: every one settles at
 * once (nothing hangs), with its reply or ConnectionClosedError; 'close' is emitted once.
 */
export class CloseAtAnyPoint extends MisuseCommand {
  constructor(
    readonly axis: number,
    readonly when: CloseWhen,
  ) {
    super();
  }
  async misuse(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const [clientEnd, simEnd] = createMemoryPair();
      rig.sim.attach(simEnd);
      const other = await FlamingoClient.connect({ transport: clientEnd, mode: rig.cell.mode, requestTimeoutMs: rig.profile.requestTimeoutMs });
      let closes = 0;
      other.on('close', () => closes++);
      other.on('error', () => undefined);
      const axis = this.axis;
      const stream = other.events();
      let closing: Promise<void> | undefined;
      const close = (): void => {
        closing ??= other.close();
      };
      const calls: Promise<unknown>[] = [
        // Closes once the first request settles, whatever its outcome (a dropped reply times out).
        other.request(Command.STAGE_POSITION_GET, { int32Data0: axis }).finally(() => {
          if (this.when === 'afterFirstReply') close();
        }),
        other.exclusive(async (tx) => {
          if (this.when === 'insideSection') close();
          return tx.request(Command.STAGE_POSITION_GET, { int32Data0: axis });
        }),
        other.exclusive(async (tx) => tx.request(Command.STAGE_POSITION_GET, { int32Data0: axis })),
        other.waitFor(() => false),
        stream.next(),
      ];
      if (this.when === 'sync') close();
      else if (this.when === 'microtask') queueMicrotask(close);
      const results = await Promise.all(calls.map((call, i) => rig.settle(`call ${i} of a closing client`, call)));
      close();
      await rig.settle('close()', closing as Promise<void>);
      for (const [i, result] of results.entries()) {
        if (result.ok) {
          const value = result.value as Packet | IteratorResult<Packet> | undefined;
          // The stream's next(): done at close, or an event that came before it (both fine).
          if (value !== undefined && !('done' in value)) checkPositionReply(value as Packet, axis, known(model, axis));
        } else if (!(result.error instanceof ConnectionClosedError) && !(rig.profile.dropsReplies || rig.profile.reconnect)) {
          fail(`call ${i} of a closing client: ${result.error.name}: ${result.error.message}`);
        }
      }
      const after = await rig.settle('request after close', other.request(Command.SYSTEM_STATE_GET));
      if (after.ok || !(after.error instanceof ConnectionClosedError) || after.error.maybeExecuted)
        fail('a request after close() was not refused as never sent');
      if (closes !== 1) fail(`'close' emitted ${closes} times`);
    });
  }
  toString(): string {
    return `closeAtAnyPoint(${this.axis}, ${this.when})`;
  }
}

/** Eleven reads share one AbortSignal, aborted at some point: each is answered exactly or aborted. */
export class SharedSignalAbort extends MisuseCommand {
  constructor(
    readonly axis: number,
    readonly when: 'sync' | 'microtask' | 'immediate',
  ) {
    super();
  }
  async misuse(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const controller = new AbortController();
      const reads = Array.from({ length: 11 }, () => rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { signal: controller.signal }));
      if (this.when === 'sync') controller.abort();
      else if (this.when === 'microtask') queueMicrotask(() => controller.abort());
      else setImmediate(() => controller.abort());
      const results = await Promise.all(reads.map((r, i) => rig.settle(`shared-signal GET ${i}`, r)));
      for (const result of results) {
        if (result.ok) checkPositionReply(result.value, this.axis, known(model, this.axis));
        else if (result.error instanceof AbortError) rig.recordLate(result.error, 'STAGE_POSITION_GET');
        else rig.allowError('shared-signal GET', result.error);
      }
      if (this.when === 'sync' && results.some((r) => r.ok)) fail('a GET aborted synchronously resolved');
    });
  }
  toString(): string {
    return `sharedSignalAbort(${this.axis}, ${this.when})`;
  }
}

/** The misuse commands, drawn less often than ordinary app commands. */
export function misuseArbitraries(): fc.Arbitrary<Cmd>[] {
  return [
    fc
      .tuple(axisArb, fc.constantFrom<ReentrantKind>('nestedExclusive', 'clientCallsInside', 'refreshInside', 'moveByInside'))
      .map(([axis, kind]) => new ReentrantSection(axis, kind)),
    fc.array(axisArb, { minLength: 2, maxLength: 5 }).map((axes) => new QueuedSections(axes)),
    fc
      .tuple(axisArb, fc.constantFrom<TimeoutEdge>('max', 'zero', 'negative', 'nan', 'overflow', 'farFuture'))
      .map(([axis, edge]) => new TimeoutAtEdge(axis, edge)),
    fc
      .tuple(axisArb, fc.constantFrom<CloseWhen>('sync', 'microtask', 'afterFirstReply', 'insideSection'))
      .map(([axis, when]) => new CloseAtAnyPoint(axis, when)),
    fc
      .tuple(axisArb, fc.constantFrom<'sync' | 'microtask' | 'immediate'>('sync', 'microtask', 'immediate'))
      .map(([axis, when]) => new SharedSignalAbort(axis, when)),
  ];
}
