import { commandSpec } from './commands.js';
import { systemStateOf } from './domain.js';

/** What a SYSTEM_STATE_GET answer says, read as the instrument writes it. */
export interface SystemStateReading {
  /** `idle` when int32Data0 is SYSTEM_STATE_IDLE (0xA002), else `busy`. */
  readonly state: 'idle' | 'busy';
  /** int32Data0 as sent: a state code (0xA002 idle; other state codes are not recorded). */
  readonly code: number;
  /** The state code's name when the command table knows it (`SYSTEM_STATE_IDLE`), else undefined. */
  readonly name: string | undefined;
}

/**
 * Read a SYSTEM_STATE_GET answer's int32Data0. The instrument answers 0xA002 when idle
 * (spec/protocol.md "System state", evidence RIG); busy values are other state codes whose
 * numbers are not recorded, so any other value reads busy and is kept as a number. 0 also
 * reads idle: the public client accepts it, and older descriptions of the protocol used it.
 */
export function readSystemState(int32Data0: number): SystemStateReading {
  const code = int32Data0 >>> 0;
  return { state: systemStateOf(code), code, name: commandSpec(code)?.name };
}
