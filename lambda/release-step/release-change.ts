// What an execution of the release workflow asks for, checked once before any environment is
// touched, and the engine request it makes for each environment.
import { describeValue } from '../../lib/private/describe-value';
import { CHALLENGER_VARIANT, NO_MODEL_RELEASED, SHADOW_VARIANT } from '../../lib/serving/naming';
import {
  AnyReleaseRequest,
  PointerRelease,
  ReleaseError,
  ReleaseResult,
  ReleaseTarget,
} from '../shared/release';
import { parseModelPackageArn } from '../shared/release/model-package-arn';

/** A test variant of a serving slot. */
export type VariantName = typeof CHALLENGER_VARIANT | typeof SHADOW_VARIANT;

const VARIANTS: readonly VariantName[] = [CHALLENGER_VARIANT, SHADOW_VARIANT];

/**
 * An execution's input, as the workflow takes it (one of):
 *
 * - `{"modelPackageArn"}`: the champion serves the package (what an approval starts);
 * - `{"modelPackageArn"?, "variant", "weightPercent"?}`: a variant serves the package, and/or takes
 *   that share of the requests (at least one of the two);
 * - `{"promote": true, "variant"?}`: the champion takes the variant's package (default the
 *   challenger's), and the variant serves nothing;
 * - `{"stopVariant"}`: the variant serves nothing;
 * - `{"modelPackageArn", "variant": "shadow", "onlineTrial": true, "weightPercent"?}`: the online
 *   gate's trial: the shadow serves the package although it is still PendingManualApproval (the
 *   only release of a package that is not Approved);
 * - `{"stopVariant": "shadow", "onlineTrial": true}`: the end of that trial: the shadow serves
 *   nothing. Both skip the environments whose target takes no online trials.
 *
 * The release trigger adds `modelPackageGroupName`, `modelPackageVersion`, `approvedAt` and
 * `eventId`, which are recorded and not read.
 */
export interface ReleaseWorkflowExecutionInput {
  readonly modelPackageArn?: string;
  readonly variant?: VariantName;
  readonly weightPercent?: number;
  readonly promote?: true;
  readonly stopVariant?: VariantName;
  readonly onlineTrial?: true;
}

/**
 * The checked input, every field present (null when it does not apply), so that the state machine
 * can pass it on whole and read `description` in its messages whatever the kind.
 */
export interface ReleaseChange {
  /**
   * `trial`: a shadow release of a package pending approval, for the online gate; `endTrial`: the
   * stop of that shadow. The workflow skips the environments that take no online trials for both.
   */
  readonly kind: 'champion' | 'variant' | 'promote' | 'stop' | 'trial' | 'endTrial';
  readonly modelPackageArn: string | null;
  readonly variant: VariantName | null;
  readonly weightPercent: number | null;
  /** What is released, for notifications: "Release of <description> to prod failed: ...". */
  readonly description: string;
}

/** The parameters a target's variant serves from. */
export interface VariantParameters {
  /** The variant's release pointer. */
  readonly pointerName: string;
  /** The variant's traffic share, in whole percent. */
  readonly weightName: string;
}

/** One environment of the workflow, as its definition names it. */
export interface WorkflowTarget extends ReleaseTarget {
  /** The champion's release pointer. */
  readonly pointerName: string;
  /** The variants the environment's slot may offer. */
  readonly variants?: { readonly [variant in VariantName]?: VariantParameters };
}

/** A malformed execution input: the execution fails before anything is read or written. */
export class InvalidReleaseInput extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReleaseInput';
  }
}

// Recorded with the input and not read: by the release trigger with every approval, and by Step
// Functions in the input of an execution that another one started with associateWithParent (the
// online gate's trial releases and stops).
const TRIGGER_FIELDS = [
  'modelPackageGroupName',
  'modelPackageVersion',
  'approvedAt',
  'eventId',
  'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID',
];
const FIELDS = [
  'modelPackageArn',
  'variant',
  'weightPercent',
  'promote',
  'stopVariant',
  'onlineTrial',
  ...TRIGGER_FIELDS,
];

const USAGE =
  'start an execution with {"modelPackageArn": "<version ARN>"} (the champion), ' +
  '{"modelPackageArn"?: "<version ARN>", "variant": "challenger"|"shadow", "weightPercent"?: 0-100}, ' +
  '{"promote": true, "variant"?: "challenger"|"shadow"}, {"stopVariant": "challenger"|"shadow"} or ' +
  '{"modelPackageArn": "<version ARN>", "variant": "shadow", "onlineTrial": true, "weightPercent"?: 0-100} ' +
  'or {"stopVariant": "shadow", "onlineTrial": true}';

/**
 * Checks an execution's input and says what it asks for. Throws InvalidReleaseInput naming the
 * field, the value and the accepted shapes; nothing is read or written before.
 */
export function parseReleaseInput(input: unknown): ReleaseChange {
  const fail = (why: string): never => {
    throw new InvalidReleaseInput(`the execution input ${why}: ${USAGE}; nothing was changed`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail(`is ${describeValue(input)}, not an object`);
  }
  const fields = input as Record<string, unknown>;
  // A misspelt field ("varient") must not turn a variant release into a champion release.
  const unknown = Object.keys(fields).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) {
    fail(`has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}`);
  }
  const variantOf = (key: 'variant' | 'stopVariant'): VariantName | null => {
    const value = fields[key];
    if (value === undefined) {
      return null;
    }
    if (!VARIANTS.includes(value as VariantName)) {
      fail(`has ${key} ${describeValue(value)}, which is not 'challenger' or 'shadow'`);
    }
    return value as VariantName;
  };
  const variant = variantOf('variant');
  const stopVariant = variantOf('stopVariant');
  const given = (key: string) => fields[key] !== undefined;
  let modelPackageArn: string | null = null;
  if (given('modelPackageArn')) {
    try {
      modelPackageArn = parseModelPackageArn(fields.modelPackageArn).arn;
    } catch (error) {
      fail(`has an invalid modelPackageArn (${(error as Error).message})`);
    }
  }
  let weightPercent: number | null = null;
  if (given('weightPercent')) {
    const weight = fields.weightPercent;
    if (!(typeof weight === 'number' && Number.isInteger(weight) && weight >= 0 && weight <= 100)) {
      fail(`has weightPercent ${describeValue(weight)}, not a whole number from 0 to 100`);
    }
    weightPercent = weight as number;
  }
  const others = (allowed: string[]) =>
    FIELDS.filter((k) => !TRIGGER_FIELDS.includes(k) && !allowed.includes(k) && given(k));

  if (given('onlineTrial')) {
    if (fields.onlineTrial !== true) {
      fail(`has onlineTrial ${describeValue(fields.onlineTrial)}: give true, or leave it out`);
    }
    if (stopVariant === SHADOW_VARIANT && variant === null) {
      const extra = others(['onlineTrial', 'stopVariant']);
      if (extra.length > 0) {
        fail(
          `ends an online trial, and gives ${extra.join(' and ')} too: the end of a trial takes nothing else`,
        );
      }
      return {
        kind: 'endTrial',
        modelPackageArn: null,
        variant: SHADOW_VARIANT,
        weightPercent: null,
        description: 'no model as the shadow (online trial ends)',
      };
    }
    // The one release of a package that is not Approved: the shadow answers no request.
    if (variant !== SHADOW_VARIANT || modelPackageArn === null) {
      fail(
        `asks for an online trial of ${variant === null ? 'no variant' : `the ${variant}`}` +
          `${modelPackageArn === null ? ' and names no modelPackageArn' : ''}: a trial releases a package to the shadow only`,
      );
    }
    const extra = others(['onlineTrial', 'variant', 'modelPackageArn', 'weightPercent']);
    if (extra.length > 0) {
      fail(`asks for an online trial, and gives ${extra.join(' and ')} too`);
    }
    const share = weightPercent === null ? '' : `, at ${weightPercent}% of the requests`;
    return {
      kind: 'trial',
      modelPackageArn,
      variant: SHADOW_VARIANT,
      weightPercent,
      description: `${modelPackageArn} as the shadow (online trial, pending approval)${share}`,
    };
  }
  if (given('promote')) {
    if (fields.promote !== true) {
      fail(`has promote ${describeValue(fields.promote)}: give true, or leave it out`);
    }
    const extra = others(['promote', 'variant']);
    if (extra.length > 0) {
      fail(`promotes, and gives ${extra.join(' and ')} too: a promotion takes the variant's own package`);
    }
    const from = variant ?? CHALLENGER_VARIANT;
    return {
      kind: 'promote',
      modelPackageArn: null,
      variant: from,
      weightPercent: null,
      description: `the ${from}'s package as the champion`,
    };
  }
  if (stopVariant !== null) {
    const extra = others(['stopVariant']);
    if (extra.length > 0) {
      fail(`stops the ${stopVariant}, and gives ${extra.join(' and ')} too: a stop takes nothing else`);
    }
    return {
      kind: 'stop',
      modelPackageArn: null,
      variant: stopVariant,
      weightPercent: null,
      description: `no model as the ${stopVariant} (its test stops)`,
    };
  }
  if (variant !== null) {
    if (modelPackageArn === null && weightPercent === null) {
      fail(`names the ${variant} but neither modelPackageArn nor weightPercent`);
    }
    const share = weightPercent === null ? '' : `${weightPercent}% of the requests`;
    return {
      kind: 'variant',
      modelPackageArn,
      variant,
      weightPercent,
      description:
        modelPackageArn === null
          ? `a share of ${share} for the ${variant}`
          : `${modelPackageArn} as the ${variant}${share ? `, at ${share}` : ''}`,
    };
  }
  if (weightPercent !== null) {
    fail("has weightPercent but no variant: a weight is a variant's share, the champion answers the rest");
  }
  if (modelPackageArn === null) {
    fail('names no modelPackageArn');
  }
  return {
    kind: 'champion',
    modelPackageArn,
    variant: null,
    weightPercent: null,
    description: modelPackageArn!,
  };
}

/** The target fields the engine takes, without the workflow's pointer names. */
function engineTarget(target: WorkflowTarget): ReleaseTarget {
  const { stackName, region, modelPackageGroupName, account, cloudFormationRoleArn, deployCommand } = target;
  return { stackName, region, modelPackageGroupName, account, cloudFormationRoleArn, deployCommand };
}

function variantOf(target: WorkflowTarget, variant: VariantName, stackName: string): VariantParameters {
  const parameters = target.variants?.[variant];
  if (!parameters) {
    throw new ReleaseError(
      'unknown-variant',
      `the serving slot in stack ${stackName} offers no ${variant} variant to the release workflow: give its ` +
        `target a ${variant} (ReleaseWorkflowTarget.variants); nothing was changed`,
    );
  }
  return parameters;
}

/** The engine request that applies `change` to one environment. */
export function changeRequest(target: WorkflowTarget, change: ReleaseChange): AnyReleaseRequest {
  if (change.kind === 'champion') {
    return {
      ...engineTarget(target),
      pointerName: target.pointerName,
      modelPackageArn: change.modelPackageArn!,
    };
  }
  const variant = variantOf(target, change.variant!, target.stackName);
  const pointers: PointerRelease[] = [];
  if (change.kind === 'promote') {
    pointers.push(
      { pointerName: target.pointerName, copyFrom: variant.pointerName },
      { pointerName: variant.pointerName, modelPackageArn: NO_MODEL_RELEASED },
    );
  } else if (change.kind === 'stop' || change.kind === 'endTrial') {
    pointers.push({ pointerName: variant.pointerName, modelPackageArn: NO_MODEL_RELEASED });
  } else {
    if (change.modelPackageArn !== null) {
      pointers.push({
        pointerName: variant.pointerName,
        modelPackageArn: change.modelPackageArn,
        // Only a trial's shadow pointer may take a package pending approval (parseReleaseInput).
        ...(change.kind === 'trial' && change.variant === SHADOW_VARIANT
          ? { pendingApprovalTrial: true }
          : {}),
      });
    }
    if (change.weightPercent !== null) {
      pointers.push({ pointerName: variant.weightName, weightPercent: change.weightPercent });
    }
  }
  return { ...engineTarget(target), pointers };
}

/**
 * The engine request that gives an environment back what it served before a release (the
 * release's result): every pointer that release changed, written back.
 */
export function restoreRequest(target: WorkflowTarget, result: ReleaseResult): AnyReleaseRequest {
  if (!result.pointers) {
    return { ...engineTarget(target), pointerName: target.pointerName, modelPackageArn: result.previous };
  }
  const weights = new Set(Object.values(target.variants ?? {}).map((v) => v.weightName));
  const changed = result.pointers.filter((p) => p.previous !== p.current);
  const pointers = (changed.length > 0 ? changed : result.pointers).map(
    ({ pointerName, previous }): PointerRelease =>
      weights.has(pointerName)
        ? { pointerName, weightPercent: Number(previous) }
        : { pointerName, modelPackageArn: previous },
  );
  return { ...engineTarget(target), pointers };
}
