import fc from 'fast-check';
import { Command } from '../../../protocol/commands.js';
import { GatewayCommand } from '../../../src/apps/gateway/extension.js';
import type { ModelApp } from './app.js';
import { APP_SLOTS, type GatewayRig } from './rig.js';

/** One packet of an app's burst. */
type Op =
  /** A pipelined request (nonzero clientId): a GET with its axis or laser, or a system read. */
  | { kind: 'get'; code: number; index: number }
  /** A request with 0 in every sequence field: the app's later packets wait for its reply. */
  | { kind: 'legacy'; code: number }
  /** A move, with or without the callback flag: events to every app. */
  | { kind: 'move'; axis: number; target: number; callback: boolean }
  /** A fire-and-forget command (no callback flag). */
  | { kind: 'fire'; code: number; index: number }
  /** No callback flag, but a code the instrument answers anyway (reply rule `always`): answered to this app only. */
  | { kind: 'unasked'; code: number }
  /** A request of a code the instrument only pushes: refused by the gateway, never forwarded. */
  | { kind: 'pushedCode'; code: number };

/** Travel limits of axes 1..4 (X, Y, Z mm; R degrees) in the simulator's default settings. */
const LIMITS: Record<number, readonly [number, number]> = { 1: [1, 15], 2: [5, 25], 3: [8, 25], 4: [-720, 720] };

const moveArb: fc.Arbitrary<Op> = fc.integer({ min: 1, max: 4 }).chain((axis) =>
  fc.record({
    kind: fc.constant('move' as const),
    axis: fc.constant(axis),
    target: fc
      .integer({ min: (LIMITS[axis] as readonly [number, number])[0] * 10, max: (LIMITS[axis] as readonly [number, number])[1] * 10 })
      .map((n) => n / 10),
    callback: fc.boolean(),
  }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('get' as const),
      code: fc.constantFrom(Command.STAGE_POSITION_GET, Command.LASER_LEVEL_GET, Command.SYSTEM_STATE_GET),
      index: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('legacy' as const), code: fc.constantFrom(Command.SYSTEM_STATE_GET, Command.CAMERA_IMAGE_SIZE_GET) }) },
  { weight: 2, arbitrary: moveArb },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fire' as const),
      code: fc.constantFrom(Command.STAGE_HALT, Command.LASER_ALL_DISABLE, Command.LED_SET),
      index: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('unasked' as const), code: fc.constantFrom(Command.SYSTEM_STATE_GET, Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('pushedCode' as const), code: fc.constantFrom(Command.SYSTEM_STATE_IDLE, Command.STAGE_MOTION_STOPPED) }),
  },
);

/** The bytes of one op, registered with the app's expectations. */
function encodeOp(app: ModelApp, op: Op): Uint8Array {
  switch (op.kind) {
    case 'get': {
      const matcher = op.code !== Command.SYSTEM_STATE_GET;
      return app.packet(
        { code: op.code, int32Data0: matcher ? op.index : 0 },
        { forward: true, expect: { code: op.code, status: 1, ...(matcher ? { echo0: op.index } : {}) } },
      );
    }
    case 'legacy':
      return app.packet({ code: op.code }, { forward: true, expect: { code: op.code, status: 1 }, sequenced: false });
    case 'move':
      return app.packet(
        { code: Command.STAGE_POSITION_SET, int32Data0: op.axis, value: op.target },
        { forward: true, ...(op.callback ? { expect: { code: Command.STAGE_POSITION_SET, status: 1, echo0: op.axis } } : {}) },
      );
    case 'fire':
      return app.packet({ code: op.code, int32Data0: op.index, int32Data1: op.code === Command.LED_SET ? 40_000 : 0 }, { forward: true });
    case 'unasked':
      return app.packet({ code: op.code }, { forward: true, expect: { code: op.code, status: 1 }, callback: false });
    case 'pushedCode':
      return app.packet({ code: op.code }, { forward: false, expect: { code: op.code, status: 0, byGateway: true } });
  }
}

function describeOps(ops: readonly Op[]): string {
  return ops
    .map((op) => {
      switch (op.kind) {
        case 'get':
          return `get${op.code.toString(16)}/${op.index}`;
        case 'legacy':
          return `legacy${op.code.toString(16)}`;
        case 'move':
          return `move${op.axis}→${op.target}${op.callback ? '' : '!'}`;
        case 'fire':
          return `fire${op.code.toString(16)}`;
        case 'unasked':
          return `unasked${op.code.toString(16)}`;
        case 'pushedCode':
          return `pushed${op.code.toString(16)}`;
        default:
          throw new Error(`unknown op ${JSON.stringify(op satisfies never)}`);
      }
    })
    .join(',');
}

type Cmd = fc.AsyncCommand<object, GatewayRig, false>;

/** The app in `slot`, a fresh one when the last there has left (disconnected or cut off). */
function appIn(rig: GatewayRig, slot: number): ModelApp {
  if ((rig.apps[slot] as ModelApp).gone) rig.replace(slot);
  return rig.apps[slot] as ModelApp;
}

/** Let the pipes and the instrument move: writes are delivered on later event-loop turns. */
async function settleTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

abstract class GatewayCommandBase implements Cmd {
  check(): boolean {
    return true;
  }
  async run(_model: object, rig: GatewayRig): Promise<void> {
    this.apply(rig);
    await settleTurns(this.turns);
    rig.checkStep();
  }
  /** Event-loop turns to let pass after the step (0: the next step piles on at once). */
  constructor(readonly turns: number) {}
  abstract apply(rig: GatewayRig): void;
  abstract toString(): string;
}

/** An app writes a burst of packets in one chunk. */
class Burst extends GatewayCommandBase {
  constructor(
    readonly slot: number,
    readonly ops: Op[],
    turns: number,
  ) {
    super(turns);
  }
  apply(rig: GatewayRig): void {
    const app = appIn(rig, this.slot);
    app.write(this.ops.map((op) => encodeOp(app, op)));
  }
  toString(): string {
    return `burst(app${this.slot}: ${describeOps(this.ops)}; ${this.turns})`;
  }
}

/** An app takes the lease, writes a burst under it, and releases it (or hangs up holding or awaiting it). */
class LeaseSection extends GatewayCommandBase {
  constructor(
    readonly slot: number,
    readonly ops: Op[],
    readonly drop: boolean,
    turns: number,
  ) {
    super(turns);
  }
  apply(rig: GatewayRig): void {
    const app = appIn(rig, this.slot);
    const packets = [
      app.packet(
        { code: GatewayCommand.LEASE_ACQUIRE },
        { forward: false, expect: { code: GatewayCommand.LEASE_ACQUIRE, status: 1, lease: this.drop || this.ops.length === 0 } },
      ),
    ];
    for (const op of this.ops) packets.push(encodeOp(app, op));
    // Written together: with commands in between, the release ends the section; right behind
    // the acquire it may withdraw it instead (status 0), which is the same for an empty section.
    if (!this.drop)
      packets.push(app.packet({ code: GatewayCommand.LEASE_RELEASE }, { forward: false, expect: { code: GatewayCommand.LEASE_RELEASE, status: 1 } }));
    app.write(packets);
    if (this.drop) {
      // Hang up once the burst is on its way: the gateway drops the lease (held or awaited).
      setImmediate(() => {
        if (!app.gone) {
          app.disconnect();
          rig.noteDisconnect();
        }
      });
    }
  }
  toString(): string {
    return `lease(app${this.slot}: ${describeOps(this.ops)}${this.drop ? '; dropped' : ''}; ${this.turns})`;
  }
}

/** An app hangs up; a new app takes its slot at its next step. */
class Disconnect extends GatewayCommandBase {
  constructor(readonly slot: number) {
    super(1);
  }
  apply(rig: GatewayRig): void {
    const app = rig.apps[this.slot] as ModelApp;
    if (app.gone) return;
    app.disconnect();
    rig.noteDisconnect();
  }
  toString(): string {
    return `disconnect(app${this.slot})`;
  }
}

/** An app stops reading (a slow reader; cut off once its backlog passes the bound) or reads again. */
class SlowReader extends GatewayCommandBase {
  constructor(
    readonly slot: number,
    readonly stop: boolean,
  ) {
    super(1);
  }
  apply(rig: GatewayRig): void {
    const app = rig.apps[this.slot] as ModelApp;
    if (app.gone) return;
    if (this.stop) app.pause();
    else app.resume();
  }
  toString(): string {
    return `${this.stop ? 'pause' : 'resume'}(app${this.slot})`;
  }
}

const slotArb = fc.integer({ min: 0, max: APP_SLOTS - 1 });
const turnsArb = fc.constantFrom(0, 0, 1, 5);
const opsArb = fc.array(opArb, { minLength: 1, maxLength: 16 });

/** Every command the gateway model draws from. */
export function gatewayCommandArbitraries(): fc.Arbitrary<Cmd>[] {
  const burst = fc.tuple(slotArb, opsArb, turnsArb).map(([slot, ops, turns]) => new Burst(slot, ops, turns));
  // fc.commands draws each arbitrary equally often: bursts, the traffic, four times as often.
  return [
    burst,
    burst,
    burst,
    burst,
    // Many moves at once: a stop event to every app per move, enough to cut a paused app off.
    fc.tuple(slotArb, fc.array(moveArb, { minLength: 8, maxLength: 24 })).map(([slot, ops]) => new Burst(slot, ops, 1)),
    fc.tuple(slotArb, fc.array(opArb, { maxLength: 4 }), fc.boolean(), turnsArb).map(([slot, ops, drop, turns]) => new LeaseSection(slot, ops, drop, turns)),
    slotArb.map((slot) => new Disconnect(slot)),
    fc.tuple(slotArb, fc.boolean()).map(([slot, stop]) => new SlowReader(slot, stop)),
  ];
}
