/** Named figures a bench suite reports (keys are stable: scripts and notes quote them). */
export type BenchFigures = Record<string, number>;

/** One bench suite: prints its own table, returns its figures for the runner's JSON line. */
export interface BenchSuite {
  readonly name: string;
  run(): BenchFigures | Promise<BenchFigures>;
}

/** Round to a few significant decimals for the JSON line. */
export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Operations per second of `body` (which performs `opsPerCall` operations per call): calls
 * it repeatedly for about `ms` milliseconds and divides.
 */
export function throughput(body: () => void, opsPerCall: number, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    body();
    calls++;
    now = performance.now();
  }
  return (calls * opsPerCall * 1000) / (now - start);
}

/** Print rows as an aligned text table. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
