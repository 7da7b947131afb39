import { afterEach } from 'vitest';

/** Cleanups the test file runs after each test (newest first). */
export type Cleanups = (() => unknown)[];

/**
 * The cleanup list of one test file: what a test pushes on it runs after that test, newest
 * first, even when the test failed half-way, so nothing it opened outlives it. Call once at
 * the file's top level.
 */
export function cleanedUpAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}
