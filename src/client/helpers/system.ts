import { systemStateOf, type SystemState } from '../../../protocol/domain.js';
import { Command } from '../../../protocol/commands.js';
import type { FlamingoClient } from '../client.js';
import { ProtocolError } from '../../errors.js';

export type { SystemState };

/** System state, built on request only. */
export class SystemHelper {
  constructor(private readonly client: FlamingoClient) {}

  /** SYSTEM_STATE_GET: int32Data0 0 idle, 1 busy, 2 error; anything else is a ProtocolError. */
  async state(): Promise<SystemState> {
    const reply = await this.client.request(Command.SYSTEM_STATE_GET, undefined, { expectOk: true });
    const state = systemStateOf(reply.int32Data0);
    if (state === undefined) throw new ProtocolError(`unknown system state ${reply.int32Data0}`, reply, { command: 'SYSTEM_STATE_GET' });
    return state;
  }
}
