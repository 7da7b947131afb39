import { formatMs, textTable } from '../../format/format.js';
import type { CheckResult, ConformanceReport } from './runner.js';

const WORD: Record<CheckResult['status'], string> = { pass: 'PASS', fail: 'FAIL', info: 'INFO' };

/** One table row of a result: check, PASS/FAIL/INFO, time, reason. */
export function resultRow(result: CheckResult): string[] {
  return [result.name, WORD[result.status], formatMs(result.durationMs), result.reason];
}

/**
 * The report as a table (check, result, time, reason) with a verdict line under it,
 * e.g. `17 passed, 0 failed, 1 info in 1.4 s against 127.0.0.1:53717`.
 */
export function formatReport(report: ConformanceReport): string {
  const table = textTable(['check', 'result', 'time', 'reason'], report.results.map(resultRow));
  const verdict = `${report.passed} passed, ${report.failed} failed, ${report.info} info in ${formatMs(report.durationMs)} against ${report.server}`;
  return `${table}\n\n${verdict}${report.ok ? '' : ' — NOT CONFORMANT'}\n`;
}

/** The report as JSON (times rounded to 0.1 ms), for CI and tools. */
export function reportJson(report: ConformanceReport): string {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return `${JSON.stringify(
    { ...report, durationMs: round(report.durationMs), results: report.results.map((r) => ({ ...r, durationMs: round(r.durationMs) })) },
    null,
    2,
  )}\n`;
}
