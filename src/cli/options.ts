/**
 * The CLI's command-line vocabulary: exit codes, usage errors and commander option parsers,
 * the same in every `flamingo` command.
 */
import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import { cliNumberParser, type OptionRule } from '../../protocol/options-schema.js';
import { Command, parseCommand } from '../../protocol/commands.js';
import { DEFAULT_PORT } from '../../protocol/constants.js';
import { closeMatches } from '../format/format.js';

/** Exit codes of every `flamingo` command. 64 and 69 follow BSD sysexits. */
export const ExitCode = {
  OK: 0,
  /** A check failed, or a runtime error with no more specific code. */
  FAILURE: 1,
  /** The instrument answered with a failure status. */
  FAILED_STATUS: 2,
  /** No reply within the timeout. */
  TIMEOUT: 3,
  /** Bad command line: unknown command name, bad flag value. */
  USAGE: 64,
  /** Cannot connect to the server. */
  UNAVAILABLE: 69,
} as const;

/** A bad command-line value; the CLI prints the message with usage help and exits 64. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Every command name, for suggestions. */
export const COMMAND_NAMES: readonly string[] = Object.keys(Command);

/**
 * A command code from a name (any case, `-` for `_`), decimal or 0x-hex.
 * @throws UsageError naming close matches when the name is unknown.
 */
export function commandFromArgument(text: string): number {
  const code = parseCommand(text.replace(/-/g, '_'));
  if (code !== undefined) return code;
  const matches = closeMatches(text, COMMAND_NAMES);
  const hint = matches.length > 0 ? ` Did you mean ${matches.join(', ')}?` : ' Give a command name (e.g. SYSTEM_STATE_GET) or a code (e.g. 0xA007).';
  throw new UsageError(`unknown command "${text}".${hint}`);
}

/** `--host` and `--port` of a command that talks to a server: the same defaults and checks in every command. */
export function serverAddressOptions(command: CliProgram): CliProgram {
  return command.option('--host <host>', 'server address', '127.0.0.1').option('--port <port>', 'command port', integerOption(1, 65535), DEFAULT_PORT);
}

/**
 * Commander parser for a number option checked by a library option's rule (protocol/options-schema.ts),
 * so the command line and the library accept exactly the same values (spec/options.md).
 */
export function ruleOption(rule: OptionRule): (text: string) => number {
  return cliNumberParser(rule, (message) => {
    throw new InvalidArgumentError(message);
  });
}

/** Commander parser for an integer option within [min, max] (a command-line option with no library option behind it). */
export function integerOption(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** Commander parser for any finite number. */
export function numberOption(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}
