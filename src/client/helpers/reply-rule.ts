import { replyRule } from '../../../protocol/command-profile.js';
import { COMMANDS } from '../../../protocol/commands.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet } from '../../../protocol/packet.js';
import type { RequestFields } from '../../correlation/pending.js';
import type { ExclusiveTx } from '../client.js';

/**
 * Codes the instrument never acknowledges with a same-code reply, from the behaviour profile
 * (spec/commands.json `reply: "never"`; spec/vocabulary.md "Reply rules"): laser level set,
 * laser preview enable, laser all-disable. A helper writes them and never waits; where the
 * outcome matters it reads the state back.
 */
export const NEVER_ACKNOWLEDGED: ReadonlySet<number> = new Set<number>(COMMANDS.filter((c) => replyRule(c.code) === 'never').map((c) => c.code));

/** What a helper issues commands through: the client itself or an `exclusive()` section. */
export type Issuer = Pick<ExclusiveTx, 'request' | 'send'>;

/**
 * Issue one command by its reply rule: an acknowledged command is a request with the
 * callback flag (as the vendor GUI sends every command) and a failure status rejects with
 * ProtocolError; a never-acknowledged one is written with the flag too and resolves with
 * `undefined` once written.
 */
export async function issue(via: Issuer, code: number, fields?: RequestFields): Promise<Packet | undefined> {
  if (NEVER_ACKNOWLEDGED.has(code)) {
    await via.send(code, { ...fields, cmdDataBits0: Flags.TRIGGER_CALL_BACK });
    return undefined;
  }
  return via.request(code, fields, { expectOk: true });
}
