import { dataText } from '../../protocol/codec.js';
import type { CommandInfo } from '../../mocks/simulated-microscope.js';

/** One log line: connection, command, the fields that are set, and what the reply said. */
export function formatCommandLine(info: CommandInfo): string {
  const p = info.packet;
  const parts = [`#${info.connectionId}`, info.name];
  if (p.int32Data0 !== 0) parts.push(`i0=${p.int32Data0}`);
  if (p.int32Data1 !== 0) parts.push(`i1=${p.int32Data1}`);
  if (p.int32Data2 !== 0) parts.push(`i2=${p.int32Data2}`);
  if (p.value !== 0) parts.push(`value=${p.value}`);
  const text = dataText(p);
  if (text !== '') parts.push(`data=${JSON.stringify(text)}`);
  if (p.addDataBytes > 0) parts.push(`payload=${p.addDataBytes}B`);
  const seq = p.clientId || p.hardwareId || p.subsystemId;
  if (seq !== 0) parts.push(`seq=${seq}`);
  let outcome: string;
  if (info.reply === undefined) outcome = 'no reply';
  else if (info.dropped) outcome = `status ${info.reply.status} (dropped by fault)`;
  else outcome = `status ${info.reply.status}`;
  return `${parts.join(' ')} -> ${outcome}`;
}
