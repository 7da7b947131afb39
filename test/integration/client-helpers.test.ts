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

  it('lasers: setLevel sends "5.00"-style text; level parses; "getLevel error" is a ProtocolError', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code === Command.LASER_LEVEL_GET) {
        c.write(c.reply(p, p.int32Data0 === 4 ? { status: 0, data: 'getLevel error' } : { data: '11.49' }));
      } else server.autoReply(p, c);
    };
    await client.lasers.setLevel(2, 5);
    const set = server.received.find((p) => p.code === Command.LASER_LEVEL_SET) as Packet;
    expect(set.int32Data0).toBe(2);
    expect(dataText(set)).toBe('5.00');
    await client.lasers.setLevel(1, 12.345);
    expect(dataText(server.received.filter((p) => p.code === Command.LASER_LEVEL_SET)[1] as Packet)).toBe('12.35');
    expect(await client.lasers.level(1)).toBe(11.49);
    const failed = await outcome(client.lasers.level(4));
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error).toBeInstanceOf(ProtocolError);
      expect(failed.error.message).toBe('laser 4 level unavailable: getLevel error');
    }
  });

  it('system.state maps 0/1/2 and rejects anything else', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    let next = 0;
    server.handler = (p, c) => server.autoReply(p, c, p.code === Command.SYSTEM_STATE_GET ? { int32Data0: next++ } : {});
    next = 0;
    expect(await client.system.state()).toBe('idle');
    expect(await client.system.state()).toBe('busy');
    expect(await client.system.state()).toBe('error');
    const unknown = await outcome(client.system.state());
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.message).toBe('unknown system state 3');
  });

  it('settings() returns the text of the reply payload, however it is split', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const text = '<Stage limits>\r\n  X max (mm) = 15.0\r\n</Stage limits>\r\n'.repeat(40);
    server.handler = (p, c) => server.autoReply(p, c, p.code === Command.COMMON_SCOPE_SETTINGS ? { payload: utf8.encode(text) } : {});
    expect(await client.settings()).toBe(text);
  });

  it('workflow.start uploads the text without the callback flag, reports progress, resolves with the stack counts', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    const workflow = '<Workflow Settings>\n  <Experiment Settings>\n  </Experiment Settings>\n</Workflow Settings>\n';
    server.handler = (p, c) => {
      if (p.code === Command.CAMERA_WORKFLOW_START) {
        c.write(
          encodePacket({ code: Command.UI_SET_GAUGE_SIZE, int32Data0: 3 }),
          encodePacket({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: 1 }),
          encodePacket({ code: Command.LASER_LEVEL_GET, status: 1, int32Data0: 2, data: '10.67' }),
          encodePacket({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: 3 }),
          encodePacket({ code: Command.LED_DISABLE }),
          encodePacket({ code: Command.CAMERA_STACK_COMPLETE, status: 1, int32Data0: 3, int32Data1: 3, int32Data2: 0, value: 1500 }),
          encodePacket({ code: Command.UI_IMAGES_SAVED_TO_STORAGE, int32Data0: 3 }),
          encodePacket({ code: Command.SYSTEM_STATE_IDLE, status: 1 }),
        );
      } else server.autoReply(p, c);
    };
    const progress: string[] = [];
    const result = await client.workflow.start(workflow, { onProgress: (p) => progress.push(`${p.value}/${p.max}`) });
    expect(result).toEqual({ acquired: 3, expected: 3, errors: 0, durationUs: 1500, stacks: 1 });
    expect(progress).toEqual(['0/3', '1/3', '3/3']);
    const start = server.received.find((p) => p.code === Command.CAMERA_WORKFLOW_START) as Packet;
    expect(start.cmdDataBits0).toBe(0);
    expect(new TextDecoder().decode(start.payload)).toBe(workflow);
  });

  it('workflow.start rejects when there is no sign of the workflow within the start timeout', async () => {
    harness = await connectFake(kind, mode);
    const { client, server } = harness;
    server.handler = (p, c) => {
      if (p.code !== Command.CAMERA_WORKFLOW_START) server.autoReply(p, c); // idle, no events
    };
    const result = await outcome(client.workflow.start('<Workflow Settings>\n</Workflow Settings>\n', { startTimeoutMs: 50 }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(TimeoutError);
      expect(result.error.message).toBe('CAMERA_WORKFLOW_START (no sign of the workflow) got no reply within 50 ms');
    }
    expect(client.listenerCount('event')).toBe(0);
  });
});
