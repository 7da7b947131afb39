/**
 * stage.moveBy is a read-modify-write inside one exclusive section: concurrent relative
 * moves through one client add up. Across separate connections (no gateway) nothing
 * serialises them, and the last test shows the lost update that remains possible there.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, Command, type MoveByResult } from 'flamingo-protocol';
import { MATRIX, SimClients, TapTransport, headerCode } from '../support/sim-clients.js';

let env: SimClients | null = null;
afterEach(async () => {
  await env?.cleanup();
  env = null;
});

const START = 8;
// Multiples of 1/8 mm: every partial sum is exact in binary floating point, so positions
// can be compared with toBe, and any lost or doubled delta shows.
const deltaArb = fc.integer({ min: -8, max: 8 }).map((k) => k / 8);

/** Codes and axes of the stage packets one connection sent, after the auto-mode probe. */
function stageTraffic(sim: SimClients['sim'], connectionId: number): string[] {
  return sim
    .recordsFor(connectionId)
    .filter((r) => r.code === Command.STAGE_POSITION_GET || r.code === Command.STAGE_POSITION_SET)
    .map((r) => `${r.code === Command.STAGE_POSITION_GET ? 'GET' : 'SET'}${r.int32Data0}`);
}

describe.each(MATRIX)('moveBy over %s, %s mode', (kind, mode) => {
  it('concurrent callers on one client end at start + every delta; each read sees the previous move', async () => {
    env = new SimClients(mode);
    const client = await env.connect(kind);
    expect(client.mode).toBe(mode);
    const connectionId = env.sim.connectionIds[0] as number;
    await fc.assert(
      fc.asyncProperty(fc.array(deltaArb, { minLength: 2, maxLength: 6 }), async (deltas) => {
        await client.stage.moveTo(1, START);
        const before = stageTraffic(env!.sim, connectionId).length;
        const finished: MoveByResult[] = [];
        await Promise.all(deltas.map((d) => client.stage.moveBy(1, d).then((r) => finished.push(r))));
        const sum = deltas.reduce((a, b) => a + b, 0);
        expect(env!.sim.stagePosition(1)).toBe(START + sum);
        expect(finished.length).toBe(deltas.length);
        // Serialised: in completion order, every call started where the previous one stopped.
        let at = START;
        for (const r of finished) {
          expect(r.from).toBe(at);
          expect(r.position).toBe(r.target);
          at = r.target;
        }
        expect(at).toBe(START + sum);
        // On the wire: strictly GET, SET pairs, one call at a time, never two reads in a row.
        expect(stageTraffic(env!.sim, connectionId).slice(before)).toEqual(deltas.flatMap(() => ['GET1', 'SET1']));
        const x = client.state.snapshot().stage.x;
        expect(x.position).toBe(START + sum);
        expect(x.moving).toBe(false);
      }),
      { numRuns: 10 },
    );
  });

  it('moveBy callers interleaved with other traffic on the same client still add up', async () => {
    env = new SimClients(mode);
    const client = await env.connect(kind);
    await client.stage.moveTo(2, 10);
    const results = await Promise.all([
      client.stage.moveBy(2, 0.5),
      client.stage.position(1),
      client.lasers.setLevel(1, 12.5),
      client.stage.moveBy(2, -1.25),
      client.system.state(),
      client.stage.moveBy(2, 2),
    ]);
    expect(results.length).toBe(6);
    expect(env.sim.stagePosition(2)).toBe(10 + 0.5 - 1.25 + 2);
    expect(client.state.snapshot().stage.y.position).toBe(11.25);
  });

  it('control: the same read-then-move written as two calls loses a delta', async () => {
    // Shows the hazard moveBy exists for (and that the test above could fail): both reads
    // happen before either move, so the second move overrides the first.
    env = new SimClients(mode);
    const client = await env.connect(kind);
    await client.stage.moveTo(1, START);
    const naive = async (d: number) => client.stage.moveTo(1, (await client.stage.position(1)) + d);
    // The second write wins; wait for its stop (armed first: it may come before either call returns).
    const last = client.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.value === START + 2, { timeoutMs: 5000 });
    await Promise.all([naive(1), naive(2)]);
    await last;
    expect(env.sim.stagePosition(1)).toBe(START + 2);
    expect(env.sim.records.filter((r) => r.code === Command.STAGE_POSITION_SET).map((r) => r.value)).toEqual([START, START + 1, START + 2]);
  });

  it('rejects a bad axis or delta before sending anything, and a refused move leaves the lease free', async () => {
    env = new SimClients(mode);
    const client = await env.connect(kind);
    await expect(client.stage.moveBy(5, 1)).rejects.toBeInstanceOf(ArgumentError);
    await expect(client.stage.moveBy(1, Number.NaN)).rejects.toBeInstanceOf(ArgumentError);
    await client.stage.moveTo(1, 14);
    // X travel ends at 15 mm: the move is refused (status 0) and the section ends.
    await expect(client.stage.moveBy(1, 5)).rejects.toMatchObject({ code: 'PROTOCOL' });
    expect((await client.stage.moveBy(1, -1)).position).toBe(13);
  });
});

describe.each(['sequenced', 'lease'] as const)('moveBy across two connections (%s mode, no gateway)', (mode) => {
  it('two clients in turn add up', async () => {
    env = new SimClients(mode);
    const a = await env.connect('tcp');
    const b = await env.connect('tcp');
    await a.stage.moveTo(3, 12);
    await a.stage.moveBy(3, 1.5);
    await b.stage.moveBy(3, -0.25);
    // B learns of A's last move only from the pushed stop, on its own connection.
    const bSeesIt = b.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.value === 13.375, { timeoutMs: 5000 });
    await a.stage.moveBy(3, 0.125);
    await bSeesIt;
    expect(env.sim.stagePosition(3)).toBe(12 + 1.5 - 0.25 + 0.125);
    // Each mirror saw every motion-stopped push (the simulator sends them to every client).
    expect(a.state.snapshot().stage.z.position).toBe(13.375);
    expect(b.state.snapshot().stage.z.position).toBe(13.375);
  });

  it('overlapping moveBy from separate connections are NOT serialised: one delta can be lost', async () => {
    // Client A's move is held on its way out until client B has done a whole moveBy: the
    // interleaving A-read, B-read, B-move, A-move. A's exclusive section only holds A's own
    // connection, so B is not held back, and A writes the target it computed from the stale
    // read. A gateway with cross-client leases is what makes this atomic.
    env = new SimClients(mode);
    let releaseA: () => void = () => undefined;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    let aSetSeen: () => void = () => undefined;
    const aReachedSet = new Promise<void>((resolve) => (aSetSeen = resolve));
    const a = await env.connect(
      'memory',
      {},
      (t) =>
        new TapTransport(t, (bytes) => {
          if (headerCode(bytes) !== Command.STAGE_POSITION_SET) return;
          aSetSeen();
          return aHeld;
        }),
    );
    const b = await env.connect('memory');
    await b.stage.moveTo(1, START);
    const aMove = a.stage.moveBy(1, 1);
    aMove.catch(() => undefined);
    await aReachedSet;
    const bMove = await b.stage.moveBy(1, 2);
    expect(bMove.from).toBe(START);
    expect(env.sim.stagePosition(1)).toBe(START + 2);
    // Armed before A's move is let go: the stop of A's move (to its stale target).
    const aStopped = b.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === 1, { timeoutMs: 5000 });
    releaseA();
    await aMove;
    expect((await aStopped).value).toBe(START + 1);
    // A computed its target from the read before B moved: B's delta is lost.
    expect(env.sim.stagePosition(1)).toBe(START + 1);
  });
});
