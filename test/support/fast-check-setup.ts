import fc from 'fast-check';

// A fixed seed makes CI reproducible; FC_SEED and FC_NUM_RUNS widen the search locally
// (e.g. FC_NUM_RUNS=10000 npm test). A failure prints its seed and path to replay it.
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261124;
const numRuns = process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : 100;
fc.configureGlobal({ seed, numRuns, endOnFailure: true });
