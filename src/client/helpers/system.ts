import { Command } from '../../../protocol/commands.js';
import { readSystemState } from '../../../protocol/system-state.js';
import type { SystemStateReading } from '../../../protocol/system-state.js';
import type { FlamingoClient, RequestOptions } from '../client.js';

/** What SYSTEM_STATE_GET reports: idle (int32Data0 = 0xA002) or busy (any other state code). */
export type SystemState = 'idle' | 'busy';

/** System state, built on request only. */
export class SystemHelper {
  constructor(private readonly client: FlamingoClient) {}

  /**
   * SYSTEM_STATE_GET, read as the instrument answers it: `idle` when int32Data0 is
   * SYSTEM_STATE_IDLE (0xA002), `busy` for any other state code (spec/protocol.md
   * "System state"). The answer's status is not checked (busy statuses are not recorded).
   */
  async state(options: RequestOptions = {}): Promise<SystemState> {
    return (await this.reading(options)).state;
  }

  /** SYSTEM_STATE_GET with the raw state code and its name when known. */
  async reading(options: RequestOptions = {}): Promise<SystemStateReading> {
    const reply = await this.client.request(Command.SYSTEM_STATE_GET, undefined, options);
    return readSystemState(reply.int32Data0);
  }
}
