import cliProgress from 'cli-progress';

/** One progress bar of a {@link ProgressView}. */
export interface ProgressHandle {
  /** Set the bar to `value` (of its total) with a short detail, e.g. `8.250 mm`. */
  update(value: number, detail: string): void;
  /** Finish the bar at its total with a final detail. */
  done(detail: string): void;
}

const MILESTONES = [25, 50, 75, 100];

/**
 * Progress bars and log lines that share one output without garbling each other.
 *
 * On a terminal the bars are cli-progress bars redrawn in place, and log lines are printed
 * above them. Anywhere else (CI logs, pipes, files) redrawing would leave control
 * characters and hundreds of lines behind, so a bar prints one plain line as it crosses
 * 25, 50, 75 and 100 %, and log lines are printed as they come.
 */
export class ProgressView {
  /** True when the output is a terminal (bars are drawn in place). */
  readonly tty: boolean;
  private multibar: cliProgress.MultiBar | null = null;
  private active = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    this.tty = stream.isTTY === true;
  }

  /** Print one line (above the bars while any is drawn). */
  log(line: string): void {
    if (this.multibar !== null) this.multibar.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  /** Start a bar `label` going from 0 to `total`. */
  bar(label: string, total: number, detail: string): ProgressHandle {
    const safeTotal = total > 0 ? total : 1;
    if (this.tty) return this.terminalBar(label, safeTotal, detail);
    let next = 0;
    let finished = false;
    const print = (value: number, text: string) => {
      const percent = Math.floor((Math.min(value, safeTotal) / safeTotal) * 100);
      while (next < MILESTONES.length && percent >= (MILESTONES[next] as number)) {
        const mark = MILESTONES[next] as number;
        next++;
        // Only the highest milestone crossed is worth a line.
        if (next < MILESTONES.length && percent >= (MILESTONES[next] as number)) continue;
        this.stream.write(`  ${label} ${String(mark).padStart(3)}% ${text}\n`);
      }
    };
    return {
      update: (value, text) => {
        if (!finished) print(value, text);
      },
      done: (text) => {
        if (finished) return;
        finished = true;
        if (next < MILESTONES.length) {
          next = MILESTONES.length;
          this.stream.write(`  ${label} 100% ${text}\n`);
        }
      },
    };
  }

  /** Stop drawing (restores the cursor); further output is plain lines. */
  stop(): void {
    const m = this.multibar;
    this.multibar = null;
    this.active = 0;
    if (m === null) return;
    // Lines logged since the last redraw wait in cli-progress's buffer; stop() alone drops
    // them, so redraw once first.
    m.update();
    m.stop();
  }

  private terminalBar(label: string, total: number, detail: string): ProgressHandle {
    if (this.multibar === null) {
      this.multibar = new cliProgress.MultiBar(
        {
          stream: this.stream,
          format: '  {label} [{bar}] {percentage}% {detail}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          // The command handles SIGINT itself (it halts the stage first).
          gracefulExit: false,
          fps: 20,
        },
        cliProgress.Presets.shades_classic,
      );
    }
    const multibar = this.multibar;
    const bar = multibar.create(total, 0, { label, detail });
    this.active++;
    let finished = false;
    return {
      update: (value, text) => {
        if (!finished) bar.update(Math.min(value, total), { detail: text });
      },
      done: (text) => {
        if (finished) return;
        finished = true;
        bar.update(total, { detail: text });
        this.active--;
        // The last bar of a group ends the drawing, so the next log lines print normally.
        if (this.active === 0 && this.multibar === multibar) this.stop();
      },
    };
  }
}
