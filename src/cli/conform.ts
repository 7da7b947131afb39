import type { Command as CliProgram } from 'commander';
import { ConnectError } from '../../transports/tcp.js';
import {
  CHECKS,
  checkNames,
  DEFAULT_TIMINGS,
  formatReport,
  reportJson,
  resultRow,
  runConformance,
  type ConformanceOptions,
  type ConformanceTimings,
} from '../apps/conformance/index.js';
import { abortOnSignals, exitWithUsageCode, usageError } from './exit.js';
import { closeMatches, connectAdvice, textTable } from '../format/format.js';
import { ExitCode, integerOption, numberOption, serverAddressOptions } from './options.js';

/** The timings come from options of the same names, except `--planes` (workflowPlanes); the connect timeout keeps its default. */
interface ConformCliOptions extends Omit<ConformanceTimings, 'workflowPlanes' | 'connectTimeoutMs'> {
  host: string;
  port: number;
  json?: boolean;
  only?: string[];
  list?: boolean;
  planes: number;
}

function listChecks(): string {
  return `${textTable(
    ['check', 'what it proves'],
    CHECKS.map((c) => [c.name, c.title]),
  )}\n`;
}

/** Split `--only a,b c` into names; unknown ones are a usage error with suggestions. */
function selected(command: CliProgram, only: string[] | undefined): string[] | undefined {
  if (only === undefined) return undefined;
  const names = only
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const known = checkNames();
  for (const name of names) {
    if (!known.includes(name)) {
      const near = closeMatches(name, known);
      usageError(
        command,
        `unknown check "${name}".${near.length > 0 ? ` Did you mean ${near.join(', ')}?` : ''} Run \`flamingo conform --list\` for the checks.`,
      );
    }
  }
  return names;
}

async function runConform(command: CliProgram, o: ConformCliOptions): Promise<number> {
  if (o.list === true) {
    process.stdout.write(listChecks());
    return ExitCode.OK;
  }
  const only = selected(command, o.only);
  const stop = abortOnSignals();
  // On a terminal, show each check as it finishes (a real stage takes seconds per move);
  // the table itself goes to stdout once every row is known.
  const live = o.json !== true && process.stderr.isTTY === true;
  const options: ConformanceOptions = {
    host: o.host,
    port: o.port,
    replyTimeoutMs: o.replyTimeoutMs,
    quietMs: o.quietMs,
    moveTimeoutMs: o.moveTimeoutMs,
    workflowTimeoutMs: o.workflowTimeoutMs,
    checkTimeoutMs: o.checkTimeoutMs,
    moveStepMm: o.moveStepMm,
    workflowPlanes: o.planes,
    signal: stop.signal,
    ...(only !== undefined && { only }),
    ...(live && { onResult: (r) => process.stderr.write(`${resultRow(r).slice(0, 3).join('  ')}\n`) }),
  };
  try {
    const report = await runConformance(options);
    process.stdout.write(o.json === true ? reportJson(report) : formatReport(report));
    if (stop.received() !== undefined) {
      process.stderr.write(`flamingo conform: stopped by ${stop.received()} after ${report.results.length} of ${only?.length ?? CHECKS.length} checks\n`);
      return 130;
    }
    return report.ok ? ExitCode.OK : ExitCode.FAILURE;
  } catch (error) {
    if (error instanceof ConnectError) {
      process.stderr.write(`flamingo conform: ${connectAdvice(error, o.host, o.port)}\n`);
      return ExitCode.UNAVAILABLE;
    }
    throw error;
  } finally {
    stop.dispose();
  }
}

/** `flamingo conform`: run the protocol conformance checks against any server and print a table. */
export function registerConform(program: CliProgram): void {
  const command = serverAddressOptions(
    program.command('conform').description('Run protocol conformance checks against a server (instrument or simulator); exit 0 only if all pass'),
  )
    .option('--json', 'print the report as JSON')
    .option('--only <checks...>', 'run only these checks (names from --list, comma or space separated)')
    .option('--list', 'list the checks and exit')
    .option('--reply-timeout-ms <ms>', 'how long a reply may take', integerOption(1, 600_000), DEFAULT_TIMINGS.replyTimeoutMs)
    .option('--quiet-ms <ms>', 'how long to listen for a reply that must not come', integerOption(0, 60_000), DEFAULT_TIMINGS.quietMs)
    .option('--move-timeout-ms <ms>', 'how long a short move may take to report STAGE_MOTION_STOPPED', integerOption(1, 600_000), DEFAULT_TIMINGS.moveTimeoutMs)
    .option('--workflow-timeout-ms <ms>', 'how long the test workflow may take', integerOption(1, 3_600_000), DEFAULT_TIMINGS.workflowTimeoutMs)
    .option('--check-timeout-ms <ms>', 'upper bound on one check', integerOption(1, 3_600_000), DEFAULT_TIMINGS.checkTimeoutMs)
    .option('--move-step-mm <mm>', 'length of the test moves', numberOption, DEFAULT_TIMINGS.moveStepMm)
    .option('--planes <n>', 'planes of the test workflow', integerOption(1, 1000), DEFAULT_TIMINGS.workflowPlanes)
    .addHelpText(
      'after',
      `\nExit codes: 0 all checks pass, 1 a check failed, 64 bad command line, 69 cannot connect.\nExample: flamingo sim --port 0 & flamingo conform --port <printed port>`,
    );
  exitWithUsageCode(command).action(async (options: ConformCliOptions) => {
    process.exitCode = await runConform(command, options);
  });
}
