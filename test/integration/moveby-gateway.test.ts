/**
 * Two apps on separate connections get atomic relative moves when they go through a
 * gateway and wrap moveBy in its cross-client lease: the interleaving that loses a delta
 * on direct connections (moveby-concurrency.test.ts, last test) cannot happen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Command, FlamingoClient, connectTcp, withGatewayLease } from 'flamingo-protocol';
import { startStack, type Stack } from '../support/gateway-harness.js';
import { TapTransport, headerCode } from '../support/sim-clients.js';

let stack: Stack | null = null;
const extra: FlamingoClient[] = [];
afterEach(async () => {
  for (const c of extra.splice(0)) await c.close();
  await stack?.cleanup();
  stack = null;
});

const START = 8;

describe.each([true, false])('moveBy through a gateway lease (instrument echoSequence %s)', (echoSequence) => {
  it('concurrent leased moveBy from two clients add up, round after round', async () => {
    stack = await startStack({ sim: { echoSequence } });
    const a = await stack.client();
    const b = await stack.client({ mode: 'lease' });
    await a.stage.moveTo(1, START);
    const deltas: [number, number][] = [
      [0.5, 1.25],
      [-2, 0.125],
      [3, -1.5],
      [0, 0.25],
    ];
    let expected = START;
    for (const [da, db] of deltas) {
      const before = expected;
      const [ra, rb] = await Promise.all([withGatewayLease(a, () => a.stage.moveBy(1, da)), withGatewayLease(b, () => b.stage.moveBy(1, db))]);
      expected += da + db;
      expect(stack.sim.stagePosition(1)).toBe(expected);
      // One ran entirely after the other: it started where the first one stopped.
      const aFirst = ra.from === before && rb.from === ra.target;
      const bFirst = rb.from === before && ra.from === rb.target;
      expect(aFirst || bFirst).toBe(true);
      expect(aFirst ? rb.target : ra.target).toBe(expected);
    }
  });

  it('the interleaving that loses a delta on direct connections is held back by the lease', async () => {
    stack = await startStack({ sim: { echoSequence } });
    const port = stack.gateway.address.port;
    let releaseA: () => void = () => undefined;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    let aSetSeen: () => void = () => undefined;
    const aReachedSet = new Promise<void>((resolve) => (aSetSeen = resolve));
    // A's move is held on its way out, exactly as in the direct-connection test.
    const a = await FlamingoClient.connect({
      transport: async () =>
        new TapTransport(await connectTcp({ host: '127.0.0.1', port }), (bytes) => {
          if (headerCode(bytes) !== Command.STAGE_POSITION_SET) return;
          aSetSeen();
          return aHeld;
        }),
    });
    extra.push(a);
    const b = await stack.client();
    await b.stage.moveTo(1, START);
    // Observe the gateway receiving the lease requests (A's is the first, B's the second).
    const leases = stack.gateway.leases;
    const acquire = leases.acquire.bind(leases);
    let acquires = 0;
    let bWaiting: () => void = () => undefined;
    const bAtGateway = new Promise<void>((resolve) => (bWaiting = resolve));
    leases.acquire = (holder) => {
      const granted = acquire(holder);
      if (++acquires === 2) bWaiting();
      return granted;
    };
    const aMove = withGatewayLease(a, () => a.stage.moveBy(1, 1));
    await aReachedSet;
    // B asks while A, holding the lease, is between its read and its move. Without A's
    // lease B would read START and move first (checked by mutation: rb.from becomes START);
    // with it the gateway holds B back until A's whole read-move-wait is done.
    const bMove = withGatewayLease(b, () => b.stage.moveBy(1, 2));
    await bAtGateway;
    expect(leases.waitingCount).toBe(1);
    releaseA();
    const [ra, rb] = await Promise.all([aMove, bMove]);
    expect(ra).toMatchObject({ from: START, target: START + 1, position: START + 1 });
    expect(rb).toMatchObject({ from: START + 1, target: START + 3, position: START + 3 });
    expect(stack.sim.stagePosition(1)).toBe(START + 3);
  });
});
