import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { AppCommand, fail, step } from './app-command.js';
import { axisOf, type Model } from './model.js';
import { checkLaserReply, checkPositionReply } from './reply-checks.js';
import type { Rig } from './rig.js';

/** One read of a batch issued at once. */
export type Read = { kind: 'axis'; axis: number } | { kind: 'position'; axis: number } | { kind: 'laser'; laser: number } | { kind: 'state' };

/** Concurrent GETs on several axes, lasers (some bad indexes) and the system state: no cross-talk. */
export class ConcurrentReads extends AppCommand {
  constructor(readonly reads: Read[]) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const client = rig.client;
      const calls = this.reads.map((r): Promise<unknown> => {
        switch (r.kind) {
          case 'axis':
            return client.request(Command.STAGE_POSITION_GET, { int32Data0: r.axis });
          case 'position':
            return client.stage.position(r.axis);
          case 'laser':
            return client.request(Command.LASER_LEVEL_GET, { int32Data0: r.laser });
          case 'state':
            return client.system.state();
          default:
            throw new Error(`unknown read ${JSON.stringify(r satisfies never)}`);
        }
      });
      const results = await Promise.all(calls.map((c, i) => rig.settle(`read ${i}`, c)));
      results.forEach((result, i) => {
        const r = this.reads[i] as Read;
        if (!result.ok) {
          rig.allowError(`read ${JSON.stringify(r)}`, result.error);
          return;
        }
        if (r.kind === 'axis' || r.kind === 'position') {
          const a = axisOf(model, r.axis);
          const expected = a.pendingFrom === null ? a.position : undefined;
          if (r.kind === 'axis') checkPositionReply(result.value as Packet, r.axis, expected);
          else if (expected !== undefined && !Object.is(result.value, expected))
            fail(`stage.position(${r.axis}) = ${String(result.value)}, expected ${expected}`);
        } else if (r.kind === 'laser') {
          checkLaserReply(result.value as Packet, r.laser, model.lasers[r.laser]);
        } else if (!rig.workflowMaybeRunning && result.value !== 'idle') {
          fail(`system.state() = ${String(result.value)} with no workflow running`);
        }
      });
    });
  }
  toString(): string {
    return `reads(${this.reads.map((r) => ('axis' in r ? `${r.kind}${r.axis}` : r.kind === 'laser' ? `laser${r.laser}` : 'state')).join(',')})`;
  }
}

/** client.settings(): the whole text from the trailing payload, byte for byte. */
export class ReadSettings extends AppCommand {
  async run(_model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      rig.issue(Command.COMMON_SCOPE_SETTINGS);
      const result = await rig.settle('settings()', rig.client.settings());
      if (!result.ok) rig.allowError('settings()', result.error);
      else if (result.value !== rig.sim.settingsText) fail(`settings() returned ${result.value.length} chars, not the simulator's text`);
    });
  }
  toString(): string {
    return 'settings()';
  }
}
