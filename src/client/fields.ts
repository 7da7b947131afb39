import { DATA_SIZE } from '../../protocol/constants.js';
import { commandName, parseCommand } from '../../protocol/commands.js';
import type { CommandName } from '../../protocol/commands.js';
import { ArgumentError } from '../errors.js';
import type { RequestFields } from '../correlation/pending.js';
import { TIMER_RULE, ruleViolation } from '../../protocol/options-schema.js';

const U32_FIELDS = ['status', 'hardwareId', 'subsystemId', 'clientId', 'cmdDataBits0'] as const;
const I32_FIELDS = ['int32Data0', 'int32Data1', 'int32Data2'] as const;
const KNOWN = new Set<string>([...U32_FIELDS, ...I32_FIELDS, 'value', 'data']);
const utf8 = new TextEncoder();

/** A command given by code or by name. */
export type CommandRef = number | CommandName;

/** The code of a command reference; ArgumentError for an unknown name or a non-u32 number. */
export function resolveCode(command: CommandRef): number {
  const code = parseCommand(command);
  if (code === undefined)
    throw new ArgumentError(
      `not a command code or name: ${typeof command === 'symbol' ? 'a symbol' : typeof command === 'object' && command !== null ? 'an object' : String(command)}`,
    );
  return code;
}

/**
 * Check request fields before anything is sent: known names only (a typo such as `axis`
 * would otherwise be silently ignored), integers in their type's range, a finite value,
 * data of at most 72 bytes. Throws ArgumentError naming the command.
 */
export function checkFields(code: number, fields: RequestFields | undefined): void {
  if (fields === undefined) return;
  if (typeof fields !== 'object' || fields === null) throw new ArgumentError('fields must be an object', commandName(code));
  for (const key of Object.keys(fields)) {
    if (!KNOWN.has(key)) throw new ArgumentError(`unknown packet field '${key}'`, commandName(code));
  }
  for (const key of U32_FIELDS) {
    const v = fields[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new ArgumentError(`${key} must be an integer 0..4294967295, got ${String(v)}`, commandName(code));
    }
  }
  for (const key of I32_FIELDS) {
    const v = fields[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff)) {
      throw new ArgumentError(`${key} must be a 32-bit integer, got ${String(v)}`, commandName(code));
    }
  }
  if (fields.value !== undefined && !(typeof fields.value === 'number' && Number.isFinite(fields.value))) {
    throw new ArgumentError(`value must be a finite number, got ${String(fields.value)}`, commandName(code));
  }
  const data = fields.data;
  if (data !== undefined) {
    const length = typeof data === 'string' ? utf8.encode(data).length : data instanceof Uint8Array ? data.length : -1;
    if (length < 0 || length > DATA_SIZE) {
      throw new ArgumentError(`data must be text or bytes of at most ${DATA_SIZE} bytes`, commandName(code));
    }
  }
}

/**
 * Check a timeout option: undefined, or a timer within {@link TIMER_RULE}'s range (1 ms …
 * 2^31−1 ms). Above that a Node timer fires at once, so a longer timeout is refused rather
 * than silently turned into 1 ms.
 */
export function checkTimeout(name: string, ms: number | undefined, command?: string): void {
  if (ms === undefined) return;
  const problem = ruleViolation(TIMER_RULE, ms);
  if (problem !== null) throw new ArgumentError(`${name} ${problem}, got ${String(ms)}`, command);
}
