/**
 * How the instrument behaves, command by command: whether it answers, with which code,
 * what it pushes unasked, what happens while a workflow runs or the stage moves, and how
 * sure we are (spec/protocol.md "Behaviour profile"). Every row cites its evidence; a
 * behaviour no evidence shows is graded `CHOICE` and is this project's decision.
 */
import type { CommandProfile, EvidenceGrade, EvidenceRef, ReplyRule } from './command-profile-types.js';

export type { CommandAlias, CommandProfile, DuringRun, EvidenceGrade, EvidenceRef, ReplyRule } from './command-profile-types.js';

const e = (grade: EvidenceGrade, ref: string): EvidenceRef => ({ grade, ref });
const unknownRow = (ref: string): CommandProfile => ({
  reply: 'unknown',
  duringRun: 'unknown',
  evidence: [e('CODE', ref)],
});
const NEVER_SENT = 'never sent by the public client: no reply recorded';

/** The profile of every code of the command table, by code. */
export const PROFILES: ReadonlyMap<number, CommandProfile> = new Map<number, CommandProfile>([
  [
    0x1007,
    {
      reply: 'unknown',
      replyPayload:
        'arrives only as the answer to COMMON_SCOPE_SETTINGS_LOAD (0x1009): settings text, counted in addDataBytes or bare after the packet up to the next start marker',
      duringRun: 'unknown',
      evidence: [
        e('RIG', 'sent as a query without the flag it got no reply, §0.2, §1a'),
        e('RIG', 'code of the ack before the settings text (2023 client), §1a, §7'),
      ],
    },
  ],
  [
    0x1008,
    {
      reply: 'unknown',
      requestPayload: 'a whole settings file (addDataBytes = its length), overwrites the instrument file',
      duringRun: 'unknown',
      evidence: [e('CODE', 'file as trailing payload; sent without the flag; no real reply recorded, §1a, §7')],
    },
  ],
  [
    0x1009,
    {
      reply: 'always',
      replyCode: 0x1007,
      replyPayload: 'settings text (about 3 KB), counted in addDataBytes or bare after the packet up to the next start marker',
      duringRun: 'unknown',
      evidence: [
        e('RIG', 'sent without the flag, answered by a 0x1007 packet then the text (2023 client), §1a, §7'),
        e('CODE', 'whether addDataBytes counts the text is not recorded, §1a'),
      ],
    },
  ],
  [0x100b, { ...unknownRow('sent once by mistake as a settings save; reply unknown, §1a') }],
  [
    0x1013,
    {
      reply: 'on-flag',
      replyPayload: 'trailing payload: newline-separated mount points, possibly NUL-padded',
      duringRun: 'unknown',
      evidence: [e('RIG', 'reply with addDataBytes > 0 holding mount points, §1a, §9')],
    },
  ],
  [0x1017, unknownRow(`${NEVER_SENT}, §1a`)],
  [
    0x2001,
    {
      reply: 'never',
      requestPayload: 'none; the level is text with 2 decimals in the data field ("5.00")',
      duringRun: 'unknown',
      evidence: [e('LOG', 'no same-code reply, 3-s client timeouts in the server log, §1b, §5 [LS]'), e('LOG', 'data field "11.49", §1b [LA]')],
    },
  ],
  [
    0x2002,
    {
      reply: 'on-flag',
      replyPayload: 'level as NUL-terminated text in the data field ("10.55"), or "getLevel error"',
      pushed: 'while a workflow runs (the run sets its laser levels)',
      duringRun: 'unknown',
      evidence: [e('LOG', 'answers with the level text, §1b, §5'), e('RIG', 'pushed during workflows, §1b, §3.2')],
    },
  ],
  [
    0x2004,
    {
      reply: 'never',
      duringRun: 'unknown',
      evidence: [e('LOG', 'no same-code reply; server disables other lines and moves the filter wheel, §1b, §5 [LS, LV]')],
    },
  ],
  [
    0x2005,
    {
      reply: 'unknown',
      duringRun: 'unknown',
      aliases: [
        { name: 'LASER_PREVIEW_DISABLE', meaning: 'switch a laser preview off (command_codes, socket_reader)' },
        { name: 'LASER_ENABLE_LINE', meaning: 'enable a laser line (laser_led_service)' },
      ],
      evidence: [e('CODE', 'two names in the public client, never sent, §1b')],
    },
  ],
  [
    0x2007,
    {
      reply: 'never',
      duringRun: 'unknown',
      evidence: [e('LOG', 'sent once per laser 1..4; four receipts 3 s apart in the server log, no reply, §1b, §5 [LS]')],
    },
  ],
  [0x3001, unknownRow(`${NEVER_SENT}, §1c`)],
  [
    0x3004,
    {
      reply: 'never',
      requestPayload: 'the workflow file as-is (addDataBytes = byte length, data field empty, flag set)',
      duringRun: 'unknown',
      evidence: [
        e('LOG', 'vendor GUI: flag + addDataBytes 2204 runs; addDataBytes 0 logs "Work flow empty", §3.1'),
        e('RIG', 'no 0x3004 back; first frames are 0x4003 and 0x2002 pushes, §3.2'),
      ],
    },
  ],
  [
    0x3005,
    {
      reply: 'always',
      duringRun: 'unknown',
      evidence: [
        e('RIG', 'answered without the flag, also when nothing runs, §0.2, §3.4 [DQ]'),
        e('CODE', 'sent to cancel a queued run; no reply recorded while a run goes on, §3.4'),
      ],
    },
  ],
  [
    0x3006,
    {
      reply: 'on-flag',
      pushed: 'never itself; a SYSTEM_STATE_IDLE push follows the snapshot',
      duringRun: 'unknown',
      evidence: [
        e('LOG', 'vendor GUI sends it with the flag, §5 [LA]'),
        e('CODE', 'the public client waits for 0x3006, §1c'),
        e('SRC', 'SNAP_SHOT then IDLE state frames, §2'),
      ],
    },
  ],
  [
    0x3007,
    {
      reply: 'on-flag',
      duringRun: 'unknown',
      evidence: [e('SRC', 'status 1 "Live view thread started", §1c [LV]'), e('CODE', 'waits for 0x3007, §1c')],
    },
  ],
  [
    0x3008,
    {
      reply: 'on-flag',
      duringRun: 'unknown',
      evidence: [e('SRC', 'status 1 stopped, 0 not running, §1c [LV]')],
    },
  ],
  [0x300a, { reply: 'on-flag', duringRun: 'unknown', evidence: [e('SRC', 'reply int32Data0 = exposure in µs, §1c')] }],
  [
    0x300f,
    {
      reply: 'on-flag',
      duringRun: 'unknown',
      evidence: [e('SRC', 'ROI left set reads int32Data0 = (sensor − width)/2 + 1, §1c, §6'), e('CODE', 'waits for 0x300F; live view stopped around it, §6')],
    },
  ],
  [
    0x3011,
    {
      reply: 'on-flag',
      pushed: 'claimed as CAMERA_STACK_COMPLETE at the end of a stack; never observed',
      duringRun: 'unknown',
      aliases: [
        { name: 'CAMERA_ROI_TOP_SET', meaning: 'ROI top edge, int32Data0 1-based (camera service)' },
        { name: 'CAMERA_STACK_COMPLETE', meaning: 'stack complete push: acquired, expected, errors, µs (reader)' },
      ],
      evidence: [e('SRC', 'ROI top set reads int32Data0, §1c, §6'), e('CODE', 'stack-complete push listened for, never recorded, §1c, §3.2')],
    },
  ],
  [
    0x3027,
    {
      reply: 'on-flag',
      duringRun: 'unknown',
      drift: 'was 0x302B (12331) on older firmware; 12331 is CAMERA_CHECK_STACK now',
      evidence: [e('RIG', 'no reply without the flag [DQ]; reply status 1, 2048×2048, 6.5 [SS], §1c'), e('RIG', 'codes moved by 4, §0.3')],
    },
  ],
  [
    0x302b,
    {
      reply: 'unknown',
      requestPayload: 'a workflow file (2023 client)',
      duringRun: 'unknown',
      drift: 'was 0x302F (12335) on older firmware, where 0x302B was CAMERA_IMAGE_SIZE_GET',
      evidence: [e('RIG', '2023 client got a CHECK_STACK reply with text on the old firmware, §1c, §0.3')],
    },
  ],
  [0x3036, { ...unknownRow(`${NEVER_SENT}, §1c`), drift: 'was 0x303A (12346) on older firmware' }],
  [
    0x3037,
    {
      reply: 'always',
      duringRun: 'unknown',
      drift: 'was 0x303B (12347) on older firmware',
      evidence: [e('RIG', 'answers without the flag, value = mm per pixel, §0.2, §1c [DQ, SS]')],
    },
  ],
  [0x4001, { reply: 'on-flag', duringRun: 'unknown', evidence: [e('LOG', 'acked at once (server-log timing), §1d, §5 [LS]')] }],
  [0x4002, { reply: 'on-flag', duringRun: 'unknown', evidence: [e('LOG', 'answers, §1d [LA, LS]')] }],
  [
    0x4003,
    {
      reply: 'on-flag',
      pushed: 'at the start of a workflow (the run switches illumination off)',
      duringRun: 'unknown',
      evidence: [e('LOG', 'answers at once, §1d [LS]'), e('RIG', 'first frame after a workflow start, §3.2')],
    },
  ],
  [0x5001, unknownRow(`${NEVER_SENT}, §1d`)],
  [0x5002, unknownRow(`${NEVER_SENT}, §1d`)],
  [0x6001, unknownRow(`${NEVER_SENT} ("home" is a move to the settings' Home values), §1e, §4`)],
  [0x6002, unknownRow('sent with the flag; no evidence of a reply or of a STAGE_MOTION_STOPPED after it, §1e, §4')],
  [
    0x6004,
    {
      reply: 'on-flag',
      pushed: 'never itself; STAGE_MOTION_STOPPED follows when the move ends',
      duringRun: 'unknown',
      evidence: [e('RIG', 'acked with the same code, status + axis echoed (2023 client), §1e, §4')],
    },
  ],
  [
    0x6005,
    {
      reply: 'on-flag',
      duringRun: 'unknown',
      evidence: [e('LOG', 'vendor GUI slider "stage set position (slide control)", §1e [LA]'), e('CODE', 'waits for the 0x6005 ack, §1e')],
    },
  ],
  [
    0x6006,
    {
      reply: 'unknown',
      duringRun: 'unknown',
      aliases: [
        { name: 'STAGE_VELOCITY_SET', meaning: 'axis velocity (command_codes, socket_reader)' },
        { name: 'STAGE_POSITION_SET_TEXT', meaning: 'position set from a GUI text entry (stage_service)' },
      ],
      evidence: [e('CODE', 'two names, never sent, §1e, §4')],
    },
  ],
  [
    0x6008,
    {
      reply: 'on-flag',
      duringRun: 'no-reply',
      whileMoving: 'reads 0.000 (sometimes an out-of-range value) while the axis moves',
      evidence: [
        e('RIG', 'no reply without the flag [DQ]; value = position, axis echoed, §1e'),
        e('RIG', 'times out while a workflow runs, §3.2, §4'),
        e('RIG', '0.000 while moving, §4'),
      ],
    },
  ],
  [0x6009, unknownRow(`${NEVER_SENT}, §1e`)],
  [0x600a, unknownRow(`${NEVER_SENT}, §1e`)],
  [0x600f, unknownRow(`${NEVER_SENT}, §1e`)],
  [
    0x6010,
    {
      reply: 'unknown',
      pushed: 'when a move ends; status 1 = reached, int32Data0 = axis (unverified)',
      duringRun: 'unknown',
      evidence: [e('LOG', '"sending motion stopped command", §1e, §4 [LA]'), e('RIG', 'as a query without the flag: no reply, §0.2 [DQ]')],
    },
  ],
  [0x7004, { reply: 'on-flag', duringRun: 'unknown', evidence: [e('LOG', 'answers at once; sets the galvo waveform, §1d, §5 [LS, LV]')] }],
  [0x7005, { reply: 'on-flag', duringRun: 'unknown', evidence: [e('LOG', 'illumination commands answer at once, §5 [LS]')] }],
  [0x7006, { reply: 'on-flag', duringRun: 'unknown', evidence: [e('LOG', 'illumination commands answer at once, §5 [LS]')] }],
  [0x7007, { reply: 'unknown', duringRun: 'unknown', evidence: [e('CODE', 'inferred, never sent, §1d')] }],
  [
    0x9003,
    { reply: 'unknown', pushed: 'gauge maximum while a workflow runs', duringRun: 'unknown', evidence: [e('RIG', 'floods during multi-tile runs, §1f')] },
  ],
  [
    0x9004,
    {
      reply: 'unknown',
      pushed: 'gauge value while a Z-stack workflow runs (int32Data0 acquired, int32Data1 expected); absent for Tile runs',
      duringRun: 'unknown',
      evidence: [e('RIG', 'high rate during Z stacks, absent for Tile, §1f, §3.2'), e('CODE', 'field meaning, §1f')],
    },
  ],
  [0x9005, unknownRow(`${NEVER_SENT}, §1a`)],
  [
    0x9008,
    { reply: 'unknown', pushed: 'listed as unsolicited; never observed', duringRun: 'unknown', evidence: [e('CODE', 'no handler, no observation, §1f')] },
  ],
  [
    0xa002,
    {
      reply: 'unknown',
      pushed: 'when the system returns to idle (workflow end, snapshot, live-view stop, another client); also stale, right after a workflow start',
      duringRun: 'unknown',
      evidence: [e('RIG', 'end-of-run signal; one arrived 0 s after a start; some were missed, §1a, §2'), e('SRC', 'broadcast to every client, §2')],
    },
  ],
  [
    0xa007,
    {
      reply: 'always',
      replyPayload: 'int32Data0 = the state code: 0xA002 (SYSTEM_STATE_IDLE) when idle, another state code when busy',
      duringRun: 'answers',
      evidence: [e('RIG', 'answers without the flag [DQ]; idle = status 1, int32Data0 0xA002, §1a, §2'), e('RIG', 'polled every 2 s during runs, §3.3')],
    },
  ],
]);

/** The profile of a code not in the table: nothing is known. */
export const UNKNOWN_PROFILE: CommandProfile = Object.freeze({
  reply: 'unknown',
  duringRun: 'unknown',
  evidence: Object.freeze([e('CHOICE', 'not in the command table')]),
});

/** Profile of `code` ({@link UNKNOWN_PROFILE} when the code is not in the table). */
export function commandProfile(code: number): CommandProfile {
  return PROFILES.get(code) ?? UNKNOWN_PROFILE;
}

/** Whether the instrument answers `code` (`unknown` for a code not in the table). */
export function replyRule(code: number): ReplyRule {
  return commandProfile(code).reply;
}

/** The code the answer to `code` carries: `replyCode` when it differs, else `code`. */
export function replyCodeOf(code: number): number {
  return PROFILES.get(code)?.replyCode ?? code;
}

/** The request code whose answer carries `replyCode`, when it differs (0x1007 → 0x1009); else undefined. */
export function requestCodeForReply(replyCode: number): number | undefined {
  return REQUEST_OF_REPLY.get(replyCode);
}

const REQUEST_OF_REPLY = new Map<number, number>([...PROFILES].filter(([, p]) => p.replyCode !== undefined).map(([code, p]) => [p.replyCode as number, code]));

/** Codes whose answer may be followed by bare text (no addDataBytes): the deframer collects it. */
export const BARE_TEXT_REPLY_CODES: ReadonlySet<number> = new Set([0x1007]);
