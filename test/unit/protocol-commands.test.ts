import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, Command, Flags, commandName, commandSpec, commandsDocument, parseCommand, subsystemOf } from 'flamingo-protocol';

const specPath = fileURLToPath(new URL('../../spec/commands.json', import.meta.url));
const generated = `${JSON.stringify(commandsDocument(), null, 2)}\n`;

// `npm run spec:commands` (UPDATE_SPEC=1) rewrites the file from protocol/commands.ts first.
if (process.env.UPDATE_SPEC === '1') writeFileSync(specPath, generated);

describe('spec/commands.json and protocol/commands.ts', () => {
  const text = readFileSync(specPath, 'utf8');
  const spec = JSON.parse(text) as ReturnType<typeof commandsDocument>;

  it('the file is exactly what the code generates (run `npm run spec:commands` after editing the table)', () => {
    expect(text).toBe(generated);
  });

  it('every command agrees field by field: name, code, hex, and every descriptive field', () => {
    expect(spec.commands.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.name));
    for (const c of spec.commands) {
      const code = Command[c.name as keyof typeof Command];
      expect(code, c.name).toBe(c.code);
      expect(c.hex).toBe(`0x${c.code.toString(16).toUpperCase().padStart(4, '0')}`);
      const row = commandSpec(c.code);
      expect(row).toBeDefined();
      const { hex: _hex, ...fields } = c;
      expect({ ...row, matcher: [...(row?.matcher ?? [])] }).toEqual(fields);
    }
    expect(Object.keys(Command).sort()).toEqual(spec.commands.map((c) => c.name).sort());
    expect(spec.flags).toEqual({ ...Flags });
    expect(spec.successStatus).toBe(1);
  });

  it('codes are unique and in ascending order; subsystem follows the high byte', () => {
    const codes = COMMANDS.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual([...codes].sort((a, b) => a - b));
    for (const c of COMMANDS) expect(subsystemOf(c.code)).toBe(c.subsystem);
  });

  it('the protocol conventions the rest of the project relies on', () => {
    const matcherOf = (name: keyof typeof Command) => commandSpec(Command[name])?.matcher;
    for (const name of ['STAGE_POSITION_GET', 'STAGE_POSITION_SET', 'STAGE_POSITION_SET_SLIDER', 'LASER_LEVEL_GET', 'LASER_LEVEL_SET'] as const) {
      expect(matcherOf(name), name).toEqual(['int32Data0']);
    }
    expect(
      COMMANDS.filter((c) => c.matcher.length > 0)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['LASER_LEVEL_GET', 'LASER_LEVEL_SET', 'STAGE_POSITION_GET', 'STAGE_POSITION_SET', 'STAGE_POSITION_SET_SLIDER']);
    expect(commandSpec(Command.LASER_ALL_DISABLE)?.replies).toBe(false);
    // Codes that are both a reply and an unsolicited push: the hard cases of correlation.
    expect(COMMANDS.filter((c) => c.kind === 'both').map((c) => c.name)).toEqual(['LASER_LEVEL_GET', 'CAMERA_STACK_COMPLETE', 'LED_DISABLE']);
    expect(COMMANDS.filter((c) => c.kind === 'event').map((c) => c.code)).toEqual([0x6010, 0x9003, 0x9004, 0x9008, 0xa002]);
    for (const c of COMMANDS) expect(c.unsolicited, c.name).toBe(c.kind !== 'request');
  });

  it('commandName and parseCommand', () => {
    expect(commandName(0x6008)).toBe('STAGE_POSITION_GET');
    expect(commandName(0x1234)).toBe('UNKNOWN_0x1234');
    expect(parseCommand('stage_position_get')).toBe(0x6008);
    expect(parseCommand('0x6008')).toBe(0x6008);
    expect(parseCommand('24584')).toBe(0x6008);
    expect(parseCommand(2 ** 32)).toBeUndefined();
    expect(parseCommand('NOPE')).toBeUndefined();
  });
});
