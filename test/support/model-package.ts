// Moved to bin/simulation/model-package.ts, which `npm run simulate` shares with the tests.
export * from '../../bin/simulation/model-package';
