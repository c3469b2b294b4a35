/** Why a release was refused or failed. */
export type ReleaseErrorCode =
  | 'invalid-request'
  | 'unknown-environment'
  | 'model-required'
  | 'unknown-model'
  | 'no-serving-slot'
  | 'invalid-model-package-arn'
  | 'wrong-model-group'
  | 'region-mismatch'
  | 'account-mismatch'
  | 'model-package-not-found'
  | 'model-package-not-ready'
  | 'model-package-not-approved'
  | 'not-deployed'
  | 'pointer-not-read'
  | 'stack-busy'
  | 'stack-not-updatable'
  | 'update-failed'
  | 'unknown-variant'
  | 'variant-not-released'
  | 'aws-error';

/**
 * The error a release throws. The message names the input, the value and the fix; after a failed
 * stack update it also says whether the pointer was restored.
 */
export class ReleaseError extends Error {
  /** Set when the release wrote the pointer: whether it was written back to its previous value. */
  public readonly pointerRestored?: boolean;

  constructor(
    public readonly code: ReleaseErrorCode,
    message: string,
    options: { cause?: unknown; pointerRestored?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReleaseError';
    this.pointerRestored = options.pointerRestored;
  }
}

/** A failed AWS call before anything was written, with the IAM action to allow when it was denied. */
export function awsFailure(step: string, action: string, error: unknown): ReleaseError {
  const denied = isAwsError(error, 'AccessDeniedException') || isAwsError(error, 'AccessDenied');
  const fix = denied
    ? `allow ${action} to the caller (see docs/release.md, IAM permissions)`
    : 'check your credentials, network and region, and run the release again';
  return new ReleaseError(
    'aws-error',
    `${step} failed: ${describeAwsError(error)}: ${fix}; nothing was changed`,
    {
      cause: error,
    },
  );
}

/** The AWS error behind a ReleaseError, or the error itself. */
export function errorCause(error: unknown): unknown {
  return error instanceof ReleaseError && error.cause !== undefined ? error.cause : error;
}

export function isAwsError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `<name>: <message>`, without a final period, for use inside a sentence. */
export function describeAwsError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\.$/, '');
}
