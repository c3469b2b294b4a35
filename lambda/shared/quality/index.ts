// The model quality engine: captured predictions joined with ground-truth labels by inference id,
// regression or binary classification metrics, and counters for what did not join. Pure
// TypeScript, no AWS SDK: the model quality job's handler reads S3 objects into it.
export * from './hours';
export * from './join';
export * from './lines';
export * from './records';
export * from './report';
