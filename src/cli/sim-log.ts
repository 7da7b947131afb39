import type { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';
import { formatCommandLine } from './sim-line.js';

/** How much `flamingo sim` logs (README §Simulator). */
export type SimLogLevel = 'quiet' | 'summary' | 'verbose';

/** Lines held between flushes at most; more are counted and reported as dropped. */
const MAX_BUFFERED_LINES = 20_000;
const FLUSH_MS = 100;
const SUMMARY_MS = 1000;

/**
 * Log lines written in batches, off the request path: a line is appended to a buffer and
 * the buffer goes out in ONE write every 100 ms. process.stdout is synchronous on Linux
 * for pipes and files, so a write per command made every request pay a system call (and
 * wait whenever the reader lagged). The buffer is bounded: beyond 20,000 lines per flush,
 * lines are counted, not kept, and the count is logged.
 */
export class BatchedLog {
  private lines: string[] = [];
  private droppedLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (text: string) => void) {}

  /** Queue one line (without its newline). */
  line(text: string): void {
    if (this.lines.length >= MAX_BUFFERED_LINES) {
      this.droppedLines++;
      return;
    }
    this.lines.push(text);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Write every queued line now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.droppedLines > 0) {
      this.lines.push(`(${this.droppedLines} log lines dropped: the log could not keep up)`);
      this.droppedLines = 0;
    }
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.write(text);
  }
}

/**
 * Attach the simulator's log at `level`. `summary` (the default): connections, faults and
 * one line per second that saw commands, with a count per command name; `verbose`: one
 * line per command as well. Returns a function that stops the log and flushes it.
 */
export function attachSimLog(sim: SimulatedMicroscope, level: SimLogLevel, log: BatchedLog): () => void {
  if (level === 'quiet') return () => log.flush();
  sim.on('connection', ({ connectionId, description }) => log.line(`#${connectionId} connected from ${description}`));
  sim.on('disconnect', ({ connectionId, error }) => log.line(`#${connectionId} disconnected${error ? `: ${error.message}` : ''}`));
  sim.on('frameError', ({ connectionId, error }) => log.line(`#${connectionId} frame error: ${error.message}; connection closed`));
  sim.on('resync', ({ connectionId, skippedBytes }) => log.line(`#${connectionId} skipped ${skippedBytes} bytes of garbage`));
  if (level === 'verbose') {
    sim.on('command', (info) => log.line(formatCommandLine(info)));
    return () => log.flush();
  }
  const counts = new Map<string, number>();
  let total = 0;
  let dropped = 0;
  sim.on('command', (info) => {
    total++;
    if (info.dropped) dropped++;
    counts.set(info.name, (counts.get(info.name) ?? 0) + 1);
  });
  const summarise = () => {
    if (total === 0) return;
    const names = [...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`);
    log.line(`${total} commands in the last second: ${names.join(', ')}${dropped > 0 ? `; ${dropped} replies dropped by fault` : ''}`);
    counts.clear();
    total = 0;
    dropped = 0;
  };
  const timer = setInterval(summarise, SUMMARY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    summarise();
    log.flush();
  };
}
