import { Command } from '../../../protocol/commands.js';
import type { Packet } from '../../../protocol/packet.js';
import { createMemoryPair } from '../../../transports/memory.js';
import { SimulatedMicroscope } from '../../../mocks/simulated-microscope.js';
import { FlamingoGateway } from '../../../src/apps/gateway/gateway.js';
import { InvariantError } from '../invariant-error.js';
import { ModelApp, TAG_BASE } from './app.js';

/** Apps connected at once (a slot's app is replaced when it leaves). */
export const APP_SLOTS = 3;
/** Small bounds, so that a paused app is cut off after a few dozen packets. */
const MAX_OUTGOING_BYTES = 1024;
const PIPE_HIGH_WATER_BYTES = 512;
/** How long the end of a run may wait for replies and events in flight. */
const SETTLE_MS = 10_000;

/** Counters of one run. */
export interface GatewayRunFigures {
  packets: number;
  replies: number;
  events: number;
  cutOffs: number;
  disconnects: number;
}

function fail(message: string): never {
  throw new InvariantError(message);
}

/** Resolves once `predicate()` holds, checked every event-loop turn; rejects after `ms`. */
function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const stopAt = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate()) resolve();
      else if (performance.now() > stopAt) reject(new InvariantError(`${what} did not happen within ${ms} ms`));
      else setImmediate(check);
    };
    check();
  });
}

/**
 * A simulator behind a gateway (both over in-memory pipes) with {@link APP_SLOTS} raw apps.
 * Checks, after every step, that every packet the instrument received from an app is that
 * app's next one (per-app order, nothing twice, nothing skipped) and that no app saw a
 * reply that was not its own; at the end, that every request of an app still connected
 * was answered once, every packet it sent reached the instrument, and it got every event
 * of the instrument since it connected, once, in order.
 */
export class GatewayRig {
  readonly sim: SimulatedMicroscope;
  readonly gateway: FlamingoGateway;
  readonly apps: ModelApp[] = [];
  /** Every event the gateway's upstream link received, in order. */
  readonly upstreamEvents: Packet[] = [];
  private readonly upstreamId: number;
  private readonly everyApp: ModelApp[] = [];
  private nextAppId = 1;
  private checkedRecords = 0;
  private readonly arrived = new Map<number, number>();
  private disconnects = 0;

  private constructor(sim: SimulatedMicroscope, gateway: FlamingoGateway, upstreamId: number) {
    this.sim = sim;
    this.gateway = gateway;
    this.upstreamId = upstreamId;
    gateway.upstream.on('event', (p) => this.upstreamEvents.push(p));
    for (let i = 0; i < APP_SLOTS; i++) this.apps.push(this.connectApp());
  }

  /** Start a simulator (legacy or echoing firmware) with a reply delay, and a gateway in front. */
  static async start(options: { echoSequence: boolean; seed: number; delayMs: number }): Promise<GatewayRig> {
    const sim = new SimulatedMicroscope({ echoSequence: options.echoSequence, seed: options.seed, timeScale: 1000 });
    let upstreamId = 0;
    const gateway = await FlamingoGateway.start({
      upstreamPort: 1,
      upstreamTransport: () => {
        const [instrumentEnd, gatewayEnd] = createMemoryPair();
        upstreamId = sim.attach(instrumentEnd);
        if (options.delayMs > 0) sim.setFaults(upstreamId, `delay=0..${options.delayMs}ms`);
        return gatewayEnd;
      },
      mode: options.echoSequence ? 'sequenced' : 'lease',
      port: 0,
      livePort: false,
      maxOutgoingBytes: MAX_OUTGOING_BYTES,
    });
    return new GatewayRig(sim, gateway, upstreamId);
  }

  /** A new app in slot `slot`, replacing the one there (which has left). */
  replace(slot: number): void {
    this.apps[slot] = this.connectApp();
  }

  noteDisconnect(): void {
    this.disconnects++;
  }

  /** After each step: the instrument's records so far, and what each app received so far. */
  checkStep(): void {
    for (const app of this.everyApp) if (app.violations.length > 0) fail(app.violations[0] as string);
    const records = this.sim.recordsFor(this.upstreamId);
    for (; this.checkedRecords < records.length; this.checkedRecords++) {
      const tag = (records[this.checkedRecords] as { int32Data2: number }).int32Data2;
      if (tag < TAG_BASE) continue; // the gateway's own packets (probe, fences)
      const appId = Math.floor(tag / TAG_BASE);
      const app = this.everyApp[appId - 1];
      if (app === undefined) fail(`the instrument got tag ${tag} of no app`);
      const seen = this.arrived.get(appId) ?? 0;
      const expected = app.forwarded[seen];
      if (tag !== expected) {
        fail(
          `app ${appId}: the instrument got packet ${tag % TAG_BASE} where the app's next is ${expected === undefined ? 'none' : expected % TAG_BASE} (order ${app.forwarded.map((t) => t % TAG_BASE).join(',')})`,
        );
      }
      this.arrived.set(appId, seen + 1);
    }
  }

  /** Let motion end, resume paused apps, wait until everything owed has arrived, and check the end state. */
  async quiesce(): Promise<void> {
    // Motion over: the reply comes after the last STAGE_MOTION_STOPPED on the upstream link.
    // Asked before paused apps read again, so that a paused app meets every event.
    await this.gateway.upstream.request(Command.STAGE_WAIT_FOR_MOTION, undefined, { timeoutMs: SETTLE_MS });
    for (const app of this.apps) if (app.paused) app.resume();
    const live = () => this.everyApp.filter((a) => !a.gone);
    await until(() => live().every((a) => a.owed === 0), SETTLE_MS, 'every reply');
    await this.gateway.upstream.request(Command.STAGE_WAIT_FOR_MOTION, undefined, { timeoutMs: SETTLE_MS });
    await until(() => live().every((a) => a.events.length >= this.upstreamEvents.length - a.eventsFrom), SETTLE_MS, 'every event');
    this.checkStep();
    for (const app of this.everyApp) {
      const arrived = this.arrived.get(app.id) ?? 0;
      if (!app.gone && arrived !== app.forwarded.length) fail(`app ${app.id}: ${app.forwarded.length - arrived} of its packets never reached the instrument`);
      const expected = this.upstreamEvents.slice(app.eventsFrom);
      const got = app.events;
      if (!app.gone && got.length !== expected.length) fail(`app ${app.id}: ${got.length} events, expected ${expected.length}`);
      if (got.length > expected.length) fail(`app ${app.id}: ${got.length} events, more than the ${expected.length} the instrument sent`);
      got.forEach((p, i) => {
        const e = expected[i] as Packet;
        if (p.code !== e.code || p.status !== e.status || p.int32Data0 !== e.int32Data0 || !Object.is(p.value, e.value)) {
          fail(`app ${app.id}: event ${i} is 0x${p.code.toString(16)}/${p.int32Data0}, expected 0x${e.code.toString(16)}/${e.int32Data0}`);
        }
      });
    }
  }

  figures(): GatewayRunFigures {
    const sum = (f: (a: ModelApp) => number) => this.everyApp.reduce((s, a) => s + f(a), 0);
    return {
      packets: sum((a) => a.sent),
      replies: sum((a) => a.replies),
      events: sum((a) => a.events.length),
      cutOffs: sum((a) => (a.cutOff ? 1 : 0)),
      disconnects: this.disconnects,
    };
  }

  async stop(): Promise<void> {
    for (const app of this.apps) if (!app.gone) app.disconnect();
    await this.gateway.close();
    await this.sim.close();
  }

  private connectApp(): ModelApp {
    const [appEnd, gatewayEnd] = createMemoryPair({ highWaterBytes: PIPE_HIGH_WATER_BYTES });
    const app = new ModelApp(this.nextAppId++, appEnd, this.upstreamEvents.length, () => undefined);
    this.everyApp.push(app);
    this.gateway.attach(gatewayEnd);
    return app;
  }
}
