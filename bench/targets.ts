import { printTable } from './suite.js';

/** A target a named bench figure must meet (issue 14 and earlier issues' targets). */
interface Target {
  readonly key: string;
  readonly at: 'least' | 'most';
  readonly bound: number;
  readonly what: string;
}

/** The targets `npm run bench` checks; the README's benchmark tables quote the same keys. */
const TARGETS: readonly Target[] = [
  { key: 'codec_decode_vs_dataview', at: 'least', bound: 0.7, what: 'decodePacket vs a DataView floor' },
  { key: 'deframer_64k_vs_dataview', at: 'least', bound: 0.7, what: 'Deframer, 64 KiB chunks, vs the floor' },
  { key: 'sim_age_ratio', at: 'least', bound: 0.85, what: 'sim: last 50 k of 1 M requests / first 50 k' },
  { key: 'sim_vs_echo_serial', at: 'least', bound: 0.75, what: 'sim vs a bare echo process, serial' },
  { key: 'sim_vs_echo_pipelined', at: 'least', bound: 0.65, what: 'sim vs a bare echo process, 32 in flight' },
  { key: 'client_rtt_ratio', at: 'most', bound: 1.15, what: 'client round trip, sequenced, vs raw node:net' },
  { key: 'client_lease_rtt_ratio', at: 'most', bound: 1.2, what: 'client round trip, lease, vs raw node:net' },
  { key: 'client_pipelined_ratio', at: 'least', bound: 0.85, what: 'client 32 in flight vs raw pipelined' },
  { key: 'gateway_vs_pipe_ratio', at: 'most', bound: 1.15, what: 'gateway vs a bare byte pipe, serial' },
];

/**
 * Print every target whose figure this run measured, met or not, and return how many were
 * missed (the suites that were not run are left out).
 */
export function reportTargets(figures: Readonly<Record<string, number>>): number {
  const rows: string[][] = [];
  let missed = 0;
  for (const t of TARGETS) {
    const value = figures[t.key];
    if (value === undefined) continue;
    const met = t.at === 'least' ? value >= t.bound : value <= t.bound;
    if (!met) missed++;
    rows.push([t.what, t.key, String(value), `${t.at === 'least' ? '≥' : '≤'} ${t.bound}`, met ? 'met' : 'MISSED']);
  }
  if (rows.length === 0) return 0;
  console.log('\n== targets ==');
  printTable(['figure', 'key', 'value', 'target', ''], rows);
  console.log(`${rows.length - missed} of ${rows.length} targets met`);
  return missed;
}
