// The harness moved to bin/simulation/moto-server.ts, which `npm run simulate` shares with the tests.
export * from '../../bin/simulation/moto-server';
