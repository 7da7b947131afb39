import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests exercise the sources; test/integration/package-import.test.ts checks the built package separately.
    alias: [
      { find: /^flamingo-protocol$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^flamingo-protocol\/sim$/, replacement: fileURLToPath(new URL('./mocks/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/fast-check-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
