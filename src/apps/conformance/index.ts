export { CHECKS, type CheckOutcome, type CheckStatus, type ConformanceCheck } from './checks.js';
export { CheckContext, CheckFailure, CONVENTION_LIMITS, type AxisLimits, type ConformanceTimings, type Findings, type WriteStyle } from './context.js';
export { ProbeConnection, ProbeTimeoutError, type ProbeOptions, type Received } from './probe.js';
export { checkNames, DEFAULT_TIMINGS, runConformance, type CheckResult, type ConformanceOptions, type ConformanceReport } from './runner.js';
export { formatReport, reportJson, resultRow } from './report.js';
