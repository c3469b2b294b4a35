// The release engine, shared by the release command (bin/release.ts) and the Lambda handlers
// that drive a release step by step.
export * from './engine';
export { ReleaseError, type ReleaseErrorCode } from './errors';
export { type ModelPackageVersionArn, parseModelPackageArn, sameGroup } from './model-package-arn';
