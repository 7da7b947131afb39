import { STATUS_OK } from './constants.js';
import { Flags } from './flags.js';
import type { PacketField } from './packet.js';
import { PROFILES, UNKNOWN_PROFILE, type CommandAlias, type CommandProfile, type EvidenceRef } from './command-profile.js';

/** Subsystem, named by a code's high byte. */
export type Subsystem = 'common' | 'laser' | 'camera' | 'led' | 'filter' | 'stage' | 'illumination' | 'ui' | 'system';

/**
 * What one command code is. This table and spec/commands.json must agree exactly
 * (test/unit/protocol-commands.test.ts); the JSON is the normative, language-neutral copy.
 */
export interface CommandSpec extends CommandProfile {
  readonly name: string;
  readonly code: number;
  readonly subsystem: Subsystem;
  /** request: sent by clients; event: pushed by the server; both: a request the server also pushes unasked. */
  readonly kind: 'request' | 'event' | 'both';
  /** Derived from the profile: a request whose `reply` is not `never` (it may be answered). */
  readonly replies: boolean;
  /** Derived from the profile: it can arrive without being asked for (`pushed` is set). */
  readonly unsolicited: boolean;
  /** In lease mode, the reply must equal the request in these fields (besides the code). */
  readonly matcher: readonly PacketField[];
  /** Fields the request uses, with their meaning. */
  readonly requestFields: Readonly<Record<string, string>>;
  /** Fields the reply (or event) uses, with their meaning. */
  readonly replyFields: Readonly<Record<string, string>>;
  /** A trailing payload: none, in the request, or in the reply. */
  readonly payload: 'none' | 'request' | 'reply';
  /** Part of the description comes from inference, not from the public client. */
  readonly inferred: boolean;
  readonly notes: string;
}

type Row = Omit<CommandSpec, 'subsystem' | 'replies' | 'unsolicited' | keyof CommandProfile>;

const AXIS = 'axis: 1 X, 2 Y, 3 Z (mm), 4 R (degrees)';
const OK = 'status 1 on success';

function req(name: string, code: number, extra: Partial<Row> = {}): Row {
  return {
    name,
    code,
    kind: 'request',
    matcher: [],
    requestFields: {},
    replyFields: { status: OK },
    payload: 'none',
    inferred: false,
    notes: '',
    ...extra,
  };
}

function evt(name: string, code: number, reply: Record<string, string>, notes: string, extra: Partial<Row> = {}): Row {
  return {
    name,
    code,
    kind: 'event',
    matcher: [],
    requestFields: {},
    replyFields: reply,
    payload: 'none',
    inferred: false,
    notes,
    ...extra,
  };
}

const ROWS: Row[] = [
  req('COMMON_SCOPE_SETTINGS', 0x1007, {
    replyFields: { status: OK, addDataBytes: 'length of the settings text, or 0 with the bare text right after the packet' },
    payload: 'reply',
    notes: 'the code of the answer to COMMON_SCOPE_SETTINGS_LOAD; not a usable request',
  }),
  req('COMMON_SCOPE_SETTINGS_SAVE', 0x1008, { payload: 'request', requestFields: { addDataBytes: 'settings text length' }, inferred: true }),
  req('COMMON_SCOPE_SETTINGS_LOAD', 0x1009, {
    replyFields: { code: '0x1007 COMMON_SCOPE_SETTINGS', payload: 'settings text' },
    payload: 'reply',
    notes: 'how settings are read: answered by a 0x1007 packet and the text',
  }),
  req('COMMON_CONTROL_SETTINGS_SAVE', 0x100b),
  req('STORAGE_PATH_GET', 0x1013, {
    requestFields: { int32Data0: '0 (query)' },
    replyFields: { status: OK, payload: 'newline-separated mount points' },
    payload: 'reply',
  }),
  req('COMMON_SYSTEM_UPDATE_LIVE_VIEW', 0x1017),
  req('LASER_LEVEL_SET', 0x2001, {
    matcher: ['int32Data0'],
    requestFields: { int32Data0: 'laser 1..4', data: 'percent as text, e.g. "5.00"' },
    replyFields: {},
    notes: 'never acknowledged: write it, then read the level back (it comes back quantised)',
  }),
  req('LASER_LEVEL_GET', 0x2002, {
    kind: 'both',
    matcher: ['int32Data0'],
    requestFields: { int32Data0: 'laser 1..4' },
    replyFields: { status: '1 on success, 0 for a bad laser index', int32Data0: 'laser 1..4 (echoed)', data: 'level text "5.00", or "getLevel error"' },
    notes: 'also pushed unasked during workflows',
  }),
  req('LASER_PREVIEW_ENABLE', 0x2004, {
    requestFields: { int32Data0: 'laser 1..4' },
    replyFields: {},
    notes: 'never acknowledged; the server also moves the filter wheel',
  }),
  req('LASER_PREVIEW_DISABLE', 0x2005, { requestFields: { int32Data0: 'laser 1..4' }, inferred: true }),
  req('LASER_ALL_DISABLE', 0x2007, { replyFields: {}, notes: 'never acknowledged by the firmware; send it, do not request it' }),
  req('CAMERA_EXPOSURE_SET', 0x3001, { requestFields: { int32Data0: 'exposure in microseconds' }, inferred: true }),
  req('CAMERA_WORKFLOW_START', 0x3004, {
    payload: 'request',
    requestFields: { cmdDataBits0: 'TRIGGER_CALL_BACK (as the vendor GUI)', addDataBytes: 'workflow text byte length', data: 'empty' },
    replyFields: {},
    notes: 'workflow file as trailing payload, bytes unchanged; never answered: the run shows itself by pushes and SYSTEM_STATE_GET',
  }),
  req('CAMERA_WORKFLOW_STOP', 0x3005),
  req('CAMERA_SNAPSHOT', 0x3006),
  req('CAMERA_LIVE_VIEW_START', 0x3007),
  req('CAMERA_LIVE_VIEW_STOP', 0x3008),
  req('CAMERA_EXPOSURE_GET', 0x300a, { replyFields: { status: OK, int32Data0: 'exposure in microseconds' } }),
  req('CAMERA_ROI_LEFT_SET', 0x300f, {
    requestFields: { int32Data0: '1-based left edge of the crop: (sensor width - width) / 2 + 1' },
    inferred: true,
    notes: 'the top edge goes with 0x3011 (the code also named CAMERA_STACK_COMPLETE); live view must be stopped around it',
  }),
  evt(
    'CAMERA_STACK_COMPLETE',
    0x3011,
    { status: OK, int32Data0: 'images acquired', int32Data1: 'images expected', int32Data2: 'errors', value: 'microseconds' },
    'unsolicited at the end of a stack; the same code is documented as a camera ROI command, so the code alone cannot classify it',
    { kind: 'both' },
  ),
  req('CAMERA_IMAGE_SIZE_GET', 0x3027, { replyFields: { status: OK, int32Data0: 'width', int32Data1: 'height' } }),
  req('CAMERA_CHECK_STACK', 0x302b),
  req('CAMERA_CHECK_STACK_UPDATES', 0x3036),
  req('CAMERA_PIXEL_FIELD_OF_VIEW_GET', 0x3037, { replyFields: { status: OK, value: 'mm per pixel' } }),
  req('LED_SET', 0x4001, { requestFields: { int32Data0: 'LED index', int32Data1: 'level 0..65535' } }),
  req('LED_ENABLE', 0x4002, { requestFields: { int32Data0: 'LED index' }, inferred: true }),
  req('LED_DISABLE', 0x4003, {
    kind: 'both',
    requestFields: { int32Data0: 'LED index' },
    inferred: true,
    notes: 'also pushed unasked during workflows',
  }),
  req('FILTER_POSITION_SET', 0x5001, { requestFields: { int32Data0: 'filter position' }, inferred: true }),
  req('FILTER_POSITION_GET', 0x5002, { replyFields: { status: OK, int32Data0: 'filter position' }, inferred: true }),
  req('STAGE_HOME', 0x6001, { notes: 'every axis moves to its home position; STAGE_MOTION_STOPPED per axis when done' }),
  req('STAGE_HALT', 0x6002, { notes: 'stops every moving axis; STAGE_MOTION_STOPPED with status 0 for each' }),
  req('STAGE_POSITION_SET', 0x6004, {
    matcher: ['int32Data0'],
    requestFields: { int32Data0: AXIS, value: 'target' },
    replyFields: {
      status: '1 move accepted, 0 refused (e.g. target outside the travel limits: no motion, no STAGE_MOTION_STOPPED)',
      int32Data0: 'axis (echoed)',
    },
    notes: 'the reply only acknowledges; the move goes on and ends with STAGE_MOTION_STOPPED',
  }),
  req('STAGE_POSITION_SET_SLIDER', 0x6005, {
    matcher: ['int32Data0'],
    requestFields: { int32Data0: AXIS, value: 'target' },
    replyFields: { status: 'status 1 when the move was accepted', int32Data0: 'axis (echoed)' },
  }),
  req('STAGE_VELOCITY_SET', 0x6006, { requestFields: { int32Data0: AXIS, value: 'velocity (mm/s or degrees/s)' }, inferred: true }),
  req('STAGE_POSITION_GET', 0x6008, {
    matcher: ['int32Data0'],
    requestFields: { int32Data0: AXIS },
    replyFields: { status: OK, int32Data0: 'axis (echoed)', value: 'position' },
  }),
  req('STAGE_SAVE_LOCATIONS_GET', 0x6009),
  req('STAGE_SAVE_LOCATIONS_SET', 0x600a),
  req('STAGE_WAIT_FOR_MOTION', 0x600f),
  evt(
    'STAGE_MOTION_STOPPED',
    0x6010,
    { status: '1 target reached, 0 stopped short (halt)', int32Data0: 'axis: 1 X, 2 Y, 3 Z, 4 R', value: 'final position' },
    'pushed when a move ends, also a zero-length one',
  ),
  req('ILLUMINATION_LEFT_ENABLE', 0x7004, { inferred: true }),
  req('ILLUMINATION_LEFT_DISABLE', 0x7005, { inferred: true }),
  req('ILLUMINATION_RIGHT_ENABLE', 0x7006, { inferred: true }),
  req('ILLUMINATION_RIGHT_DISABLE', 0x7007, { inferred: true }),
  evt('UI_SET_GAUGE_SIZE', 0x9003, { int32Data0: 'progress maximum' }, 'progress maximum of a running workflow'),
  evt('UI_SET_GAUGE_VALUE', 0x9004, { int32Data0: 'progress value' }, 'many per second during acquisition'),
  req('UI_LIVE_VIEW_UPDATE_ON_CHANGE_ENABLED', 0x9005),
  evt('UI_IMAGES_SAVED_TO_STORAGE', 0x9008, { int32Data0: 'images saved' }, 'pushed when images reach storage', { inferred: true }),
  evt('SYSTEM_STATE_IDLE', 0xa002, { status: OK }, 'pushed when the system becomes idle (e.g. a workflow ends)'),
  req('SYSTEM_STATE_GET', 0xa007, { replyFields: { status: OK, int32Data0: 'state code: 0xA002 idle, another state code busy' } }),
];

const SUBSYSTEMS: Record<number, Subsystem> = {
  0x10: 'common',
  0x20: 'laser',
  0x30: 'camera',
  0x40: 'led',
  0x50: 'filter',
  0x60: 'stage',
  0x70: 'illumination',
  0x90: 'ui',
  0xa0: 'system',
};

/** Subsystem of any code, from its high byte; undefined for an unknown subsystem. */
export function subsystemOf(code: number): Subsystem | undefined {
  return SUBSYSTEMS[(code >>> 8) & 0xff];
}

/** Every known command, in code order. */
export const COMMANDS: readonly CommandSpec[] = ROWS.map((row) => {
  const profile = PROFILES.get(row.code) ?? UNKNOWN_PROFILE;
  return Object.freeze({
    ...row,
    subsystem: subsystemOf(row.code) as Subsystem,
    replies: row.kind !== 'event' && profile.reply !== 'never',
    unsolicited: profile.pushed !== undefined && !profile.pushed.startsWith('never itself'),
    ...profile,
  });
});

const byCode = new Map<number, CommandSpec>(COMMANDS.map((c) => [c.code, c]));

/**
 * The language-neutral command table exactly as spec/commands.json holds it (the file is
 * generated from this: `npm run spec:commands`). Pure: returns a fresh object.
 */
export function commandsDocument(): CommandsDocument {
  return {
    $comment:
      'Normative command table of the Flamingo TCP protocol as this project speaks it; see spec/protocol.md. protocol/commands.ts must agree with it exactly.',
    version: 2,
    successStatus: STATUS_OK,
    flags: { ...Flags },
    commands: COMMANDS.map((c) => ({
      name: c.name,
      code: c.code,
      hex: `0x${c.code.toString(16).toUpperCase().padStart(4, '0')}`,
      subsystem: c.subsystem,
      kind: c.kind,
      replies: c.replies,
      unsolicited: c.unsolicited,
      matcher: [...c.matcher],
      requestFields: { ...c.requestFields },
      replyFields: { ...c.replyFields },
      payload: c.payload,
      inferred: c.inferred,
      notes: c.notes,
      reply: c.reply,
      ...(c.replyCode !== undefined ? { replyCode: c.replyCode } : {}),
      ...(c.requestPayload !== undefined ? { requestPayload: c.requestPayload } : {}),
      ...(c.replyPayload !== undefined ? { replyPayload: c.replyPayload } : {}),
      ...(c.pushed !== undefined ? { pushed: c.pushed } : {}),
      duringRun: c.duringRun,
      ...(c.whileMoving !== undefined ? { whileMoving: c.whileMoving } : {}),
      ...(c.aliases !== undefined ? { aliases: c.aliases.map((a) => ({ ...a })) } : {}),
      ...(c.drift !== undefined ? { drift: c.drift } : {}),
      evidence: c.evidence.map((r) => ({ ...r })),
    })),
  };
}

/** Shape of spec/commands.json. */
export interface CommandsDocument {
  $comment: string;
  version: number;
  successStatus: number;
  flags: Record<string, number>;
  commands: Array<
    Omit<CommandSpec, 'matcher' | 'aliases' | 'evidence'> & { hex: string; matcher: PacketField[]; aliases?: CommandAlias[]; evidence: EvidenceRef[] }
  >;
}

/** Command name → code, e.g. `Command.STAGE_POSITION_GET === 0x6008`. */
export const Command = {
  COMMON_SCOPE_SETTINGS: 0x1007,
  COMMON_SCOPE_SETTINGS_SAVE: 0x1008,
  COMMON_SCOPE_SETTINGS_LOAD: 0x1009,
  COMMON_CONTROL_SETTINGS_SAVE: 0x100b,
  STORAGE_PATH_GET: 0x1013,
  COMMON_SYSTEM_UPDATE_LIVE_VIEW: 0x1017,
  LASER_LEVEL_SET: 0x2001,
  LASER_LEVEL_GET: 0x2002,
  LASER_PREVIEW_ENABLE: 0x2004,
  LASER_PREVIEW_DISABLE: 0x2005,
  LASER_ALL_DISABLE: 0x2007,
  CAMERA_EXPOSURE_SET: 0x3001,
  CAMERA_WORKFLOW_START: 0x3004,
  CAMERA_WORKFLOW_STOP: 0x3005,
  CAMERA_SNAPSHOT: 0x3006,
  CAMERA_LIVE_VIEW_START: 0x3007,
  CAMERA_LIVE_VIEW_STOP: 0x3008,
  CAMERA_EXPOSURE_GET: 0x300a,
  CAMERA_ROI_LEFT_SET: 0x300f,
  CAMERA_STACK_COMPLETE: 0x3011,
  CAMERA_IMAGE_SIZE_GET: 0x3027,
  CAMERA_CHECK_STACK: 0x302b,
  CAMERA_CHECK_STACK_UPDATES: 0x3036,
  CAMERA_PIXEL_FIELD_OF_VIEW_GET: 0x3037,
  LED_SET: 0x4001,
  LED_ENABLE: 0x4002,
  LED_DISABLE: 0x4003,
  FILTER_POSITION_SET: 0x5001,
  FILTER_POSITION_GET: 0x5002,
  STAGE_HOME: 0x6001,
  STAGE_HALT: 0x6002,
  STAGE_POSITION_SET: 0x6004,
  STAGE_POSITION_SET_SLIDER: 0x6005,
  STAGE_VELOCITY_SET: 0x6006,
  STAGE_POSITION_GET: 0x6008,
  STAGE_SAVE_LOCATIONS_GET: 0x6009,
  STAGE_SAVE_LOCATIONS_SET: 0x600a,
  STAGE_WAIT_FOR_MOTION: 0x600f,
  STAGE_MOTION_STOPPED: 0x6010,
  ILLUMINATION_LEFT_ENABLE: 0x7004,
  ILLUMINATION_LEFT_DISABLE: 0x7005,
  ILLUMINATION_RIGHT_ENABLE: 0x7006,
  ILLUMINATION_RIGHT_DISABLE: 0x7007,
  UI_SET_GAUGE_SIZE: 0x9003,
  UI_SET_GAUGE_VALUE: 0x9004,
  UI_LIVE_VIEW_UPDATE_ON_CHANGE_ENABLED: 0x9005,
  UI_IMAGES_SAVED_TO_STORAGE: 0x9008,
  SYSTEM_STATE_IDLE: 0xa002,
  SYSTEM_STATE_GET: 0xa007,
} as const;

/** A known command name. */
export type CommandName = keyof typeof Command;

/** The name of a code, or `UNKNOWN_0x....` for a code not in the table. */
export function commandName(code: number): string {
  return byCode.get(code)?.name ?? `UNKNOWN_0x${(code >>> 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The table entry of a code, or undefined when the code is unknown. */
export function commandSpec(code: number): CommandSpec | undefined {
  return byCode.get(code);
}

/**
 * A command code from a name (`'STAGE_POSITION_GET'`), decimal or hex text, or a number.
 * Returns undefined when the name is unknown or the number is not a u32.
 */
export function parseCommand(nameOrCode: string | number): number | undefined {
  if (typeof nameOrCode === 'number') {
    return Number.isInteger(nameOrCode) && nameOrCode >= 0 && nameOrCode <= 0xffffffff ? nameOrCode : undefined;
  }
  // A selector arrives from untyped callers too ({}, null, true): not a command, not a crash.
  if (typeof nameOrCode !== 'string') return undefined;
  const text = nameOrCode.trim();
  const upper = text.toUpperCase();
  if (Object.hasOwn(Command, upper)) return Command[upper as CommandName];
  if (/^0x[0-9a-f]+$/i.test(text) || /^[0-9]+$/.test(text)) return parseCommand(Number(text));
  return undefined;
}
