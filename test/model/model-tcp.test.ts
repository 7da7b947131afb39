import { describe } from 'vitest';
import { matrixTests } from './matrix.js';

// Model-based runs against SimulatedMicroscope over loopback TCP: every fault profile ×
// sequenced and lease mode (test/model/profiles.ts).
describe('reliability matrix over loopback TCP', () => {
  matrixTests('tcp');
});
