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
  // one test file per core (jest's default leaves one free): most files wait on child processes much of the time
  maxWorkers: '100%',
  // the CLI and worker threads run dist/: build it (incrementally) before the tests
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
