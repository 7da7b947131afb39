import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * CPU pinning for the benches: the measuring process on CPU 0, every server process it
 * starts (simulator, echo floor, gateway, byte pipe, relay) on CPU 1.
 *
 * Why: on this project's 2-core VM the Linux scheduler moves a woken server between the
 * cores, and a round trip's cost then depends on where it lands. Unpinned, five consecutive
 * serial simulator-vs-echo ratios read 1.02, 0.84, 0.54, 0.65, 1.27 and 0.51 although the
 * simulator spends only ~2 µs more than the echo between reading a request and writing its
 * reply; pinned, 0.98, 0.98, 0.97. Subject and floor are pinned alike, so the comparison
 * stays fair. Off with BENCH_PIN=0, on a 1-CPU machine, or without `taskset` (util-linux).
 */
const enabled = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && hasTaskset();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pin(pid: number | undefined, cpu: number): void {
  if (!enabled || pid === undefined) return;
  // -a: every thread of the process (V8's helpers and libuv's pool as well as the main thread).
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Pin the measuring process (this one) to CPU 0. */
export function pinMeasuringProcess(): void {
  pin(process.pid, 0);
}

/** Pin a server process the bench started to CPU 1. */
export function pinServerProcess(pid: number | undefined): void {
  pin(pid, 1);
}

/** How the benches were pinned, for their printed header. */
export function pinningDescription(): string {
  return enabled ? 'pinned: this process on CPU 0, server processes on CPU 1 (BENCH_PIN=0 to turn off)' : 'not pinned';
}
