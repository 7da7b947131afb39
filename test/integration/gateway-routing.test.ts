import { describe, expect, it } from 'vitest';
import {
  Command,
  Flags,
  FlamingoClient,
  GatewayCommand,
  buildWorkflowText,
  dataText,
  withGatewayLease,
  type Packet,
  type PacketInit,
} from 'flamingo-protocol';
import { nextGatewayEvent, recordEvents, stacksCleanedUpAfterEach, upstreamConnection } from '../support/gateway-harness.js';
import { streamOf } from '../support/packets.js';

const startStack = stacksCleanedUpAfterEach();

const CB = Flags.TRIGGER_CALL_BACK;

function summary(p: Packet): [number, number, number, number, number, string] {
  return [p.code, p.status, p.int32Data0, p.int32Data1, p.value, dataText(p)];
}

describe.each([
  ['sequenced firmware (echoSequence true)', true],
  ['legacy firmware (echoSequence false)', false],
])('gateway with %s', (_name, echoSequence) => {
  it('routes concurrent requests of sequenced, lease and raw legacy clients with no cross-talk', async () => {
    const stack = await startStack({ sim: { echoSequence } });
    const { sim, gateway } = stack;
    expect(gateway.mode).toBe(echoSequence ? 'sequenced' : 'lease');
    const auto = await stack.client();
    const byHardwareId = await stack.client({ mode: 'sequenced', sequenceField: 'hardwareId' });
    const lease = await stack.client({ mode: 'lease' });
    // The gateway echoes sequence fields whatever the instrument does, so auto picks sequenced.
    expect(auto.mode).toBe('sequenced');
    const { client: raw } = await stack.raw();
    const strays: Packet[] = [];
    for (const c of [auto, byHardwareId, lease]) {
      c.on('event', (p) => strays.push(p));
      c.on('unmatched', (p) => strays.push(p));
    }

    const plans: [FlamingoClient, number, string][] = [
      [auto, 1, '11.00'],
      [byHardwareId, 2, '22.00'],
      [lease, 3, '33.00'],
    ];
    const axes = [1, 2, 3, 1, 2, 3];
    const work = plans.map(async ([client, laser, level]) => {
      // Never answered by the instrument: written, then read back.
      await client.send(Command.LASER_LEVEL_SET, { int32Data0: laser, data: level, cmdDataBits0: CB });
      const gets = await Promise.all(Array.from({ length: 10 }, () => client.request(Command.LASER_LEVEL_GET, { int32Data0: laser })));
      for (const g of gets) expect([g.code, g.status, g.int32Data0, dataText(g)]).toEqual([Command.LASER_LEVEL_GET, 1, laser, level]);
      const positions = await Promise.all(axes.map((axis) => client.request(Command.STAGE_POSITION_GET, { int32Data0: axis })));
      positions.forEach((r, i) => expect([r.code, r.status, r.int32Data0, r.value]).toEqual([Command.STAGE_POSITION_GET, 1, axes[i], sim.stagePosition(axes[i] as number)]));
    });

    // A legacy client writes seven packets at once, with no sequence: it must get a reply to
    // each of the six answered ones (LASER_LEVEL_SET never is), in its own order, with 0 in every sequence field.
    const legacy: PacketInit[] = [
      { code: Command.LASER_LEVEL_SET, int32Data0: 4, data: '44.00', cmdDataBits0: CB },
      { code: Command.LASER_LEVEL_GET, int32Data0: 4, cmdDataBits0: CB },
      { code: Command.STAGE_POSITION_GET, int32Data0: 3, cmdDataBits0: CB },
      { code: Command.STAGE_POSITION_GET, int32Data0: 1, cmdDataBits0: CB },
      { code: Command.SYSTEM_STATE_GET, cmdDataBits0: CB },
      { code: Command.LASER_LEVEL_GET, int32Data0: 4, cmdDataBits0: CB },
      { code: Command.CAMERA_IMAGE_SIZE_GET, cmdDataBits0: CB },
    ];
    raw.writeRaw(streamOf(legacy));
    const rawReplies = (async () => {
      const got: Packet[] = [];
      for (let i = 0; i < legacy.length - 1; i++) got.push(await raw.next());
      return got;
    })();
    await Promise.all(work);
    const replies = await rawReplies;
    expect(replies.map(summary)).toEqual([
      [Command.LASER_LEVEL_GET, 1, 4, 0, 0, '44.00'],
      [Command.STAGE_POSITION_GET, 1, 3, 0, sim.stagePosition(3), ''],
      [Command.STAGE_POSITION_GET, 1, 1, 0, sim.stagePosition(1), ''],
      [Command.SYSTEM_STATE_GET, 1, 0xa002, 0, 0, ''],
      [Command.LASER_LEVEL_GET, 1, 4, 0, 0, '44.00'],
      // The reply carries the sensor pixel size (6.5 µm) in value, as the instrument's does.
      [Command.CAMERA_IMAGE_SIZE_GET, 1, 2048, 2048, 6.5, ''],
    ]);
    for (const r of replies) expect([r.hardwareId, r.subsystemId, r.clientId]).toEqual([0, 0, 0]);
    expect(raw.received.length).toBe(legacy.length - 1);
    expect(strays).toEqual([]);

    // The instrument saw each forwarded command exactly once.
    const records = sim.recordsFor(upstreamConnection(sim));
    const count = (code: number) => records.filter((r) => r.code === code).length;
    expect(count(Command.LASER_LEVEL_SET)).toBe(4);
    expect(count(Command.LASER_LEVEL_GET)).toBe(32);
    expect(count(Command.STAGE_POSITION_GET)).toBe(20);
    expect(count(Command.CAMERA_IMAGE_SIZE_GET)).toBe(1);
    expect(gateway.stats.failures).toBe(0);
  });

  it('fans every instrument event out to every client exactly once', async () => {
    const stack = await startStack({ sim: { echoSequence } });
    const { gateway } = stack;
    const upstreamEvents: Packet[] = [];
    gateway.upstream.on('event', (p) => upstreamEvents.push(p));
    const mover = await stack.client();
    const watcher = await stack.client({ mode: 'lease' });
    const { client: raw } = await stack.raw();
    const moverEvents = recordEvents(mover);
    const watcherEvents = recordEvents(watcher);
    // The run's end is the second idle push: the first is the stale one right after the start.
    let watcherIdles = 0;
    let rawIdles = 0;
    const watcherIdle = watcher.waitFor((p) => p.code === Command.SYSTEM_STATE_IDLE && ++watcherIdles === 2, { timeoutMs: 10_000 });
    const rawIdle = raw.next((p) => p.code === Command.SYSTEM_STATE_IDLE && ++rawIdles === 2);

    const moved = await mover.stage.moveTo(1, 9.25);
    expect([moved.axis, moved.position, moved.reached]).toEqual([1, 9.25, true]);
    const result = await mover.workflow.start(buildWorkflowText({ numberOfPlanes: 4 }));
    expect(result.acquired).toBe(4);
    await watcherIdle;
    await rawIdle;

    const stopped = upstreamEvents.filter((p) => p.code === Command.STAGE_MOTION_STOPPED);
    expect(stopped.map(summary)).toEqual([[Command.STAGE_MOTION_STOPPED, 1, 1, 0, 9.25, '']]);
    expect(upstreamEvents.length).toBeGreaterThan(6);
    expect(gateway.stats.events).toBe(upstreamEvents.length);
    const expected = upstreamEvents.map(summary);
    expect(moverEvents.map(summary)).toEqual(expected);
    expect(watcherEvents.map(summary)).toEqual(expected);
    expect(raw.received.map(summary)).toEqual(expected);
  });

  it('a lease holds the other clients back until it is released', async () => {
    const stack = await startStack({ sim: { echoSequence } });
    const { sim, gateway } = stack;
    const holder = await stack.client();
    const other = await stack.client({ mode: 'lease' });
    const order: string[] = [];
    let otherDone: Promise<Packet> | undefined;
    await withGatewayLease(holder, async () => {
      expect(gateway.leases.holder).not.toBeNull();
      otherDone = other.request(Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET).then((r) => {
        order.push('other');
        return r;
      });
      for (let i = 0; i < 5; i++) {
        const r = await holder.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
        expect([r.status, r.int32Data0]).toEqual([1, 2]);
        order.push('holder');
      }
      expect(order).toEqual(['holder', 'holder', 'holder', 'holder', 'holder']);
    });
    const reply = await (otherDone as Promise<Packet>);
    expect([reply.code, reply.status]).toEqual([Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, 1]);
    expect(order).toEqual(['holder', 'holder', 'holder', 'holder', 'holder', 'other']);
    expect(gateway.leases.holder).toBeNull();
    // The instrument got the other client's command only after the holder's five.
    const records = sim.recordsFor(upstreamConnection(sim));
    const lastHolder = records.map((r) => r.code).lastIndexOf(Command.STAGE_POSITION_GET);
    const otherAt = records.findIndex((r) => r.code === Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET);
    expect(records.filter((r) => r.code === Command.STAGE_POSITION_GET).length).toBe(5);
    expect(otherAt).toBeGreaterThan(lastHolder);
  });

  it('a client killed while holding the lease releases it; a waiting acquire is granted after a release', async () => {
    const stack = await startStack({ sim: { echoSequence } });
    const { gateway } = stack;
    const { client: holder, socket } = await stack.raw();
    const acquired = await holder.request({ code: GatewayCommand.LEASE_ACQUIRE, clientId: 41 });
    expect([acquired.code, acquired.status, acquired.clientId]).toEqual([GatewayCommand.LEASE_ACQUIRE, 1, 41]);

    const { client: second } = await stack.raw();
    second.send({ code: GatewayCommand.LEASE_ACQUIRE, cmdDataBits0: CB, clientId: 7 });
    const waiting = await stack.client({ mode: 'lease' });
    let settled = false;
    const blocked = waiting.request(Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET).then((r) => {
      settled = true;
      return r;
    });
    // The holder keeps working while the others wait.
    const own = await holder.request({ code: Command.STAGE_POSITION_GET, int32Data0: 3, clientId: 42 });
    expect([own.status, own.int32Data0, own.clientId]).toEqual([1, 3, 42]);
    expect(settled).toBe(false);
    expect(second.received).toEqual([]);

    const gone = nextGatewayEvent(gateway, 'closed', (info) => info.end.kind === 'peer');
    socket.destroy();
    await gone;
    // The second client's acquire was waiting: it gets the lease. (The blocked request may
    // slip out between the two sections when the instrument is sequenced: it is not bound
    // to wait behind a lease that was asked for before it, only never to run inside one.)
    const granted = await second.next();
    expect([granted.code, granted.status, granted.clientId]).toEqual([GatewayCommand.LEASE_ACQUIRE, 1, 7]);
    const released = await second.request({ code: GatewayCommand.LEASE_RELEASE, clientId: 8 });
    expect([released.code, released.status, released.clientId]).toEqual([GatewayCommand.LEASE_RELEASE, 1, 8]);
    const reply = await blocked;
    expect([reply.code, reply.status]).toEqual([Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, 1]);
    expect(gateway.leases.holder).toBeNull();
  });
});

describe('gateway slow readers', () => {
  it('cuts off a client that stops reading while the others carry on', async () => {
    const stack = await startStack({ gateway: { maxOutgoingBytes: 64 * 1024 } });
    const { gateway } = stack;
    const active = await stack.client();
    const { client: stalled, socket } = await stack.raw();
    socket.pause();
    let cut = false;
    const cutOff = nextGatewayEvent(gateway, 'closed', (info) => info.end.kind === 'slow').then((args) => {
      cut = true;
      return args;
    });
    // Each settings reply is ~3 KB; the paused socket fills the kernel buffers, then the
    // gateway's backlog passes its limit. The active client's round trip paces the batches.
    let sequence = 0;
    for (let batch = 0; batch < 200 && !cut; batch++) {
      const requests: PacketInit[] = [];
      for (let i = 0; i < 100; i++) requests.push({ code: Command.COMMON_SCOPE_SETTINGS_LOAD, cmdDataBits0: CB, clientId: ++sequence });
      stalled.writeRaw(streamOf(requests));
      const r = await active.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
      expect([r.status, r.int32Data0]).toEqual([1, 1]);
    }
    const [info] = await cutOff;
    expect(info.reason).toMatch(/^cut off: slow reader, \d+ bytes unsent$/);
    expect(gateway.stats.slowDisconnects).toBe(1);
    expect(gateway.sessions.map((s) => s.id)).toEqual([1]);
    // The others carry on.
    const after = await active.request(Command.SYSTEM_STATE_GET);
    expect(after.status).toBe(1);
    socket.resume();
    await stalled.whenClosed();
    // Whatever the stalled client did get were its own settings replies, in full (or the
    // gateway's refusal when it had too many requests waiting).
    expect(stalled.received.length).toBeGreaterThan(0);
    // (A refusal is the gateway's own reply, so it carries the request's code: each app's
    // requests now wait in its own queue, one on the upstream link at a time, so the
    // per-connection limit is reached before the instrument has answered them.)
    for (const p of stalled.received) {
      expect(p.clientId).toBeGreaterThan(0);
      expect(p.clientId).toBeLessThanOrEqual(sequence);
      if (p.status === 1) expect([p.code, p.addDataBytes]).toEqual([Command.COMMON_SCOPE_SETTINGS, Buffer.byteLength(stack.sim.settingsText)]);
      else expect([p.code, p.status, p.addDataBytes, dataText(p)]).toEqual([Command.COMMON_SCOPE_SETTINGS_LOAD, 0, 0, 'gateway: too many requests pending']);
    }
  });
});
