/**
 * Regressions of issue 18's gateway defects, each named after what broke. Each failed
 * before its fix (see the issue's closing note).
 */
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  buildWorkflowText,
  Command,
  dataText,
  encodePacket,
  Flags,
  FlamingoGateway,
  GatewayCommand,
  withGatewayLease,
  type Packet,
} from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { recordEvents, stacksCleanedUpAfterEach, upstreamConnection } from '../support/gateway-harness.js';
import { until } from '../support/wait.js';

const startStack = stacksCleanedUpAfterEach();
const CB = Flags.TRIGGER_CALL_BACK;

describe.each([
  ['lease', false, 30],
  ['sequenced', true, 40],
])('upstream %s mode', (_mode, echoSequence, reads) => {
  it(`defect 1: a STAGE_HALT no longer overtakes the same app's STAGE_POSITION_SET queued upstream behind ${reads} reads of another app`, async () => {
    const stack = await startStack({ sim: { echoSequence }, gateway: { maxPendingPerSession: 256 } });
    const { sim, gateway } = stack;
    const busy = await stack.client();
    const mover = await stack.client();
    const upstream = upstreamConnection(sim);
    // Each reply waits 2 ms, so the other app's reads fill the upstream queue (lease: one
    // in flight; sequenced: more than the 32-request window).
    sim.setFaults(upstream, 'delay=2ms');
    const flood = Array.from({ length: reads }, () => busy.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }));
    const moved = mover.request(Command.STAGE_POSITION_SET, { int32Data0: 1, value: 14 });
    await mover.send(Command.STAGE_HALT);
    await Promise.all([...flood, moved]);
    await until(() => sim.recordsFor(upstream).some((r) => r.code === Command.STAGE_HALT), 10_000, 'the halt reached the instrument');
    const order = sim
      .recordsFor(upstream)
      .map((r) => r.code)
      .filter((c) => c === Command.STAGE_POSITION_SET || c === Command.STAGE_HALT);
    expect(order).toEqual([Command.STAGE_POSITION_SET, Command.STAGE_HALT]);
    expect(gateway.stats.failures).toBe(0);
  });
});

describe.each([
  ['lease', false],
  ['sequenced', true],
])('upstream %s mode', (_mode, echoSequence) => {
  it.each([
    ['SYSTEM_STATE_IDLE', Command.SYSTEM_STATE_IDLE],
    ['STAGE_MOTION_STOPPED', Command.STAGE_MOTION_STOPPED],
  ])('defect 2: a callback request of the pushed code %s is answered to its sender only, never broadcast as an event', async (_name, code) => {
    const stack = await startStack({ sim: { echoSequence } });
    const other = await stack.client();
    const seen = recordEvents(other);
    const { client: raw } = await stack.raw();
    raw.send({ code, cmdDataBits0: CB, clientId: 77 });
    const reply = await raw.next((p: Packet) => p.code === code);
    expect([reply.code, reply.status, reply.clientId]).toEqual([code, 0, 77]);
    // A request after it, answered: anything the first caused has reached the other app by now.
    await other.request(Command.SYSTEM_STATE_GET);
    raw.send({ code: Command.SYSTEM_STATE_GET, cmdDataBits0: CB, clientId: 78 });
    expect((await raw.next((p: Packet) => p.code === Command.SYSTEM_STATE_GET)).clientId).toBe(78);
    expect(seen.filter((p) => p.code === code)).toEqual([]);
    expect(raw.received.filter((p) => p.code === code)).toHaveLength(1);
    expect(dataText(reply)).toMatch(/^gateway: .* is an event, not a command$/);
    // Not forwarded: nothing the instrument could answer exists.
    expect(stack.sim.records.filter((r) => r.code === code)).toEqual([]);
  });

  it("defect 2: another app's workflow.start does not end early on an app's SYSTEM_STATE_IDLE request", async () => {
    const stack = await startStack({ sim: { echoSequence, workflowDurationMs: 400, timeScale: 1 } });
    const runner = await stack.client();
    const { client: raw } = await stack.raw();
    const started = runner.workflow.start(buildWorkflowText({ numberOfPlanes: 5 }), { startTimeoutMs: 5000 });
    await runner.waitFor(Command.UI_SET_GAUGE_VALUE, { timeoutMs: 5000 });
    raw.send({ code: Command.SYSTEM_STATE_IDLE, cmdDataBits0: CB, clientId: 5 });
    await raw.next((p: Packet) => p.code === Command.SYSTEM_STATE_IDLE);
    const result = await started;
    expect(result.acquired).toBe(5);
  });
});

describe('lease sections written ahead', () => {
  it('gateway model counterexample [lease(app0: move1→1!), …]: acquire, commands, release in one write run the commands under the lease', async () => {
    const stack = await startStack();
    // Another app holds the lease, so the acquire has to wait (in the model: a busy upstream).
    const holder = await stack.client();
    await holder.request(GatewayCommand.LEASE_ACQUIRE, undefined, { expectOk: true });
    const { client: raw } = await stack.raw();
    const chunk = [
      encodePacket({ code: GatewayCommand.LEASE_ACQUIRE, cmdDataBits0: CB, clientId: 1 }),
      encodePacket({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 1 }),
      encodePacket({ code: GatewayCommand.LEASE_RELEASE, cmdDataBits0: CB, clientId: 2 }),
    ];
    raw.writeRaw(Buffer.concat(chunk));
    await until(() => stack.gateway.leases.waitingCount === 1, 5000, 'the acquire waits');
    await holder.request(GatewayCommand.LEASE_RELEASE);
    const acquired = await raw.next((p: Packet) => p.code === GatewayCommand.LEASE_ACQUIRE);
    const released = await raw.next((p: Packet) => p.code === GatewayCommand.LEASE_RELEASE);
    expect([acquired.status, acquired.clientId, released.status, released.clientId]).toEqual([1, 1, 1, 2]);
    expect(stack.gateway.leases.holder).toBeNull();
  });

  it('a release right behind a waiting acquire still withdraws it at once', async () => {
    const stack = await startStack();
    const holder = await stack.client();
    await holder.request(GatewayCommand.LEASE_ACQUIRE, undefined, { expectOk: true });
    const { client: raw } = await stack.raw();
    raw.send({ code: GatewayCommand.LEASE_ACQUIRE, cmdDataBits0: CB, clientId: 1 });
    await until(() => stack.gateway.leases.waitingCount === 1, 5000, 'the acquire waits');
    raw.send({ code: GatewayCommand.LEASE_RELEASE, cmdDataBits0: CB, clientId: 2 });
    const acquired = await raw.next((p: Packet) => p.code === GatewayCommand.LEASE_ACQUIRE);
    expect([acquired.status, acquired.clientId]).toEqual([0, 1]);
    expect(stack.gateway.leases.holder).not.toBeNull();
  });
});

describe('withGatewayLease', () => {
  it('defect 8: a lease-mode client waiting for a lease another app holds times out and stays open', async () => {
    const stack = await startStack();
    const holder = await stack.client();
    const waiter = await stack.client({ mode: 'lease', requestTimeoutMs: 100 });
    await holder.request(GatewayCommand.LEASE_ACQUIRE, undefined, { expectOk: true });
    await expect(withGatewayLease(waiter, async () => 'ran', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await holder.request(GatewayCommand.LEASE_RELEASE);
    // The waiter is still usable, and its withdrawn acquire holds nobody back.
    expect(waiter.isClosed).toBe(false);
    expect((await waiter.request(Command.SYSTEM_STATE_GET)).status).toBe(1);
    expect(await withGatewayLease(waiter, async () => 'ran')).toBe('ran');
    expect(await withGatewayLease(holder, async () => 'again')).toBe('again');
  });
});

describe('FlamingoGateway.start options', () => {
  it.each([
    ['maxPayloadBytes', -1],
    ['maxPayloadBytes', 1.5],
    ['maxOutgoingBytes', 0],
    ['maxPendingPerSession', Number.NaN],
    ['requestTimeoutMs', 2 ** 31],
    ['queueTimeoutMs', -5],
    ['connectTimeoutMs', 0],
    ['helloTimeoutMs', Infinity],
    ['maxQueuedFrames', 0],
    ['upstreamPort', 70_000],
    ['port', -1],
    ['livePort', 1.5],
    ['readOnlyPort', 'x'],
    ['mode', 'fast'],
    ['token', ''],
    ['upstreamHost', 42],
    ['reconnect', { initialDelayMs: -1 }],
    ['reconnect', { maxAttempts: 0.5 }],
  ])('defect 6: %s = %s is refused with ArgumentError before any socket opens', async (name, value) => {
    const sim = new SimulatedMicroscope();
    const { port } = await sim.listen({ port: 0 });
    try {
      // Deliberately ill-typed: the runtime check of an untyped caller is under test.
      const start = FlamingoGateway.start({ upstreamPort: port, port: 0, livePort: false, [name]: value } as never);
      await expect(start).rejects.toBeInstanceOf(ArgumentError);
      expect(sim.connectionIds).toEqual([]);
      expect(sim.records).toHaveLength(0);
    } finally {
      await sim.close();
    }
  });
});
