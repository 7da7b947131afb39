import { dataText } from '../../../protocol/codec.js';
import type { Packet } from '../../../protocol/packet.js';

/** How one replayed request came out. */
export interface RequestComparison {
  /** 1-based position among the capture's requests. */
  index: number;
  /** The recorded connection it belongs to. */
  conn: number;
  name: string;
  outcome: 'same' | 'differs' | 'no reply' | 'unexpected reply';
  /** `field: recorded → now`, one per differing field. */
  differences: string[];
}

const FIELDS = ['status', 'hardwareId', 'subsystemId', 'clientId', 'int32Data0', 'int32Data1', 'int32Data2', 'cmdDataBits0', 'value', 'addDataBytes'] as const;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Every field where `now` differs from `recorded`, in words. Pure. */
export function replyDifferences(recorded: Packet, now: Packet): string[] {
  const out: string[] = [];
  if (recorded.code !== now.code) out.push(`code: ${recorded.code} → ${now.code}`);
  for (const f of FIELDS) {
    if (!Object.is(recorded[f], now[f])) out.push(`${f}: ${recorded[f]} → ${now[f]}`);
  }
  if (!sameBytes(recorded.data, now.data)) out.push(`data: ${JSON.stringify(dataText(recorded))} → ${JSON.stringify(dataText(now))}`);
  if (!sameBytes(recorded.payload, now.payload)) out.push(`payload: ${recorded.payload?.length ?? 0} bytes differ from the ${now.payload?.length ?? 0} now`);
  return out;
}

/** Compare one request's recorded reply (or none) with the reply now (or none). */
export function compareReply(index: number, conn: number, name: string, recorded: Packet | undefined, now: Packet | undefined): RequestComparison {
  if (recorded === undefined && now === undefined) return { index, conn, name, outcome: 'same', differences: [] };
  if (recorded === undefined) return { index, conn, name, outcome: 'unexpected reply', differences: [`status now ${now!.status}; the recording has no reply`] };
  if (now === undefined) return { index, conn, name, outcome: 'no reply', differences: [`recorded status ${recorded.status}; nothing now`] };
  const differences = replyDifferences(recorded, now);
  return { index, conn, name, outcome: differences.length === 0 ? 'same' : 'differs', differences };
}

/** One report line. */
export function formatComparison(c: RequestComparison): string {
  const head = `#${c.index} (conn ${c.conn}) ${c.name}: ${c.outcome}`;
  return c.differences.length === 0 ? head : `${head}: ${c.differences.join('; ')}`;
}
