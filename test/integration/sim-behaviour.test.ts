import { describe, expect, it } from 'vitest';
import { buildWorkflowText, Command, dataText, DEFAULT_SETTINGS_TEXT, payloadText, STATUS_FAILED, STATUS_OK, type Packet } from 'flamingo-protocol';
import { memoryClient, once, simulatorsClosedAfterEach, tcpClient, type WireClient } from '../support/sim-harness.js';

const makeSim = simulatorsClosedAfterEach();

const stopped = (axis: number) => (p: { code: number; int32Data0: number }) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === axis;

describe('replies', () => {
  it('answers an on-flag GET only when TRIGGER_CALL_BACK is set, with the request code and status 1', async () => {
    const sim = makeSim();
    const { client, id } = memoryClient(sim);
    client.send({ code: Command.STAGE_POSITION_GET, int32Data0: 1 });
    const reply = await client.request({ code: Command.CAMERA_IMAGE_SIZE_GET });
    expect(reply.code).toBe(Command.CAMERA_IMAGE_SIZE_GET);
    expect(reply.status).toBe(STATUS_OK);
    expect([reply.int32Data0, reply.int32Data1]).toEqual([2048, 2048]);
    // The first (flagless) GET was received and handled, but produced nothing on the wire.
    expect(client.received.map((p) => p.code)).toEqual([Command.CAMERA_IMAGE_SIZE_GET]);
    expect(sim.recordsFor(id).map((r) => r.code)).toEqual([Command.STAGE_POSITION_GET, Command.CAMERA_IMAGE_SIZE_GET]);
  });

  it('echoes hardwareId, subsystemId and clientId when echoSequence is on', async () => {
    const sim = makeSim({ echoSequence: true });
    const { client } = memoryClient(sim);
    const reply = await client.request({ code: Command.SYSTEM_STATE_GET, hardwareId: 7, subsystemId: 8, clientId: 0xfffffffe });
    expect([reply.hardwareId, reply.subsystemId, reply.clientId]).toEqual([7, 8, 0xfffffffe]);
    expect(reply.int32Data0).toBe(0xa002);
  });

  it('puts 0 in all three sequence fields by default, as the instrument does', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const reply = await client.request({ code: Command.SYSTEM_STATE_GET, hardwareId: 7, subsystemId: 8, clientId: 9 });
    expect([reply.hardwareId, reply.subsystemId, reply.clientId]).toEqual([0, 0, 0]);
  });

  it('fails an unknown code and an event-only code, with a callback reply', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const unknown = await client.request({ code: 0x7777, int32Data0: 3 });
    expect([unknown.code, unknown.status, unknown.int32Data0]).toEqual([0x7777, STATUS_FAILED, 0]);
    const event = await client.request({ code: Command.STAGE_MOTION_STOPPED });
    expect(event.status).toBe(STATUS_FAILED);
  });

  it('never acknowledges LASER_ALL_DISABLE, even with the callback flag', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    client.send({ code: Command.LASER_PREVIEW_ENABLE, int32Data0: 2, cmdDataBits0: 0x80000000 });
    await client.request({ code: Command.SYSTEM_STATE_GET });
    expect(sim.snapshot().lasers[1]?.previewOn).toBe(true);
    client.send({ code: Command.LASER_ALL_DISABLE, cmdDataBits0: 0x80000000 });
    // A later request's reply proves the disable was processed without a reply in between.
    const after = await client.request({ code: Command.SYSTEM_STATE_GET });
    expect(after.code).toBe(Command.SYSTEM_STATE_GET);
    expect(client.received.map((p) => p.code)).toEqual([Command.SYSTEM_STATE_GET, Command.SYSTEM_STATE_GET]);
    expect(sim.snapshot().lasers.map((l) => l.previewOn)).toEqual([false, false, false, false]);
  });

  it('processes one connection serially: replies come in request order', async () => {
    const sim = makeSim({ echoSequence: true });
    const { client } = memoryClient(sim);
    const codes = [Command.SYSTEM_STATE_GET, Command.CAMERA_EXPOSURE_GET, Command.FILTER_POSITION_GET, Command.CAMERA_IMAGE_SIZE_GET];
    for (let i = 0; i < 40; i++) client.send({ code: codes[i % 4], cmdDataBits0: 0x80000000, clientId: i + 1 });
    await client.next((p) => p.clientId === 40);
    expect(client.received.map((p) => p.clientId)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(client.received.map((p) => p.code)).toEqual(Array.from({ length: 40 }, (_, i) => codes[i % 4]));
  });
});

describe('stage', () => {
  it('moves over time, reads 0.000 while moving, and reports STAGE_MOTION_STOPPED to every client after the ack', async () => {
    const sim = makeSim({ timeScale: 100, echoSequence: true });
    const a = memoryClient(sim).client;
    const b = memoryClient(sim).client;
    const ack = await a.request({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 9.5, clientId: 5 });
    expect([ack.status, ack.int32Data0, ack.clientId]).toEqual([STATUS_OK, 1, 5]);
    // 2 mm at 1 mm/s, 100× faster: 20 ms of real time; right after the ack it is moving.
    const snap = sim.snapshot().stage[0];
    expect(snap?.moving).toBe(true);
    expect(snap?.target).toBe(9.5);
    const mid = await a.request({ code: Command.STAGE_POSITION_GET, int32Data0: 1 });
    expect(mid.int32Data0).toBe(1);
    expect(mid.value).toBe(0);
    const [ea, eb] = await Promise.all([a.next(stopped(1)), b.next(stopped(1))]);
    for (const e of [ea, eb]) {
      expect([e.status, e.int32Data0, e.value]).toEqual([STATUS_OK, 1, 9.5]);
      expect([e.hardwareId, e.subsystemId, e.clientId]).toEqual([0, 0, 0]);
    }
    expect(a.received.findIndex((p) => p.code === Command.STAGE_POSITION_SET)).toBeLessThan(a.received.indexOf(ea));
    const end = await a.request({ code: Command.STAGE_POSITION_GET, int32Data0: 1 });
    expect(end.value).toBe(9.5);
    expect(sim.stagePosition(1)).toBe(9.5);
  });

  it('refuses a target outside the travel limits: status 0, no motion, no event', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    for (const [axis, value] of [
      [1, 0.99],
      [1, 15.01],
      [2, 4.9],
      [3, 25.5],
      [4, 720.5],
      [4, -721],
      [5, 10],
      [0, 10],
      [1, Number.NaN],
    ] as const) {
      const r = await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: axis, value });
      expect(r.status, `axis ${axis} → ${value}`).toBe(STATUS_FAILED);
      expect(r.int32Data0).toBe(axis);
    }
    const ok = await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 4, value: -720 });
    expect(ok.status).toBe(STATUS_OK);
    await client.next(stopped(4));
    expect(client.received.filter((p) => p.code === Command.STAGE_MOTION_STOPPED)).toHaveLength(1);
  });

  it('sends STAGE_MOTION_STOPPED for a zero-length move, after the ack', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const x = sim.stagePosition(1);
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: x });
    const e = await client.next(stopped(1));
    expect([e.status, e.value]).toEqual([STATUS_OK, x]);
    expect(client.received.map((p) => p.code)).toEqual([Command.STAGE_POSITION_SET, Command.STAGE_MOTION_STOPPED]);
  });

  it('retargets a moving axis: one STAGE_MOTION_STOPPED, at the new target', async () => {
    const sim = makeSim({ timeScale: 10 });
    const { client } = memoryClient(sim);
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 2, value: 24 });
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 2, value: 15.05 });
    const e = await client.next(stopped(2));
    expect([e.status, e.value]).toEqual([STATUS_OK, 15.05]);
    // A later request's reply shows no second event is queued before it.
    await client.request({ code: Command.SYSTEM_STATE_GET });
    expect(client.received.filter((p) => p.code === Command.STAGE_MOTION_STOPPED)).toHaveLength(1);
  });

  it('HALT stops every moving axis with status 0 at an intermediate position', async () => {
    const sim = makeSim({ timeScale: 1 });
    const { client } = memoryClient(sim);
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 15 });
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 3, value: 24 });
    const halt = await client.request({ code: Command.STAGE_HALT });
    expect(halt.status).toBe(STATUS_OK);
    const ex = await client.next(stopped(1));
    const ez = await client.next(stopped(3));
    expect([ex.status, ez.status]).toEqual([STATUS_FAILED, STATUS_FAILED]);
    expect(ex.value).toBeGreaterThanOrEqual(7.5);
    expect(ex.value).toBeLessThan(15);
    expect(sim.stagePosition(1)).toBe(ex.value);
    expect(sim.snapshot().stage.map((a) => a.moving)).toEqual([false, false, false, false]);
  });

  it('HOME moves every axis to its home position', async () => {
    const sim = makeSim({ timeScale: 1000 });
    const { client } = memoryClient(sim);
    await client.request({ code: Command.STAGE_HOME });
    const events = await Promise.all([1, 2, 3, 4].map((a) => client.next(stopped(a))));
    expect(events.map((e) => e.value)).toEqual([1, 5, 8, 0]);
    expect(events.map((e) => e.status)).toEqual([1, 1, 1, 1]);
  });

  it('STAGE_VELOCITY_SET changes move duration and refuses out-of-range values', async () => {
    const sim = makeSim({ timeScale: 1 });
    const { client } = memoryClient(sim);
    expect((await client.request({ code: Command.STAGE_VELOCITY_SET, int32Data0: 3, value: 0 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.STAGE_VELOCITY_SET, int32Data0: 3, value: 11 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.STAGE_VELOCITY_SET, int32Data0: 9, value: 1 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.STAGE_VELOCITY_SET, int32Data0: 3, value: 10 })).status).toBe(STATUS_OK);
    expect(sim.snapshot().stage[2]?.velocity).toBe(10);
    // 0.05 mm at 10 mm/s = 5 ms of real time even with timeScale 1.
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 3, value: 16.55 });
    expect((await client.next(stopped(3))).value).toBe(16.55);
  });

  it('STAGE_WAIT_FOR_MOTION answers once no axis moves, holding back later commands', async () => {
    const sim = makeSim({ timeScale: 100 });
    const { client } = memoryClient(sim);
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 8.5 });
    client.send({ code: Command.STAGE_WAIT_FOR_MOTION, cmdDataBits0: 0x80000000 });
    client.send({ code: Command.SYSTEM_STATE_GET, cmdDataBits0: 0x80000000 });
    await client.next((p) => p.code === Command.SYSTEM_STATE_GET);
    expect(client.received.map((p) => p.code)).toEqual([
      Command.STAGE_POSITION_SET,
      Command.STAGE_MOTION_STOPPED,
      Command.STAGE_WAIT_FOR_MOTION,
      Command.SYSTEM_STATE_GET,
    ]);
  });

  it('STAGE_POSITION_GET with a bad axis fails and echoes the axis', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const r = await client.request({ code: Command.STAGE_POSITION_GET, int32Data0: 7 });
    expect([r.status, r.int32Data0, r.value]).toEqual([STATUS_FAILED, 7, 0]);
  });
});

describe('lasers, LED, filter, camera', () => {
  it('sets and reads laser levels as text, echoing the laser index', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 3, data: '11.49', cmdDataBits0: 0x80000000 });
    const get = await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 3 });
    expect([get.status, get.int32Data0, dataText(get)]).toEqual([STATUS_OK, 3, '11.49']);
    const other = await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 1 });
    expect(dataText(other)).toBe('5.00');
  });

  it('answers "getLevel error" with status 0 for a bad laser index', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    for (const index of [0, 5, -1]) {
      const r = await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: index });
      expect([r.status, r.int32Data0, dataText(r)]).toEqual([STATUS_FAILED, index, 'getLevel error']);
    }
  });

  it('refuses laser levels outside 0..100 or not numeric, keeping the old level', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    // LASER_LEVEL_SET is never answered: refusals show only in the level read back.
    for (const data of ['100.01', '-1', 'abc', '', '5.0.0']) client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 2, data, cmdDataBits0: 0x80000000 });
    client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 9, data: '5.00', cmdDataBits0: 0x80000000 });
    expect(dataText(await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 2 }))).toBe('5.00');
    client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 2, data: '100', cmdDataBits0: 0x80000000 });
    await client.request({ code: Command.SYSTEM_STATE_GET });
    expect(sim.snapshot().lasers.map((l) => l.level)).toEqual([5, 100, 5, 5]);
    expect(client.received.map((p) => p.code)).toEqual([Command.LASER_LEVEL_GET, Command.SYSTEM_STATE_GET]);
  });

  it('keeps LED level and state, refusing bad index or level', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    expect((await client.request({ code: Command.LED_SET, int32Data0: 1, int32Data1: 65535 })).status).toBe(STATUS_OK);
    expect((await client.request({ code: Command.LED_SET, int32Data0: 1, int32Data1: 65536 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.LED_SET, int32Data0: 4, int32Data1: 1 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.LED_ENABLE, int32Data0: 1 })).status).toBe(STATUS_OK);
    expect(sim.snapshot().leds[1]).toEqual({ index: 1, level: 65535, on: true });
    expect((await client.request({ code: Command.LED_DISABLE, int32Data0: 1 })).status).toBe(STATUS_OK);
    expect(sim.snapshot().leds[1]?.on).toBe(false);
  });

  it('sets and reads the filter wheel (positions 1..6)', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    expect((await client.request({ code: Command.FILTER_POSITION_SET, int32Data0: 4 })).status).toBe(STATUS_OK);
    expect((await client.request({ code: Command.FILTER_POSITION_SET, int32Data0: 7 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.FILTER_POSITION_SET, int32Data0: 0 })).status).toBe(STATUS_FAILED);
    const r = await client.request({ code: Command.FILTER_POSITION_GET });
    expect([r.status, r.int32Data0]).toEqual([STATUS_OK, 4]);
  });

  it('sets and reads the exposure in µs; reports image size and pixel size', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    expect((await client.request({ code: Command.CAMERA_EXPOSURE_GET })).int32Data0).toBe(10_000);
    expect((await client.request({ code: Command.CAMERA_EXPOSURE_SET, int32Data0: 9002 })).status).toBe(STATUS_OK);
    expect((await client.request({ code: Command.CAMERA_EXPOSURE_SET, int32Data0: 50 })).status).toBe(STATUS_FAILED);
    expect((await client.request({ code: Command.CAMERA_EXPOSURE_GET })).int32Data0).toBe(9002);
    const px = await client.request({ code: Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET });
    expect([px.status, px.value]).toEqual([STATUS_OK, 0.000406]);
  });

  it('emits liveView on CAMERA_LIVE_VIEW_START / STOP', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const states: boolean[] = [];
    sim.on('liveView', (on) => states.push(on));
    await client.request({ code: Command.CAMERA_LIVE_VIEW_START });
    await client.request({ code: Command.CAMERA_LIVE_VIEW_START });
    await client.request({ code: Command.CAMERA_LIVE_VIEW_STOP });
    expect(states).toEqual([true, false]);
    expect(sim.snapshot().liveView).toBe(false);
  });
});

describe('settings', () => {
  it('returns the settings text as the payload of the 0x1007 answer to SCOPE_SETTINGS_LOAD; 0x1007 as a request fails', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    // A bare-text-capable reader holds a 0x1007 with addDataBytes 0 until the next packet: the GET behind it.
    client.send({ code: Command.COMMON_SCOPE_SETTINGS, cmdDataBits0: 0x80000000 });
    await client.request({ code: Command.SYSTEM_STATE_GET });
    expect(client.received[0]?.status).toBe(STATUS_FAILED);
    client.send({ code: Command.COMMON_SCOPE_SETTINGS_LOAD });
    await client.request({ code: Command.CAMERA_IMAGE_SIZE_GET });
    const r = client.received.filter((p) => p.code === Command.COMMON_SCOPE_SETTINGS)[1] as Packet;
    expect(r.status).toBe(STATUS_OK);
    expect(r.addDataBytes).toBe(Buffer.byteLength(DEFAULT_SETTINGS_TEXT));
    expect(payloadText(r)).toBe(DEFAULT_SETTINGS_TEXT);
    // The stream stays aligned after the payload.
    expect((await client.request({ code: Command.SYSTEM_STATE_GET })).status).toBe(STATUS_OK);
  });

  it('COMMON_SCOPE_SETTINGS_SAVE replaces the settings and the stage limits; junk is refused', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const bad = await client.request({ code: Command.COMMON_SCOPE_SETTINGS_SAVE, payload: new TextEncoder().encode('hello') });
    expect(bad.status).toBe(STATUS_FAILED);
    const narrower = DEFAULT_SETTINGS_TEXT.replace('Soft limit max x-axis = 15.000', 'Soft limit max x-axis = 10.000');
    const good = await client.request({ code: Command.COMMON_SCOPE_SETTINGS_SAVE, payload: new TextEncoder().encode(narrower) });
    expect(good.status).toBe(STATUS_OK);
    expect(sim.settingsText).toBe(narrower);
    expect((await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 12 })).status).toBe(STATUS_FAILED);
  });
});

describe('workflow', () => {
  const text = (planes: number) =>
    new TextEncoder().encode(
      buildWorkflowText({
        numberOfPlanes: planes,
        lasers: [
          { index: 2, name: '488 nm MLE', power: 10.67, on: true },
          { index: 4, name: '640 nm MLE', power: 3, on: false },
        ],
      }),
    );

  it('runs as observed: no answer to START, LED/laser pushes, a stale idle, gauge values with expected, then idle, to every client', async () => {
    // 200 ms of real time (timeScale 1000): a 5 ms run could end before the SYSTEM_STATE_GET below was
    // handled on a loaded machine, and the state then read idle (seen in full runs on main).
    const sim = makeSim({ workflowDurationMs: 200_000 });
    const a = memoryClient(sim).client;
    const b = memoryClient(sim).client;
    a.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: text(5) });
    expect((await a.request({ code: Command.SYSTEM_STATE_GET })).int32Data0).toBe(0xa004);
    for (const c of [a, b] as WireClient[]) {
      await c.next((p) => p.code === Command.UI_SET_GAUGE_VALUE && p.int32Data0 === 5);
      await c.next((p) => p.code === Command.SYSTEM_STATE_IDLE && c.received.indexOf(p) > 3);
      const events = c.received.filter((p) => p.code !== Command.SYSTEM_STATE_GET);
      expect(events.map((p) => [p.code, p.int32Data0, p.int32Data1])).toEqual([
        [Command.LED_DISABLE, 0, 0],
        [Command.LASER_LEVEL_GET, 2, 0],
        [Command.SYSTEM_STATE_IDLE, 0, 0],
        [Command.UI_SET_GAUGE_SIZE, 5, 0],
        [Command.UI_SET_GAUGE_VALUE, 1, 5],
        [Command.UI_SET_GAUGE_VALUE, 2, 5],
        [Command.UI_SET_GAUGE_VALUE, 3, 5],
        [Command.UI_SET_GAUGE_VALUE, 4, 5],
        [Command.UI_SET_GAUGE_VALUE, 5, 5],
        [Command.UI_IMAGES_SAVED_TO_STORAGE, 5, 0],
        [Command.SYSTEM_STATE_IDLE, 0, 0],
      ]);
      expect(events.map(dataText)[1]).toBe('10.67');
      // Unsolicited: status 1 and all three sequence fields 0, so no client mistakes one for a reply.
      expect(events.map((p) => [p.status, p.hardwareId, p.subsystemId, p.clientId])).toEqual(events.map(() => [STATUS_OK, 0, 0, 0]));
    }
    expect((await a.request({ code: Command.SYSTEM_STATE_GET })).int32Data0).toBe(0xa002);
    expect(sim.snapshot().workflowsRun).toBe(1);
  });

  it('pushes CAMERA_STACK_COMPLETE only when asked (stackComplete), and no stale idle with staleIdlePush false', async () => {
    const sim = makeSim({ stackComplete: true, staleIdlePush: false });
    const { client } = memoryClient(sim);
    client.send({ code: Command.CAMERA_WORKFLOW_START, payload: text(3) });
    await client.next((p) => p.code === Command.SYSTEM_STATE_IDLE);
    const stack = client.received.find((p) => p.code === Command.CAMERA_STACK_COMPLETE);
    expect([stack?.int32Data0, stack?.int32Data1, stack?.int32Data2]).toEqual([3, 3, 0]);
    expect(client.received.filter((p) => p.code === Command.SYSTEM_STATE_IDLE)).toHaveLength(1);
  });

  it('starts nothing for a payload that is not a workflow text, or while busy; STOP ends a run early', async () => {
    const sim = makeSim({ workflowDurationMs: 1e7, stackComplete: true });
    const { client } = memoryClient(sim);
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: new TextEncoder().encode('<Nope>\n</Nope>\n') });
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000 });
    expect((await client.request({ code: Command.SYSTEM_STATE_GET })).int32Data0).toBe(0xa002);
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: text(100) });
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: text(100) });
    expect((await client.request({ code: Command.SYSTEM_STATE_GET })).int32Data0).toBe(0xa004);
    // STOP ends it early: the counts say how far it got.
    expect((await client.request({ code: Command.CAMERA_WORKFLOW_STOP })).status).toBe(STATUS_OK);
    await client.next((p) => p.code === Command.CAMERA_STACK_COMPLETE);
    const stack = client.received.find((p) => p.code === Command.CAMERA_STACK_COMPLETE);
    expect(stack?.int32Data1).toBe(100);
    expect(stack?.int32Data0).toBeLessThan(100);
    expect(client.received.filter((p) => p.code === Command.UI_SET_GAUGE_SIZE)).toHaveLength(1);
    expect(client.received.some((p) => p.code === Command.CAMERA_WORKFLOW_START)).toBe(false);
  });

  it('starts without the callback flag too, and still runs', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    client.send({ code: Command.CAMERA_WORKFLOW_START, payload: text(3) });
    await client.next((p) => p.code === Command.UI_SET_GAUGE_VALUE && p.int32Data0 === 3);
    expect(client.received.some((p) => p.code === Command.CAMERA_WORKFLOW_START)).toBe(false);
    expect(client.received.filter((p) => p.code === Command.UI_SET_GAUGE_VALUE).map((p) => p.int32Data0)).toEqual([1, 2, 3]);
  });
});

describe('records, connections, TCP', () => {
  it('records every received packet exactly once with fields and payload hash', async () => {
    const sim = makeSim();
    const { client, id } = memoryClient(sim);
    const payload = new TextEncoder().encode(buildWorkflowText({ numberOfPlanes: 2 }));
    client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 1, data: '7.25', clientId: 11 });
    client.send({ code: Command.CAMERA_WORKFLOW_START, payload, clientId: 12 });
    await client.request({ code: Command.SYSTEM_STATE_GET, clientId: 13 });
    const records = sim.recordsFor(id);
    expect(records.map((r) => [r.index, r.name, r.clientId])).toEqual([
      [0, 'LASER_LEVEL_SET', 11],
      [1, 'CAMERA_WORKFLOW_START', 12],
      [2, 'SYSTEM_STATE_GET', 13],
    ]);
    expect(records[0]?.data).toBe('7.25');
    expect(records[0]?.payloadHash).toBeNull();
    const { createHash } = await import('node:crypto');
    expect(records[1]?.payloadHash).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(records[1]?.addDataBytes).toBe(payload.length);
    expect(records[2]?.cmdDataBits0).toBe(0x80000000);
    expect(sim.records).toEqual(records);
  });

  it('keeps at most maxRecords records, dropping the oldest', async () => {
    const sim = makeSim({ maxRecords: 3 });
    const { client, id } = memoryClient(sim);
    for (let i = 1; i <= 4; i++) client.send({ code: Command.SYSTEM_STATE_GET, clientId: i });
    await client.request({ code: Command.SYSTEM_STATE_GET, clientId: 5 });
    expect(sim.records.map((r) => r.clientId)).toEqual([3, 4, 5]);
    expect(sim.recordsFor(id).map((r) => r.index)).toEqual([2, 3, 4]);
    expect(sim.droppedRecords).toBe(2);
  });

  it('serves TCP clients on 127.0.0.1 with a free port, sharing state between them', async () => {
    const sim = makeSim();
    const address = await sim.listen({ port: 0 });
    expect(address.host).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    const connected = once(sim, 'connection');
    const a = await tcpClient(address.port);
    const b = await tcpClient(address.port);
    await connected;
    a.client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 4, data: '42.00', cmdDataBits0: 0x80000000 });
    await a.client.request({ code: Command.SYSTEM_STATE_GET });
    const r = await b.client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 4 });
    expect(dataText(r)).toBe('42.00');
    expect(sim.connections).toBe(2);
    const gone = once(sim, 'disconnect');
    a.socket.destroy();
    await gone;
    expect(sim.connections).toBe(1);
    await sim.close();
    await b.client.whenClosed();
    expect(sim.connections).toBe(0);
  });

  it('emits one command event per command with its reply', async () => {
    const sim = makeSim();
    const { client, id } = memoryClient(sim);
    const seen: [number, string, number | undefined][] = [];
    sim.on('command', (c) => seen.push([c.connectionId, c.name, c.reply?.status]));
    client.send({ code: Command.STAGE_POSITION_GET, int32Data0: 1 });
    await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 9 });
    expect(seen).toEqual([
      [id, 'STAGE_POSITION_GET', undefined],
      [id, 'LASER_LEVEL_GET', 0],
    ]);
  });

  it('a listener that throws does not stop the simulator', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    const errors: unknown[] = [];
    sim.on('error', (e) => errors.push(e));
    sim.on('command', () => {
      throw new Error('listener bug');
    });
    await client.request({ code: Command.SYSTEM_STATE_GET });
    expect((await client.request({ code: Command.SYSTEM_STATE_GET })).status).toBe(STATUS_OK);
    // One error per handled command, re-emitted in a microtask: both are out before the second reply arrives.
    expect(errors.map((e) => (e as Error).message)).toEqual(['listener bug', 'listener bug']);
  });
});
