// The testing kit: `import { ... } from 'cdk-mlops-maturity/testing'`. Re-exports only. Not loaded by
// the main entry point, and it needs no test framework at run time.
export * from './errors';
export * from './normalized-template';
export * from './maturity-assertions';
export * from './cost-assertions';
export * from './lint-checks';
export * from './conditions';
