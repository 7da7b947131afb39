import { describe, expect, it } from 'vitest';
import { COMMANDS, Command, commandProfile, commandSpec, Deframer, encodePacket, replyCodeOf, replyRule, requestCodeForReply } from 'flamingo-protocol';

describe('the behaviour profile (spec/commands.json)', () => {
  it('reply rules follow the evidence', () => {
    const rules = Object.fromEntries(COMMANDS.map((c) => [c.name, c.reply]));
    expect(rules).toMatchObject({
      LASER_LEVEL_SET: 'never',
      LASER_PREVIEW_ENABLE: 'never',
      LASER_ALL_DISABLE: 'never',
      CAMERA_WORKFLOW_START: 'never',
      SYSTEM_STATE_GET: 'always',
      CAMERA_WORKFLOW_STOP: 'always',
      CAMERA_PIXEL_FIELD_OF_VIEW_GET: 'always',
      COMMON_SCOPE_SETTINGS_LOAD: 'always',
      STAGE_POSITION_GET: 'on-flag',
      CAMERA_IMAGE_SIZE_GET: 'on-flag',
      LASER_LEVEL_GET: 'on-flag',
      STAGE_HALT: 'unknown',
      COMMON_SCOPE_SETTINGS_SAVE: 'unknown',
    });
    expect(replyRule(0x7777)).toBe('unknown');
    expect(COMMANDS.filter((c) => c.reply === 'never').map((c) => c.name)).toEqual([
      'LASER_LEVEL_SET',
      'LASER_PREVIEW_ENABLE',
      'LASER_ALL_DISABLE',
      'CAMERA_WORKFLOW_START',
    ]);
  });

  it('0x1009 is answered by 0x1007; other codes by themselves', () => {
    expect(replyCodeOf(Command.COMMON_SCOPE_SETTINGS_LOAD)).toBe(Command.COMMON_SCOPE_SETTINGS);
    expect(requestCodeForReply(Command.COMMON_SCOPE_SETTINGS)).toBe(Command.COMMON_SCOPE_SETTINGS_LOAD);
    expect(replyCodeOf(Command.STAGE_POSITION_GET)).toBe(Command.STAGE_POSITION_GET);
    expect(COMMANDS.filter((c) => c.replyCode !== undefined).map((c) => c.name)).toEqual(['COMMON_SCOPE_SETTINGS_LOAD']);
  });

  it('duringRun, whileMoving, conflicting names, code drift and evidence grades', () => {
    expect(commandProfile(Command.STAGE_POSITION_GET)).toMatchObject({ duringRun: 'no-reply', whileMoving: expect.stringMatching(/^reads 0\.000/) });
    expect(commandProfile(Command.SYSTEM_STATE_GET).duringRun).toBe('answers');
    // WORKFLOW_STOP was only seen answered with nothing running (spec/protocol.md §5.4).
    expect(commandProfile(Command.CAMERA_WORKFLOW_STOP).duringRun).toBe('unknown');
    expect(COMMANDS.filter((c) => c.aliases !== undefined).map((c) => [`0x${c.code.toString(16).toUpperCase()}`, c.aliases?.map((a) => a.name)])).toEqual([
      ['0x2005', ['LASER_PREVIEW_DISABLE', 'LASER_ENABLE_LINE']],
      ['0x3011', ['CAMERA_ROI_TOP_SET', 'CAMERA_STACK_COMPLETE']],
      ['0x6006', ['STAGE_VELOCITY_SET', 'STAGE_POSITION_SET_TEXT']],
    ]);
    expect(COMMANDS.filter((c) => c.drift !== undefined).map((c) => `0x${c.code.toString(16).toUpperCase()}`)).toEqual([
      '0x3027',
      '0x302B',
      '0x3036',
      '0x3037',
    ]);
    for (const c of COMMANDS) {
      expect(c.evidence.length, c.name).toBeGreaterThan(0);
      for (const e of c.evidence) expect(['LOG', 'RIG', 'SRC', 'CODE', 'CHOICE']).toContain(e.grade);
    }
    expect(commandSpec(Command.SYSTEM_STATE_GET)?.evidence[0]?.grade).toBe('RIG');
    expect(COMMANDS.filter((c) => c.pushed !== undefined && !c.pushed.startsWith('never itself')).map((c) => c.name)).toEqual([
      'LASER_LEVEL_GET',
      'CAMERA_STACK_COMPLETE',
      'LED_DISABLE',
      'STAGE_MOTION_STOPPED',
      'UI_SET_GAUGE_SIZE',
      'UI_SET_GAUGE_VALUE',
      'UI_IMAGES_SAVED_TO_STORAGE',
      'SYSTEM_STATE_IDLE',
    ]);
  });
});

describe('Deframer: bare text after a 0x1007 packet', () => {
  const head = encodePacket({ code: 0x1007, status: 1 });
  const text = new TextEncoder().encode('<Type>\r\n  Microscope name = Tai\r\n</Type>\r\n');
  const next = encodePacket({ code: 0xa007, status: 1, int32Data0: 0xa002 });
  const stream = new Uint8Array([...head, ...text, ...next]);

  it('collects the text up to the next start marker, whole, byte by byte and split at every boundary', () => {
    const cuts: number[][] = [[stream.length], Array.from({ length: stream.length }, () => 1)];
    for (let i = 1; i < stream.length; i++) cuts.push([i, stream.length - i]);
    for (const sizes of cuts) {
      const d = new Deframer({ bareTextCodes: new Set([0x1007]) });
      const out = [];
      let at = 0;
      for (const n of sizes) {
        out.push(...d.push(stream.subarray(at, at + n)));
        at += n;
      }
      expect(out.map((p) => p.code)).toEqual([0x1007, 0xa007]);
      expect(new TextDecoder().decode(out[0]?.payload)).toBe(new TextDecoder().decode(text));
      expect([d.skippedBytes, d.resyncs, d.bufferedBytes, d.holdsBareText]).toEqual([0, 0, 0, false]);
    }
  });

  it('hands the packet out on flush when the stream goes quiet (a text ending in "T", a marker prefix, included)', () => {
    const d = new Deframer({ bareTextCodes: new Set([0x1007]) });
    const body = new TextEncoder().encode('<A>\n  k = v\n</A>\nT');
    expect(d.push(new Uint8Array([...head, ...body]))).toEqual([]);
    expect(d.holdsBareText).toBe(true);
    const [p] = d.flushBareText();
    expect(new TextDecoder().decode(p?.payload)).toBe('<A>\n  k = v\n</A>\nT');
    expect([d.bufferedBytes, d.skippedBytes, d.flushBareText().length]).toEqual([0, 0, 0]);
  });

  it('a counted 0x1007 payload is taken as such; other codes still skip garbage; the text is bounded', () => {
    const counted = new Deframer({ bareTextCodes: new Set([0x1007]) });
    const [c] = counted.push(encodePacket({ code: 0x1007, status: 1, payload: text }));
    expect(c?.payload?.length).toBe(text.length);
    const other = new Deframer({ bareTextCodes: new Set([0x1007]) });
    expect(other.push(new Uint8Array([...encodePacket({ code: 0xa007 }), ...text, ...next])).length).toBe(2);
    expect(other.skippedBytes).toBe(text.length);
    const small = new Deframer({ bareTextCodes: new Set([0x1007]), maxBareTextBytes: 10 });
    const out = small.push(stream);
    expect(out.map((p) => [p.code, p.payload?.length])).toEqual([
      [0x1007, 10],
      [0xa007, undefined],
    ]);
    expect(small.skippedBytes).toBe(text.length - 10);
  });
});
