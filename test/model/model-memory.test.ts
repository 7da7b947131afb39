import { describe } from 'vitest';
import { matrixTests } from './matrix.js';

// Model-based runs against SimulatedMicroscope over the in-memory transport: every fault
// profile × sequenced and lease mode (test/model/profiles.ts).
describe('reliability matrix over the memory transport', () => {
  matrixTests('memory');
});
