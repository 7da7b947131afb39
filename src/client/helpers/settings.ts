import { payloadText } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import type { Packet } from '../../../protocol/packet.js';
import type { FlamingoClient, RequestOptions } from '../client.js';
import { ArgumentError, ProtocolError } from '../../errors.js';

/**
 * The settings text: COMMON_SCOPE_SETTINGS_LOAD (0x1009), which the instrument answers
 * with a packet coded COMMON_SCOPE_SETTINGS (0x1007) followed by the text. Whether that
 * packet's addDataBytes counts the text is not recorded (spec/protocol.md "Settings"), so
 * both framings are accepted: the deframer hands over a counted payload, or the bare text
 * up to the next start marker (or a quiet stream). The answer's status is not checked:
 * no evidence says what it is. ProtocolError when no text came.
 */
export async function readSettings(client: FlamingoClient, options: RequestOptions = {}): Promise<string> {
  return (await loadSettings(client, options)).text;
}

async function loadSettings(client: FlamingoClient, options: RequestOptions): Promise<{ reply: Packet; text: string }> {
  const reply = await client.request(Command.COMMON_SCOPE_SETTINGS_LOAD, undefined, options);
  if (reply.payload === undefined || reply.payload.length === 0) {
    throw new ProtocolError('the settings answer (0x1007) carried no text', reply, { command: 'COMMON_SCOPE_SETTINGS_LOAD' });
  }
  // NUL padding after the text is not part of it (the public client strips it too).
  return { reply, text: payloadText(reply).replace(/\0+$/, '') };
}

/** Options of {@link saveSettings}. */
export interface SaveSettingsOptions extends RequestOptions {
  /** Reject with ProtocolError when the text read back differs from the text saved (default false). */
  expectSame?: boolean;
}

const utf8 = new TextEncoder();

/**
 * Overwrite the instrument's settings file: COMMON_SCOPE_SETTINGS_SAVE (0x1008) with the
 * file as trailing payload (addDataBytes = its byte length), sent without the callback flag
 * as the public client does. No answer to it is recorded (reply rule `unknown`), so the
 * outcome is checked by reading the settings back, which resolves the promise (our choice,
 * spec/protocol.md "Settings").
 */
export async function saveSettings(client: FlamingoClient, text: string | Uint8Array, options: SaveSettingsOptions = {}): Promise<string> {
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new ArgumentError('settings text must be a non-empty string or Uint8Array', 'COMMON_SCOPE_SETTINGS_SAVE');
  }
  await client.send(Command.COMMON_SCOPE_SETTINGS_SAVE, undefined, { payload: bytes });
  const { expectSame, ...readOptions } = options;
  const back = await loadSettings(client, readOptions);
  if (expectSame === true) {
    const sent = typeof text === 'string' ? text : new TextDecoder().decode(bytes);
    if (back.text.trimEnd() !== sent.trimEnd()) {
      throw new ProtocolError('the settings read back differ from the settings saved', back.reply, { command: 'COMMON_SCOPE_SETTINGS_SAVE' });
    }
  }
  return back.text;
}

// The readers of the settings text are pure and live in protocol/ (spec/text-format.md);
// they are re-exported here beside the helper that fetches the text.
export { moveRange, readFilterWheel, readLedSettings, readScopeType, readStageSettings, stageAxisList } from '../../../protocol/settings-text.js';
export type { AxisSettings, FilterWheelSettings, LedSettings, ScopeType, StageSettings } from '../../../protocol/settings-text.js';
