import { describe, expect, it } from 'vitest';
import { buildWorkflowText, Command, dataText, DEFAULT_SETTINGS_TEXT, payloadText, STATUS_OK } from 'flamingo-protocol';
import { memoryClient, simulatorsClosedAfterEach } from '../support/sim-harness.js';

const makeSim = simulatorsClosedAfterEach();

const stopped = (axis: number) => (p: { code: number; int32Data0: number }) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === axis;

// The behaviour profile of spec/commands.json, rule by rule, against the simulator's defaults.
describe('simulator follows the behaviour profile', () => {
  it('answers the `always` commands without the flag: SYSTEM_STATE_GET (idle = 0xA002), WORKFLOW_STOP, PIXEL_FIELD_OF_VIEW_GET', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    for (const code of [Command.SYSTEM_STATE_GET, Command.CAMERA_WORKFLOW_STOP, Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET]) client.send({ code });
    await client.next((p) => p.code === Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET);
    expect(client.received.map((p) => [p.code, p.status])).toEqual([
      [Command.SYSTEM_STATE_GET, STATUS_OK],
      [Command.CAMERA_WORKFLOW_STOP, STATUS_OK],
      [Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, STATUS_OK],
    ]);
    expect(client.received[0]?.int32Data0).toBe(0xa002);
  });

  it('never answers LASER_LEVEL_SET, LASER_PREVIEW_ENABLE or WORKFLOW_START, even with the flag; the level reads back', async () => {
    const sim = makeSim();
    const { client } = memoryClient(sim);
    client.send({ code: Command.LASER_LEVEL_SET, int32Data0: 2, data: '12.50', cmdDataBits0: 0x80000000 });
    client.send({ code: Command.LASER_PREVIEW_ENABLE, int32Data0: 2, cmdDataBits0: 0x80000000 });
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: new TextEncoder().encode('not a workflow') });
    const level = await client.request({ code: Command.LASER_LEVEL_GET, int32Data0: 2 });
    expect(dataText(level)).toBe('12.50');
    expect(client.received.map((p) => p.code)).toEqual([Command.LASER_LEVEL_GET]);
    expect(sim.snapshot().lasers[1]?.previewOn).toBe(true);
  });

  it('answers SCOPE_SETTINGS_LOAD with a 0x1007 packet: text counted in addDataBytes, or bare after it by option', async () => {
    for (const framing of ['counted', 'bare'] as const) {
      const sim = makeSim({ settingsFraming: framing });
      const { client } = memoryClient(sim);
      client.send({ code: Command.COMMON_SCOPE_SETTINGS_LOAD });
      // The GET behind it ends a bare text (its start marker) for the test's deframer.
      await client.request({ code: Command.CAMERA_IMAGE_SIZE_GET });
      const answer = client.received.find((p) => p.code === Command.COMMON_SCOPE_SETTINGS);
      if (answer === undefined) throw new Error(`no COMMON_SCOPE_SETTINGS answer (${framing})`);
      expect(answer.addDataBytes).toBe(framing === 'counted' ? new TextEncoder().encode(DEFAULT_SETTINGS_TEXT).length : 0);
      expect(payloadText(answer)).toBe(DEFAULT_SETTINGS_TEXT);
    }
  });

  it('reads 0.000 for a moving axis and does not answer STAGE_POSITION_GET while a workflow runs', async () => {
    const sim = makeSim({ timeScale: 10, workflowDurationMs: 2000 });
    const { client } = memoryClient(sim);
    await client.request({ code: Command.STAGE_POSITION_SET, int32Data0: 2, value: 20 });
    const moving = await client.request({ code: Command.STAGE_POSITION_GET, int32Data0: 2 });
    expect(moving.value).toBe(0);
    await client.next(stopped(2));
    client.send({ code: Command.CAMERA_WORKFLOW_START, cmdDataBits0: 0x80000000, payload: new TextEncoder().encode(buildWorkflowText({ numberOfPlanes: 5 })) });
    client.send({ code: Command.STAGE_POSITION_GET, int32Data0: 2, cmdDataBits0: 0x80000000 });
    const state = await client.request({ code: Command.SYSTEM_STATE_GET });
    expect(state.int32Data0).not.toBe(0xa002);
    expect(client.received.filter((p) => p.code === Command.STAGE_POSITION_GET)).toHaveLength(1);
  });
});
