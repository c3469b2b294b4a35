/**
 * Names shared by the serving constructs, the platform app and the release command. The command
 * takes stack names from the app itself (bin/release-target.ts), so none are derived here.
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

/** The construct id, and stack name suffix, of an environment's platform stack. */
export const PLATFORM_STACK_ID = 'Platform';

/**
 * The construct id, and stack name suffix, of an environment's serving stack: its serving slots and
 * nothing else, which a release updates.
 */
export const SERVING_STACK_ID = 'Serving';

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

/** The variant of a real-time slot that takes a share of its requests besides the champion (A/B). */
export const CHALLENGER_VARIANT = 'challenger';

/** The variant of a real-time slot that receives a copy of a share of its requests, unanswered. */
export const SHADOW_VARIANT = 'shadow';

/**
 * The SSM parameter holding the model package ARN that a variant of a slot (`challenger`,
 * `shadow`) serves, or `none`.
 */
export function variantPointerParameterName(
  environmentName: string,
  slotName: string,
  variant: string,
): string {
  return `/mlops/${environmentName}/serving/${slotName}/variants/${variant}/model-package-arn`;
}

/**
 * The SSM parameter holding a variant's traffic share in whole percent: the share of requests a
 * challenger answers, or the share of requests copied to a shadow.
 */
export function variantWeightParameterName(
  environmentName: string,
  slotName: string,
  variant: string,
): string {
  return `/mlops/${environmentName}/serving/${slotName}/variants/${variant}/weight`;
}

/** The share a variant weight parameter is created with, in percent, until a release writes another. */
export const DEFAULT_VARIANT_WEIGHT_PERCENT = 10;
