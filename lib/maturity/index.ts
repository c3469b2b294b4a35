export * from './maturity-level';
export * from './capability';
export * from './always-on';
export * from './maturity-contract';
export * from './maturity-report';
export type { ModelSummary } from './model-summary';
