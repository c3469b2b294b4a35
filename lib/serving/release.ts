// The release engine lives in lambda/shared/release: lib/ holds constructs, and the engine runs in
// Lambda handlers too. This module only forwards it while lib/index.ts still re-exports it.
export {
  checkRelease,
  RELEASE_STACK_CAPABILITIES,
  ReleaseError,
  releaseModel,
  startRelease,
  type ReleaseDependencies,
  type ReleaseErrorCode,
  type ReleaseFailure,
  type ReleaseRequest,
  type ReleaseResult,
  type ReleaseStep,
  type ReleaseToken,
} from '../../lambda/shared/release';
