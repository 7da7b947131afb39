import { Command } from '../../protocol/commands.js';
import { buildWorkflowText } from '../../protocol/workflow-text.js';
import { AppCommand, fail, step } from './app-command.js';
import type { Model } from './model.js';
import type { Rig } from './rig.js';

/**
 * A tiny workflow through workflow.start: exact stack counts. A laser is switched on only
 * in sequenced mode: in lease mode its end-of-run LASER_LEVEL_GET push is the documented
 * ambiguous case (spec/protocol.md §5.3), which the model does not claim to decide.
 */
export class RunWorkflow extends AppCommand {
  constructor(
    readonly planes: number,
    readonly laser: { index: number; hundredths: number } | null,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (rig.sim.snapshot().systemState !== 0) return; // an earlier failed run still goes on
      const laser = rig.cell.mode === 'sequenced' ? this.laser : null;
      const text = buildWorkflowText({
        numberOfPlanes: this.planes,
        lasers:
          laser === null
            ? [{ index: 1, name: '405 nm', power: 1, on: false }]
            : [{ index: laser.index, name: 'laser', power: laser.hundredths / 100, on: true }],
      });
      rig.issue(Command.CAMERA_WORKFLOW_START);
      rig.workflowMaybeRunning = true;
      const disconnects = rig.disconnects;
      const result = await rig.settle(
        'workflow.start',
        rig.client.workflow.start(text, { timeoutMs: rig.profile.eventTimeoutMs, startTimeoutMs: rig.profile.eventTimeoutMs }),
      );
      if (laser !== null) model.lasers[laser.index] = laser.hundredths / 100;
      if (!result.ok) {
        rig.allowError(this.toString(), result.error, disconnects);
        if (laser !== null) model.lasers[laser.index] = undefined;
        return;
      }
      rig.workflowMaybeRunning = false;
      const r = result.value;
      // No stack-complete on the instrument (nor the simulator by default): counts come from the last gauge value.
      if (r.countsFrom !== 'gauge' || r.acquired !== this.planes || r.expected !== this.planes || r.errors !== 0) {
        fail(`workflow of ${this.planes} planes: ${JSON.stringify(r)}`);
      }
    });
  }
  toString(): string {
    return `workflow(${this.planes}${this.laser === null ? '' : `, laser ${this.laser.index} ${(this.laser.hundredths / 100).toFixed(2)}`})`;
  }
}
