// The audit trail of a model: what each environment serves, since when, which pipeline execution
// produced it, what triggered that execution and the approval gate's numbers, read from the records
// the loop leaves (SSM parameter history, the model registry, SageMaker Pipelines). Used by
// `npm run audit` (bin/audit.ts).
export * from './format';
export * from './reader';
export * from './records';
