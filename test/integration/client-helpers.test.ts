import { afterEach, describe, expect, it } from 'vitest';
import { Command, ProtocolError, TimeoutError, dataText, encodePacket, type Packet } from 'flamingo-protocol';
import { MATRIX, connectFake, outcome, type Harness } from '../support/client-harness.js';

let harness: Harness | null = null;
afterEach(async () => {
  await harness?.cleanup();
  harness = null;
});

const utf8 = new TextEncoder();

describe.each(MATRIX)('domain helpers over %s, %s mode', (kind, mode) => {
  it('fast move: motion-stopped in the same chunk as the ack still resolves moveTo', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code === Command.STAGE_POSITION_SET) {
        c.write(
          c.reply(p),
          encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 2, value: 9 }),
          encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: p.int32Data0, value: p.value }),
        );
      } else server.autoReply(p, c);
    };
    const moved = await client.stage.moveTo(1, 7.25);
    expect(moved).toEqual({ axis: 1, position: 7.25, reached: true });
    const sent = server.received[1] as Packet;
    expect(sent.code).toBe(Command.STAGE_POSITION_SET);
    expect(sent.int32Data0).toBe(1);
    expect(sent.value).toBe(7.25);
  });

  it('moveTo rejects a refused move and a move that stopped short; reads the position when the event leaves it at 0', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code === Command.STAGE_POSITION_SET && p.value > 100) c.write(c.reply(p, { status: 0 }));
      else if (p.code === Command.STAGE_POSITION_SET && p.value === 50) {
        c.write(c.reply(p), encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 0, int32Data0: p.int32Data0, value: 20 }));
      } else if (p.code === Command.STAGE_POSITION_SET) {
        c.write(c.reply(p), encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: p.int32Data0, value: 0 }));
      } else if (p.code === Command.STAGE_POSITION_GET) c.write(c.reply(p, { value: 3.5 }));
      else server.autoReply(p, c);
    };
    const refused = await outcome(client.stage.moveTo(3, 200));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error).toBeInstanceOf(ProtocolError);
      expect(refused.error.message).toBe('move of axis 3 to 200 refused (status 0)');
    }
    const short = await outcome(client.stage.moveTo(4, 50));
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.error.message).toBe('axis 4 stopped at 20 before reaching 50');
    expect(await client.stage.moveTo(2, 3.5)).toEqual({ axis: 2, position: 3.5, reached: true });
    expect(client.pendingCount).toBe(0);
  });

  it('stage.position, stage.halt', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => server.autoReply(p, c, p.code === Command.STAGE_POSITION_GET ? { value: p.int32Data0 * 1.5 } : {});
    expect(await Promise.all([1, 2, 3, 4].map((a) => client.stage.position(a)))).toEqual([1.5, 3, 4.5, 6]);
    await client.stage.halt();
    expect(server.received[server.received.length - 1]?.code).toBe(Command.STAGE_HALT);
  });

  it('lasers: setLevel writes "5.00"-style text with the flag, does not wait, resolves with the level read back', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const levels = new Map<number, string>();
    server.handler = (p, c) => {
      // As the instrument: LASER_LEVEL_SET is never answered; the level reads back quantised.
      if (p.code === Command.LASER_LEVEL_SET) levels.set(p.int32Data0, (Number(dataText(p)) + 0.49).toFixed(2));
      else if (p.code === Command.LASER_LEVEL_GET) {
        c.write(c.reply(p, p.int32Data0 === 4 ? { status: 0, data: 'getLevel error' } : { data: levels.get(p.int32Data0) ?? '11.49' }));
      } else server.autoReply(p, c);
    };
    expect(await client.lasers.setLevel(2, 5)).toBe(5.49);
    const set = server.received.find((p) => p.code === Command.LASER_LEVEL_SET) as Packet;
    expect([set.int32Data0, dataText(set), set.cmdDataBits0 >>> 0]).toEqual([2, '5.00', 0x80000000]);
    expect(await client.lasers.setLevel(1, 12.345)).toBe(12.84);
    expect(dataText(server.received.filter((p) => p.code === Command.LASER_LEVEL_SET)[1] as Packet)).toBe('12.35');
    const far = await outcome(client.lasers.setLevel(1, 20, { tolerance: 0.1 }));
    expect(far.ok).toBe(false);
    if (!far.ok) expect(far.error.message).toBe('laser 1 reads 20.49 % after being set to 20 % (tolerance 0.1)');
    levels.clear();
    expect(await client.lasers.level(1)).toBe(11.49);
    const failed = await outcome(client.lasers.level(4));
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error).toBeInstanceOf(ProtocolError);
      expect(failed.error.message).toBe('laser 4 level unavailable: getLevel error');
    }
    // Never answered: request() refuses it, nothing is written.
    const before = server.received.length;
    const refused = await outcome(client.request(Command.LASER_LEVEL_SET, { int32Data0: 1, data: '1.00' }));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toBe('LASER_LEVEL_SET is never answered by the instrument (spec/commands.json reply "never"); use send()');
    expect(server.received.length).toBe(before);
  });

  it('system.state reads 0xA002 (and 0) as idle, any other state code as busy, keeping the code', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const codes = [0xa002, 0, 0xa004, 40];
    let next = 0;
    server.handler = (p, c) => server.autoReply(p, c, p.code === Command.SYSTEM_STATE_GET ? { int32Data0: codes[next++] ?? 0 } : {});
    expect(await client.system.state()).toBe('idle');
    expect(await client.system.state()).toBe('idle');
    expect(await client.system.reading()).toEqual({ state: 'busy', code: 0xa004, name: undefined });
    expect(await client.system.reading()).toEqual({ state: 'busy', code: 40, name: undefined });
  });

  it('settings() sends COMMON_SCOPE_SETTINGS_LOAD and takes the 0x1007 answer with the text counted in addDataBytes', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const text = '<Stage limits>\r\n  Home x-axis = 7.5\r\n</Stage limits>\r\n'.repeat(40);
    server.handler = (p, c) =>
      p.code === Command.COMMON_SCOPE_SETTINGS_LOAD
        ? c.write(c.reply(p, { code: Command.COMMON_SCOPE_SETTINGS, payload: utf8.encode(text) }))
        : server.autoReply(p, c);
    expect(await client.settings()).toBe(text);
    expect(server.received.map((p) => p.code)).toContain(Command.COMMON_SCOPE_SETTINGS_LOAD);
  });

  it('settings() takes the bare text after a 0x1007 packet with addDataBytes 0 (ended by the next packet, or by silence)', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const text = '<Type>\n  Microscope name = T\n</Type>\n'.repeat(30);
    let followWithState = true;
    server.handler = (p, c) => {
      if (p.code !== Command.COMMON_SCOPE_SETTINGS_LOAD) return server.autoReply(p, c);
      const head = c.reply(p, { code: Command.COMMON_SCOPE_SETTINGS });
      const body = utf8.encode(text);
      // Bare text, written in two pieces; then (first time) a pushed packet whose start marker ends it.
      c.write(head, body.subarray(0, 100), body.subarray(100));
      if (followWithState) c.write(encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }));
    };
    const idle = client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 2000 });
    expect(await client.settings()).toBe(text);
    await idle;
    followWithState = false;
    expect(await client.settings()).toBe(text);
  });

  it('saveSettings sends 0x1008 with the file as payload (no flag) and resolves with the settings read back', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    let stored = '<Type>\n</Type>\n';
    server.handler = (p, c) => {
      if (p.code === Command.COMMON_SCOPE_SETTINGS_SAVE && p.payload !== undefined) stored = new TextDecoder().decode(p.payload);
      else if (p.code === Command.COMMON_SCOPE_SETTINGS_LOAD) c.write(c.reply(p, { code: Command.COMMON_SCOPE_SETTINGS, payload: utf8.encode(stored) }));
      else server.autoReply(p, c);
    };
    const text = '<Stage limits>\r\n  Home x-axis = 8.0\r\n</Stage limits>\r\n';
    expect(await client.saveSettings(text, { expectSame: true })).toBe(text);
    const save = server.received.find((p) => p.code === Command.COMMON_SCOPE_SETTINGS_SAVE) as Packet;
    expect([save.cmdDataBits0, save.addDataBytes]).toEqual([0, utf8.encode(text).length]);
  });

  it('workflow.start: vendor-GUI framing, no reply awaited, stale idle ignored, counts from the last gauge value', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const workflow = '<Workflow Settings>\r\n  <Experiment Settings>\r\n  </Experiment Settings>\r\n</Workflow Settings>\r\n';
    server.handler = (p, c) => {
      if (p.code === Command.CAMERA_WORKFLOW_START) {
        c.write(
          encodePacket({ code: Command.LED_DISABLE, status: 1 }),
          encodePacket({ code: Command.LASER_LEVEL_GET, status: 1, int32Data0: 2, data: '10.67' }),
          encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }),
          encodePacket({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: 1, int32Data1: 3 }),
          encodePacket({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: 3, int32Data1: 3 }),
          encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }),
        );
      } else server.autoReply(p, c, p.code === Command.SYSTEM_STATE_GET ? { int32Data0: 0xa002 } : {});
    };
    const progress: string[] = [];
    const result = await client.workflow.start(workflow, { pollIntervalMs: 1000, onProgress: (p) => progress.push(`${p.value}/${p.max}`) });
    expect(result).toMatchObject({ acquired: 3, expected: 3, errors: 0, stacks: 0, countsFrom: 'gauge', stopped: false });
    expect(progress).toEqual(['1/3', '3/3']);
    const start = server.received.find((p) => p.code === Command.CAMERA_WORKFLOW_START) as Packet;
    expect(start.cmdDataBits0 >>> 0).toBe(0x80000000);
    expect(start.addDataBytes).toBe(utf8.encode(workflow).length);
    expect(start.data.every((b) => b === 0)).toBe(true);
    expect(new TextDecoder().decode(start.payload)).toBe(workflow);
  });

  it('workflow.start rejects with a clear error when the run never starts (idle polls, no gauge)', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code === Command.CAMERA_WORKFLOW_START) c.write(encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }));
      else server.autoReply(p, c, p.code === Command.SYSTEM_STATE_GET ? { int32Data0: 0xa002 } : {});
    };
    const result = await outcome(client.workflow.start('<Workflow Settings>\n</Workflow Settings>\n', { startTimeoutMs: 50, pollIntervalMs: 10 }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(TimeoutError);
      expect(result.error.message).toBe(
        'CAMERA_WORKFLOW_START: the workflow did not start within 50 ms (no gauge value, SYSTEM_STATE_GET still idle); the instrument refuses a workflow it cannot run without saying so (e.g. a tile outside the stage hard limits)',
      );
    }
    expect(client.listenerCount('event')).toBe(0);
  });

  it('workflow.start: a busy poll starts the run, an idle poll ends it; position reads fail fast meanwhile, or wait', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const states = [0xa004, 0xa004, 0xa002];
    server.handler = (p, c) => {
      if (p.code === Command.CAMERA_WORKFLOW_START) return;
      server.autoReply(p, c, p.code === Command.SYSTEM_STATE_GET ? { int32Data0: states.shift() ?? 0xa002 } : { value: 2.5 });
    };
    const run = client.workflow.start('<Workflow Settings>\n</Workflow Settings>\n', { pollIntervalMs: 5, startTimeoutMs: 2000 });
    const fast = await outcome(client.stage.position(1));
    expect(fast.ok).toBe(false);
    if (!fast.ok) expect(fast.error).toMatchObject({ code: 'BUSY', command: 'STAGE_POSITION_GET' });
    const waited = client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }, { duringRun: 'wait' });
    expect(await run).toMatchObject({ acquired: 0, expected: 0, countsFrom: 'none' });
    expect((await waited).value).toBe(2.5);
  });
});
