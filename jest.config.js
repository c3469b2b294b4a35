/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type-checking happens once in `npm test` (tsc --noEmit); per-file transpilation keeps jest fast.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 120000,
  // One worker per core: jest's default leaves one core idle, and the suite is CPU-bound (synthesis,
  // cdk-nag, cfn-lint, moto); on the 2-core reference machine two workers take 294 s instead of 441 s.
  maxWorkers: '100%',
};
