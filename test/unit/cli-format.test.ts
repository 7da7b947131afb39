import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Command, decodePacket, encodePacket, Flags } from 'flamingo-protocol';
import { closeMatches, editDistance, flagNames, formatMs, formatPacket, packetJson, packetLine, payloadPreview, textTable } from '../../src/format/format.js';
import { COMMAND_NAMES, commandFromArgument, UsageError } from '../../src/cli/options.js';

describe('editDistance', () => {
  it('counts single-character edits', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('', 'ab')).toBe(2);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('STAGE_POSTION_GET', 'STAGE_POSITION_GET')).toBe(1);
  });

  it('is a metric: symmetric, zero only for equal strings, triangle inequality', () => {
    const s = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(s, s, s, (a, b, c) => {
        const ab = editDistance(a, b);
        expect(ab).toBe(editDistance(b, a));
        expect(ab === 0).toBe(a === b);
        expect(editDistance(a, c)).toBeLessThanOrEqual(ab + editDistance(b, c));
        expect(ab).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('closeMatches and commandFromArgument', () => {
  it('suggests the nearest command names, best first', () => {
    expect(closeMatches('STAGE_POSTION_GET', COMMAND_NAMES)).toEqual(['STAGE_POSITION_GET', 'STAGE_POSITION_SET']);
    expect(closeMatches('stage-motion-stoped', COMMAND_NAMES)).toEqual(['STAGE_MOTION_STOPPED']);
    expect(closeMatches('GAUGE', COMMAND_NAMES)).toEqual(['UI_SET_GAUGE_SIZE', 'UI_SET_GAUGE_VALUE']);
    expect(closeMatches('xyzzy', COMMAND_NAMES)).toEqual([]);
    expect(closeMatches('', COMMAND_NAMES)).toEqual([]);
  });

  it('parses names in any case, with - for _, and decimal or hex codes', () => {
    expect(commandFromArgument('stage-position-get')).toBe(Command.STAGE_POSITION_GET);
    expect(commandFromArgument('System_State_Get')).toBe(Command.SYSTEM_STATE_GET);
    expect(commandFromArgument('0xa007')).toBe(0xa007);
    expect(commandFromArgument('24584')).toBe(0x6008);
  });

  it('throws a UsageError listing close matches for an unknown name', () => {
    expect(() => commandFromArgument('LASER_LEVL_GET')).toThrow(
      new UsageError('unknown command "LASER_LEVL_GET". Did you mean LASER_LEVEL_GET, LASER_LEVEL_SET?'),
    );
    expect(() => commandFromArgument('frobnicate')).toThrow(
      new UsageError('unknown command "frobnicate". Give a command name (e.g. SYSTEM_STATE_GET) or a code (e.g. 0xA007).'),
    );
  });
});

describe('packet formatting', () => {
  const event = decodePacket(encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: 2, value: 15.25 }));

  it('names flag bits, unknown bits in hex', () => {
    expect(flagNames(Flags.TRIGGER_CALL_BACK | Flags.SAVE_TO_DISK)).toBe('TRIGGER_CALL_BACK|SAVE_TO_DISK');
    expect(flagNames(0x100)).toBe('0x00000100');
    expect(flagNames(0)).toBe('');
  });

  it('one line with labels from the command table', () => {
    expect(packetLine(event)).toBe('STAGE_MOTION_STOPPED status=1 int32Data0=2 value=15.25');
    expect(packetLine(event, { labels: true })).toBe('STAGE_MOTION_STOPPED status=1 int32Data0=2 [axis] value=15.25 [final position]');
    const request = decodePacket(encodePacket({ code: Command.LASER_LEVEL_SET, int32Data0: 3, data: '5.00', cmdDataBits0: Flags.TRIGGER_CALL_BACK }));
    expect(packetLine(request, { request: true })).toBe('LASER_LEVEL_SET int32Data0=3 data="5.00" flags=TRIGGER_CALL_BACK');
  });

  it('every field, one per line, with meanings', () => {
    expect(formatPacket(event)).toBe(
      [
        '  code          0x6010 STAGE_MOTION_STOPPED',
        '  status        1 (ok)',
        '  hardwareId    0',
        '  subsystemId   0',
        '  clientId      0',
        '  int32Data0    2  — axis: 1 X, 2 Y, 3 Z, 4 R',
        '  int32Data1    0',
        '  int32Data2    0',
        '  cmdDataBits0  0',
        '  value         15.25  — final position',
        '  addDataBytes  0',
        '  data          ""',
      ].join('\n'),
    );
  });

  it('previews payloads as one printable line and keeps the full text in JSON', () => {
    const payload = new TextEncoder().encode('<A>\r\n  k = v\r\n</A>\r\n\u0001');
    expect(payloadPreview(payload)).toBe('<A>\\r\\n  k = v\\r\\n</A>\\r\\n\\x01');
    expect(payloadPreview(new TextEncoder().encode('x'.repeat(200)), 10)).toBe(`${'x'.repeat(10)}…`);
    const packet = { ...event, addDataBytes: payload.length, payload };
    expect(packetJson(packet)).toMatchObject({ name: 'STAGE_MOTION_STOPPED', payloadBytes: payload.length, payloadText: '<A>\r\n  k = v\r\n</A>\r\n\u0001' });
  });
});

describe('textTable and formatMs', () => {
  it('pads every column but the last', () => {
    expect(
      textTable(
        ['a', 'bb', 'c'],
        [
          ['xxx', 'y', 'long reason'],
          ['z', 'yyy', ''],
        ],
      ),
    ).toBe('a    bb   c\n---  ---  -----------\nxxx  y    long reason\nz    yyy');
  });

  it('shows ms below a second, seconds with one decimal above', () => {
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(999.4)).toBe('999 ms');
    expect(formatMs(1234)).toBe('1.2 s');
  });
});
