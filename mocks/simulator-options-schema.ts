import { SIZE_RULE, TIMER_RULE, validateOptions } from '../src/options-schema.js';
import type { OptionsSchema } from '../src/options-schema.js';

/**
 * Every option of `new SimulatedMicroscope(...)` and its range (spec/options.md): checked
 * in the constructor before anything is created; the `flamingo sim` command line parses
 * its numbers with the same rules.
 */
export const SIMULATOR_OPTIONS_SCHEMA = {
  echoSequence: { kind: 'boolean' },
  settingsFraming: { kind: 'enum', values: ['counted', 'bare'] },
  staleIdlePush: { kind: 'boolean' },
  stackComplete: { kind: 'boolean' },
  seed: { kind: 'integer', min: 0, max: 0xffffffff },
  // Text is parsed by the constructor itself (FaultSpecError names the bad item).
  faults: { kind: 'typeof', types: ['object', 'string', 'function'], what: 'a fault spec object, its text, or a function of the connection id' },
  timeScale: { kind: 'number', min: 0, max: 1_000_000, exclusiveMin: true },
  workflowDurationMs: TIMER_RULE,
  settingsText: { kind: 'string' },
  maxPayloadBytes: SIZE_RULE,
  // 0: record nothing (flamingo sim; spec/protocol.md §Records, log and cost per packet).
  maxRecords: { kind: 'integer', min: 0, max: 100_000_000 },
  maxOutgoingBytes: SIZE_RULE,
  imageWidth: { kind: 'integer', min: 1, max: 65535 },
  imageHeight: { kind: 'integer', min: 1, max: 65535 },
  pixelSizeMm: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
  liveFrameWidth: { kind: 'integer', min: 1, max: 8192 },
  liveFrameHeight: { kind: 'integer', min: 1, max: 8192 },
} as const satisfies OptionsSchema;

/** Check the simulator's options; throws ArgumentError. */
export function validateSimulatorOptions(options: unknown): void {
  validateOptions(SIMULATOR_OPTIONS_SCHEMA, options, 'SimulatedMicroscope');
}
