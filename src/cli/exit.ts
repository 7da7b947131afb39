import type { Command as CliCommand } from 'commander';
import { ConnectError } from '../../transports/tcp.js';
import { ExitCode } from './options.js';

/**
 * Make a command exit with 64 (EX_USAGE) on every command-line error commander reports
 * (unknown option, bad value, missing argument) instead of commander's 1, which the
 * commands use for runtime failures. `--help` still exits 0.
 */
export function exitWithUsageCode(command: CliCommand): CliCommand {
  return command.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  });
}

/** Report a bad command-line value found after parsing: message, the usage line, exit 64. */
export function usageError(command: CliCommand, message: string): never {
  command.error(`error: ${message}\nUsage: flamingo ${command.name()} ${command.usage()}`, { exitCode: ExitCode.USAGE, code: 'flamingo.usage' });
}

/**
 * An AbortController aborted by the first SIGINT or SIGTERM, so a command can stop
 * cleanly (close its sockets, print what it has). A second signal exits at once with
 * 128 + signal number, for when the clean stop itself hangs.
 */
export function abortOnSignals(): { signal: AbortSignal; dispose: () => void; received: () => NodeJS.Signals | undefined } {
  const controller = new AbortController();
  let got: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (got !== undefined) process.exit(name === 'SIGINT' ? 130 : 143);
    got = name;
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => got,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Resolves with the first SIGINT or SIGTERM, for a server command that runs until it is
 * stopped. Both listeners are gone by then, so a second signal ends the process at once
 * (Node's default) when the clean close hangs.
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** The ConnectError behind `error` (itself, or somewhere in its `cause` chain), if any. */
export function connectErrorIn(error: unknown): ConnectError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof ConnectError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Reading stopped (`flamingo sim | head -2`): that is the reader's choice, not an error.
 * Without a listener, the EPIPE of the next write is an uncaught exception with a stack
 * trace. `stop` runs once (close the server), then the process exits with 0.
 */
export function stopQuietlyOnBrokenPipe(stop: () => Promise<void> = async () => undefined): void {
  let stopping = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(ExitCode.OK));
  });
}
