/**
 * Run the built `flamingo` CLI as real child processes. Every process started here is
 * registered with the caller's cleanup list and killed if it outlives its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath, root } from './build.js';
import type { Cleanups } from './cleanups.js';

/** How a finished process ended and what it printed. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running process whose output is collected as it comes. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern` (rejects if the process ends first or after `timeoutMs`). */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves when the process has exited. */
  done: Promise<CliRun>;
}

/** Start `node <script> ...args` (default script: the flamingo CLI). */
export function start(args: readonly string[], cleanups: Cleanups, options: { script?: string; env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const child = spawn(process.execPath, [options.script ?? cliPath, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let out = '';
  let err = '';
  const lineWaiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    for (const w of [...lineWaiters]) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const w of [...lineWaiters]) w();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await done.catch(() => undefined);
    }
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    line(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`no stdout line matching ${pattern} within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)),
          timeoutMs,
        );
        const check = () => {
          for (const l of out.split('\n').slice(0, -1)) {
            const m = pattern.exec(l);
            if (m !== null) return finish(undefined, m);
          }
          if (child.exitCode !== null || child.signalCode !== null)
            finish(new Error(`process ended before a line matching ${pattern}; stdout: ${out}; stderr: ${err}`));
        };
        function finish(error?: Error, match?: RegExpExecArray) {
          clearTimeout(timer);
          lineWaiters.delete(check);
          if (error !== undefined) reject(error);
          else resolve(match as RegExpExecArray);
        }
        lineWaiters.add(check);
        check();
      });
    },
  };
}

/** Run a command to completion. */
export function run(args: readonly string[], cleanups: Cleanups, options: { script?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return start(args, cleanups, options).done;
}

/** Start `flamingo sim --port 0 --quiet ...extra` and wait for its `listening on HOST:PORT` line. */
export async function startSimCli(
  cleanups: Cleanups,
  extra: readonly string[] = [],
): Promise<{ process: CliProcess; port: number; stop: () => Promise<CliRun> }> {
  const sim = start(['sim', '--port', '0', '--quiet', ...extra], cleanups);
  const m = await sim.line(/^listening on [^:]+:(\d+)$/);
  const stop = async () => {
    if (sim.child.exitCode === null && sim.child.signalCode === null) sim.child.kill('SIGTERM');
    return sim.done;
  };
  return { process: sim, port: Number(m[1]), stop };
}
