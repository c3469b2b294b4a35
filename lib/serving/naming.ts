/**
 * Names shared by the serving constructs, the platform app and the release command, so that the
 * command finds the pointer and the stack that the app deployed.
 */

/** The slot name used when an environment has one serving slot. */
export const DEFAULT_SLOT_NAME = 'default';

/**
 * What an environment or slot name may hold inside the pointer's parameter name: letters, digits,
 * dots, hyphens and underscores, 1 to 64.
 */
export const POINTER_NAME_PART = /^[a-zA-Z0-9_.-]{1,64}$/;

/** The pointer value that means "no model released": the slot then has no endpoint. */
export const NO_MODEL_RELEASED = 'none';

/** The construct id, and stack name suffix, of an environment's stack holding its release pointers. */
export const RELEASE_STACK_ID = 'Release';

/** The construct id, and stack name suffix, of an environment's platform stack (which serves). */
export const PLATFORM_STACK_ID = 'Platform';

/**
 * The SSM parameter holding the model package ARN an environment's serving slot serves, or
 * `none`. The release command writes it; the serving stack reads it on every deployment.
 */
export function releasePointerParameterName(
  environmentName: string,
  slotName: string = DEFAULT_SLOT_NAME,
): string {
  return `/mlops/${environmentName}/serving/${slotName}/model-package-arn`;
}

/** The CloudFormation stack name of an environment's platform stack, as its Stage names it. */
export function platformStackName(environmentName: string): string {
  return `${environmentName}-${PLATFORM_STACK_ID}`;
}

/** The CloudFormation stack name of an environment's release pointer stack. */
export function releaseStackName(environmentName: string): string {
  return `${environmentName}-${RELEASE_STACK_ID}`;
}
