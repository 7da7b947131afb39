import { payloadText } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import type { FlamingoClient, RequestOptions } from '../client.js';
import { ProtocolError } from '../../errors.js';

/**
 * COMMON_SCOPE_SETTINGS: the settings text, which the instrument returns as the reply's
 * trailing payload (the deframer collects it, however it is split). ProtocolError on a
 * failure status or a reply without a payload.
 */
export async function readSettings(client: FlamingoClient, options: RequestOptions = {}): Promise<string> {
  const reply = await client.request(Command.COMMON_SCOPE_SETTINGS, undefined, { ...options, expectOk: true });
  if (reply.payload === undefined) throw new ProtocolError('settings reply carried no payload', reply, { command: 'COMMON_SCOPE_SETTINGS' });
  return payloadText(reply);
}

// The readers of the settings text are pure and live in protocol/ (spec/text-format.md);
// they are re-exported here beside the helper that fetches the text.
export { moveRange, readFilterWheel, readLedSettings, readScopeType, readStageSettings, stageAxisList } from '../../../protocol/settings-text.js';
export type { AxisSettings, FilterWheelSettings, LedSettings, ScopeType, StageSettings } from '../../../protocol/settings-text.js';
