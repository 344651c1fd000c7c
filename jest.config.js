import { availableParallelism } from 'node:os';

/** Jest in ESM mode over the TypeScript sources (see DEVELOPERS.md). */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 60000,
  // one test file per core and one more (jest's default leaves a core free): files wait on child
  // processes (the CLI, Python, Slurm) much of the time; 2 cores: 3 files at once, BENCHMARKS.md
  maxWorkers: availableParallelism() + 1,
  // the CLI and worker threads run dist/: build it (incrementally) before the tests
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
