import { commandProfile } from '../../../protocol/command-profile.js';
import { commandName } from '../../../protocol/commands.js';
import { RequestError } from '../../errors.js';

/** What a request does while a workflow this client started runs, when the instrument does not answer it then. */
export type DuringRunPolicy = 'fail' | 'wait';

/**
 * A request the instrument does not answer while a workflow runs (spec/commands.json
 * `duringRun: "no-reply"`, e.g. STAGE_POSITION_GET) was made during a run: it would only
 * time out, so it fails at once, before anything is written.
 */
export class WorkflowRunningError extends RequestError {
  constructor(command: string) {
    super(
      'BUSY',
      `${command} is not answered by the instrument while a workflow runs (spec/commands.json duringRun "no-reply"); ` +
        "retry after the run, or pass { duringRun: 'wait' } to wait for its end",
      { command },
    );
  }
}

/**
 * Whether a workflow started by this client is running, for the requests the instrument
 * leaves unanswered meanwhile. Runs nest (a count), so overlapping starts are safe.
 */
export class RunGate {
  private runs = 0;
  private waiters: (() => void)[] = [];

  get active(): boolean {
    return this.runs > 0;
  }

  begin(): void {
    this.runs++;
  }

  end(): void {
    if (this.runs === 0) return;
    this.runs--;
    if (this.runs > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when no run is active. */
  whenIdle(): Promise<void> {
    if (this.runs === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A run is active and the instrument leaves `code` unanswered meanwhile. */
  holds(code: number): boolean {
    return this.runs > 0 && commandProfile(code).duringRun === 'no-reply';
  }

  /**
   * Undefined when `code` may be requested now; else what to do: a rejection (policy
   * `fail`) or a promise of the run's end (policy `wait`).
   */
  hold(code: number, policy: DuringRunPolicy): Promise<void> | undefined {
    if (!this.holds(code)) return undefined;
    return policy === 'wait' ? this.whenIdle() : Promise.reject(new WorkflowRunningError(commandName(code)));
  }
}
