import { describe, expect, it } from 'vitest';
import { Command, Flags, dataText, type Packet } from 'flamingo-protocol';
import { once } from '../support/sim-harness.js';
import { nextGatewayEvent, stacksCleanedUpAfterEach, upstreamConnection } from '../support/gateway-harness.js';

const startStack = stacksCleanedUpAfterEach();

const CB = Flags.TRIGGER_CALL_BACK;
const LOST = 'gateway: instrument connection lost';

describe.each([
  ['sequenced firmware', true],
  ['legacy firmware', false],
])('gateway upstream loss with %s', (_name, echoSequence) => {
  it("fails every request in flight with status 0 (never another client's reply), reconnects, and serves again", async () => {
    const stack = await startStack({ sim: { echoSequence }, gateway: { requestTimeoutMs: 10_000 } });
    const { sim, gateway } = stack;
    const sequenced = await stack.client();
    const lease = await stack.client({ mode: 'lease' });
    const { client: raw } = await stack.raw();
    const strays: Packet[] = [];
    for (const c of [sequenced, lease]) {
      c.on('event', (p) => strays.push(p));
      c.on('unmatched', (p) => strays.push(p));
    }
    const first = upstreamConnection(sim);
    // Every reply on the gateway's link is swallowed: the requests stay in flight.
    sim.setFaults(first, 'drop=1');
    const swallowed = once(sim, 'command', (info) => info.dropped);
    const inFlight = [
      ...[1, 2, 3].map((axis) => sequenced.request(Command.STAGE_POSITION_GET, { int32Data0: axis })),
      lease.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }),
    ];
    raw.send({ code: Command.STAGE_POSITION_GET, int32Data0: 4, clientId: 99, cmdDataBits0: CB });
    raw.send({ code: Command.SYSTEM_STATE_GET, cmdDataBits0: CB });
    await swallowed;
    const down = nextGatewayEvent(gateway, 'upstreamDown');
    const up = nextGatewayEvent(gateway, 'upstreamUp');
    sim.disconnect(first);
    await down;

    const failed = await Promise.all(inFlight);
    expect(failed.map((p) => [p.code, p.status, p.int32Data0, dataText(p)])).toEqual([
      [Command.STAGE_POSITION_GET, 0, 1, LOST],
      [Command.STAGE_POSITION_GET, 0, 2, LOST],
      [Command.STAGE_POSITION_GET, 0, 3, LOST],
      [Command.STAGE_POSITION_GET, 0, 2, LOST],
    ]);
    const rawFailures = [await raw.next(), await raw.next()].sort((a, b) => a.code - b.code);
    expect(rawFailures.map((p) => [p.code, p.status, p.int32Data0, p.clientId, dataText(p)])).toEqual([
      [Command.STAGE_POSITION_GET, 0, 4, 99, LOST],
      [Command.SYSTEM_STATE_GET, 0, 0, 0, LOST],
    ]);
    expect(gateway.stats.failures).toBe(6);
    expect(gateway.stats.upstreamLosses).toBe(1);

    await up;
    const second = upstreamConnection(sim);
    expect(second).not.toBe(first);
    const again = await sequenced.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
    expect([again.status, again.int32Data0, again.value]).toEqual([1, 1, sim.stagePosition(1)]);
    const level = await lease.request(Command.LASER_LEVEL_GET, { int32Data0: 2 });
    expect([level.status, level.int32Data0]).toEqual([1, 2]);
    const rawAgain = await raw.request({ code: Command.STAGE_POSITION_GET, int32Data0: 3, clientId: 100 });
    expect([rawAgain.status, rawAgain.int32Data0, rawAgain.clientId, rawAgain.value]).toEqual([1, 3, 100, sim.stagePosition(3)]);
    expect(raw.received.length).toBe(3);
    expect(strays).toEqual([]);
    expect(gateway.stats.failures).toBe(6);
  });
  it('answers a request the instrument is too slow for with status 0, and its late reply reaches nobody', async () => {
    const stack = await startStack({ sim: { echoSequence }, gateway: { requestTimeoutMs: 150 } });
    const { sim, gateway } = stack;
    const client = await stack.client({ requestTimeoutMs: 5000 });
    const { client: raw } = await stack.raw();
    const id = upstreamConnection(sim);
    sim.setFaults(id, 'delay=400..400');
    const late = new Promise<Packet>((resolve) => gateway.upstream.once('unmatched', resolve));
    const slow = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
    expect([slow.code, slow.status, slow.int32Data0, dataText(slow)]).toEqual([Command.STAGE_POSITION_GET, 0, 2, 'gateway: no reply from the instrument']);
    sim.setFaults(id, '');
    const stray = await late;
    expect([stray.code, stray.int32Data0, stray.status]).toEqual([Command.STAGE_POSITION_GET, 2, 1]);
    // The next same-code requests get their own replies, not the late one.
    const own = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
    expect([own.status, own.int32Data0, own.value]).toEqual([1, 3, sim.stagePosition(3)]);
    const rawOwn = await raw.request({ code: Command.STAGE_POSITION_GET, int32Data0: 1 });
    expect([rawOwn.status, rawOwn.int32Data0, rawOwn.value]).toEqual([1, 1, sim.stagePosition(1)]);
    expect(raw.received.length).toBe(1);
    expect(gateway.stats.failures).toBe(1);
  });
});
