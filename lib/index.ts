// Public API of cdk-mlops-maturity. Re-exports only.
export * from './maturity';
export * from './config/environment-config';
export * from './storage/artifact-store';
export * from './workspace/workspace';
export * from './delivery/delivery-pipeline';
export * from './delivery/github-oidc-deploy-role';
export * from './monitoring/platform-monitoring';
export * from './registry/model-registry';
export * from './tracking/experiment-tracking';
export * from './training/builtin-algorithm-image';
export * from './training/pipeline-definition';
export * from './training/training-pipeline';
export * from './tiers/level0-tier';
export * from './tiers/level1-tier';
export * from './platform/platform-stack';
export * from './platform/environment-stage';
export { MlopsValidationError } from './private/errors';
