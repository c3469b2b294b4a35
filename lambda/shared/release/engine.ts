import { randomUUID } from 'node:crypto';
import {
  CancelUpdateStackCommand,
  Capability,
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  Stack as CloudFormationStack,
  StackEvent,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describeValue } from '../../../lib/private/describe-value';
import { NO_MODEL_RELEASED } from '../../../lib/serving/naming';
import {
  awsFailure,
  describeAwsError,
  errorCause,
  errorMessage,
  isAwsError,
  ReleaseError,
  ReleaseErrorCode,
} from './errors';
import {
  MODEL_PACKAGE_GROUP_NAME,
  parseModelPackageArn,
  REGION_PATTERN,
  sameGroup,
} from './model-package-arn';

/**
 * Where to release: the serving stack and how to check and deploy it. Nothing here refers to the
 * app that defined the stack, so a CLI, a Lambda handler or a state machine can name any serving slot.
 */
export interface ReleaseTarget {
  /** The CloudFormation stack that serves: it reads the pointer through an SSM-typed stack parameter. */
  readonly stackName: string;
  /** The region of the stack and the pointer; the package must be in it too. */
  readonly region: string;
  /**
   * The model package group the slot serves: a package of another group is refused before anything
   * is read or written. Compared case-insensitively (ARNs carry the group's name in lower case).
   *
   * @default - a package of any group is released
   */
  readonly modelPackageGroupName?: string;
  /**
   * The stack's account. When given, a stack found under another account (credentials for the wrong
   * account) is refused before anything is written.
   *
   * @default - the account of the credentials
   */
  readonly account?: string;
  /**
   * The CloudFormation service role the stack is updated with (`RoleARN` on UpdateStack): a role
   * that can manage only serving resources (docs/adr/0006), so that the release can change nothing
   * else. The stack may have been deployed with another role: `cdk deploy` deploys it with CDK's
   * execution role, and each release then updates it through this one. CloudFormation keeps the
   * role of the last update for the stack's later operations, a rollback included.
   *
   * @default - the stack's own role, whatever it is (the CLI, with an operator's credentials)
   */
  readonly cloudFormationRoleArn?: string;
  /**
   * The command that deploys the stack, quoted by the messages that ask for a deployment, e.g.
   * `npx cdk deploy 'dev/*'`.
   *
   * @default - the messages ask to deploy the stack without naming a command
   */
  readonly deployCommand?: string;
}

/**
 * What to release where: a model package version, and the serving stack with the release pointer
 * it reads.
 */
export interface ReleaseRequest extends ReleaseTarget {
  /** The model package version to serve: `arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>`. */
  readonly modelPackageArn: string;
  /** The release pointer: the SSM String parameter naming the model package the stack serves, or `none`. */
  readonly pointerName: string;
  /** A one-pointer release names no `pointers`. */
  readonly pointers?: undefined;
}

/**
 * One pointer of a release of several: what to write to it, exactly one of `modelPackageArn`,
 * `weightPercent` and `copyFrom`.
 */
export interface PointerRelease {
  /** The SSM parameter, which the stack reads through an SSM-typed stack parameter. */
  readonly pointerName: string;
  /** A model package version ARN to serve, or `none` to serve nothing from this pointer (stop a variant). */
  readonly modelPackageArn?: string;
  /** A variant's traffic share: a whole percentage from 0 to 100. */
  readonly weightPercent?: number;
  /**
   * Another pointer whose model package this one takes, as it is before the release (promotion:
   * the champion's pointer takes the challenger's package). It must name a package.
   */
  readonly copyFrom?: string;
  /**
   * Let `modelPackageArn` still be PendingManualApproval, not only Approved: for the online gate's
   * trial of a challenger as a slot's shadow variant only, which answers no request. The release
   * workflow sets it on the shadow's pointer for an `onlineTrial` input and nowhere else; a
   * Rejected package is refused all the same, and no other pointer may take a pending package
   * (a promotion checks the shadow's package again, as Approved).
   *
   * @default false
   */
  readonly pendingApprovalTrial?: boolean;
}

/**
 * Several pointers of one serving stack released in one stack update, e.g. a challenger's
 * package and its weight, or a promotion (the champion takes the challenger's package, the
 * challenger's pointer becomes `none`). Every pointer written is restored if the update fails.
 */
export interface PointersReleaseRequest extends ReleaseTarget {
  /** The pointers, in the order they are written: 1 to 10, each named once. */
  readonly pointers: readonly PointerRelease[];
  readonly modelPackageArn?: undefined;
  readonly pointerName?: undefined;
}

/** A release of one pointer (the request shape of the release workflow) or of several. */
export type AnyReleaseRequest = ReleaseRequest | PointersReleaseRequest;

/** One pointer of a release: its value before, the value written, and the value a failed update writes back. */
export interface PointerState {
  readonly pointerName: string;
  /** The pointer's value before the release. */
  readonly previous: string;
  /** The value the release writes (or found written). */
  readonly current: string;
  /** The value a failed update writes back: the one the stack keeps serving. */
  readonly restoreTo: string;
}

/** The AWS clients a release uses, all for the target's region, and how it reports and waits. */
export interface ReleaseDependencies {
  readonly ssm: SSMClient;
  readonly sageMaker: SageMakerClient;
  readonly cloudFormation: CloudFormationClient;
  /**
   * Receives one line per step.
   *
   * @default - progress is not reported
   */
  readonly log?: (line: string) => void;
  /**
   * How often the stack's status is read while it updates. `startRelease` records it in the token:
   * each `checkRelease` counts as one interval.
   *
   * @default 15000
   */
  readonly pollIntervalMs?: number;
  /**
   * How long the stack update may take, counted in poll intervals, before the release cancels it
   * and restores the pointer.
   *
   * @default 3600000 (60 minutes)
   */
  readonly timeoutMs?: number;
  /**
   * Waits between polls (`releaseModel` only; a state machine waits between `checkRelease` calls).
   *
   * @default - a timer
   */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The outcome of a release that did not fail. */
export interface ReleaseResult {
  /** `released`: the pointer now names the package; `unchanged`: it already did, nothing was done. */
  readonly status: 'released' | 'unchanged';
  /** The pointer's value before the release: a model package ARN or `none`. */
  readonly previous: string;
  /** The pointer's value now: the released model package ARN. */
  readonly current: string;
  readonly pointerName: string;
  readonly stackName: string;
  /** The stack's status at the end, e.g. `UPDATE_COMPLETE`; absent when the stack was not updated. */
  readonly stackStatus?: string;
  /** Whether CloudFormation changed the stack (false for `unchanged` and for "No updates are to be performed"). */
  readonly stackUpdated: boolean;
  /**
   * Each pointer of a release of several (`PointersReleaseRequest`): its value before and now. The
   * fields above are then those of the first pointer.
   */
  readonly pointers?: ReadonlyArray<Omit<PointerState, 'restoreTo'>>;
}

/**
 * A release whose stack update is running: everything `checkRelease` needs, as plain JSON, so
 * that each check can run in its own Lambda invocation.
 */
export interface ReleaseToken<R extends AnyReleaseRequest = ReleaseRequest> {
  /** The request, as checked (ARNs trimmed). */
  readonly request: R;
  /** The pointer's value before the release. */
  readonly previous: string;
  /** The value a failed update writes back: the one the stack keeps serving. */
  readonly restoreTo: string;
  /** The update's client request token, which marks its stack events. */
  readonly clientRequestToken: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  /** Poll intervals waited so far, in milliseconds. */
  readonly waitedMs: number;
  /** The stack status the last check read; empty before the first. */
  readonly lastStatus: string;
  /** Each pointer of a release of several; `previous` and `restoreTo` above are the first one's. */
  readonly pointers?: readonly PointerState[];
}

/** One step of a release: its update still runs, it is done, or it failed (and the pointer was restored, if possible). */
export type ReleaseStep<R extends AnyReleaseRequest = ReleaseRequest> =
  | { readonly status: 'updating'; readonly token: ReleaseToken<R> }
  | { readonly status: 'done'; readonly result: ReleaseResult }
  | { readonly status: 'failed'; readonly failure: ReleaseFailure };

/** A release whose stack update failed, rolled back or timed out. */
export interface ReleaseFailure {
  readonly code: Extract<ReleaseErrorCode, 'update-failed'>;
  /** What happened, the first failed resource, and whether the pointer was restored. */
  readonly message: string;
  /** Whether the pointer was written back to the value the stack serves. */
  readonly pointerRestored: boolean;
}

/** The capabilities a CDK-synthesized stack may need: IAM roles with or without names, and macros. */
export const RELEASE_STACK_CAPABILITIES: Capability[] = [
  'CAPABILITY_IAM',
  'CAPABILITY_NAMED_IAM',
  'CAPABILITY_AUTO_EXPAND',
];

const DEFAULT_POLL_INTERVAL_MS = 15_000;
const DEFAULT_TIMEOUT_MS = 60 * 60_000;
// States from which UpdateStack is accepted.
const UPDATABLE = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
]);
// After these the new resources are in service and only old ones are being removed: the update
// can no longer roll back, so the release has succeeded.
const SUCCEEDED = new Set(['UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']);

/**
 * Releases a model package version to a serving stack (or several pointers of it, in one update):
 * `startRelease`, then `checkRelease` every poll interval until the update ends. Throws a
 * ReleaseError when the release is refused (nothing written) or the update fails (the pointers
 * restored, see `pointerRestored`).
 */
export async function releaseModel(
  request: AnyReleaseRequest,
  deps: ReleaseDependencies,
): Promise<ReleaseResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let step: ReleaseStep<AnyReleaseRequest> = await startRelease<AnyReleaseRequest>(request, deps);
  while (step.status === 'updating') {
    // Wait first: the update has just been accepted, so there is nothing to read yet.
    await sleep(step.token.pollIntervalMs);
    step = await checkRelease(step.token, deps);
  }
  if (step.status === 'failed') {
    throw new ReleaseError(step.failure.code, step.failure.message, {
      pointerRestored: step.failure.pointerRestored,
    });
  }
  return step.result;
}

/** One pointer to write, as checked: a model package ARN, `none`, a weight, or another pointer's package. */
interface PointerPlan {
  readonly pointerName: string;
  /** The value to write; undefined for `copyFrom` until the source pointer is read. */
  readonly value?: string;
  readonly copyFrom?: string;
  readonly kind: 'model-package' | 'weight' | 'copy';
  /** The package may be PendingManualApproval (`PointerRelease.pendingApprovalTrial`). */
  readonly trial?: boolean;
}

/**
 * Checks the request, the packages (exist, Completed, Approved), the release pointers and the
 * stack (deployed, reads every pointer, not busy); only then writes the pointers and updates the
 * stack with its previous template and parameters, which makes CloudFormation read them again.
 *
 * Returns `done` when there is nothing to update, else `updating` with the token to pass to
 * `checkRelease` after one poll interval. Throws a ReleaseError when the release is refused
 * (nothing was written) or CloudFormation refuses the update (the pointers were restored).
 */
export async function startRelease<R extends AnyReleaseRequest>(
  request: R,
  deps: ReleaseDependencies,
): Promise<Extract<ReleaseStep<R>, { status: 'updating' | 'done' }>> {
  const { target, plans } = checkRequest(request);
  const several = target.pointers !== undefined;
  const log = deps.log ?? (() => undefined);
  const { stackName } = target;
  log(
    several
      ? `Releasing to stack ${stackName} (pointers ${plans.map((p) => p.pointerName).join(', ')}, region ${target.region})`
      : `Releasing ${plans[0].value} to stack ${stackName} (pointer ${plans[0].pointerName}, region ${target.region})`,
  );

  const checked = new Set<string>();
  const checkPackage = async (arn: string, trial = false) => {
    const key = `${arn} ${trial}`;
    if (!checked.has(key)) {
      checked.add(key);
      const approval = await checkModelPackage(deps.sageMaker, arn, trial);
      log(`Model package ${arn} exists and is ${approval}${trial ? ' (an online trial as the shadow)' : ''}`);
    }
  };
  for (const plan of plans) {
    if (plan.kind === 'model-package' && plan.value !== NO_MODEL_RELEASED) {
      await checkPackage(plan.value!, plan.trial);
    }
  }

  const previous = new Map<string, string>();
  for (const name of new Set(plans.flatMap((p) => [p.pointerName, ...(p.copyFrom ? [p.copyFrom] : [])]))) {
    previous.set(name, await readPointer(deps.ssm, target, name));
  }
  const resolved: Array<{ readonly pointerName: string; readonly value: string }> = [];
  for (const plan of plans) {
    if (plan.kind !== 'copy') {
      resolved.push({ pointerName: plan.pointerName, value: plan.value! });
      continue;
    }
    const source = previous.get(plan.copyFrom!)!;
    if (source === NO_MODEL_RELEASED) {
      throw new ReleaseError(
        'variant-not-released',
        `pointer ${plan.copyFrom} names no model package (${NO_MODEL_RELEASED}), so ${plan.pointerName} has nothing ` +
          `to take from it: release a package to ${plan.copyFrom} first; nothing was changed`,
      );
    }
    const arn = checkPackageArn(target, plan.pointerName, source);
    await checkPackage(arn);
    resolved.push({ pointerName: plan.pointerName, value: arn });
  }

  const stack = await describeStack(deps.cloudFormation, target);
  checkAccount(stack, target);
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (status === 'REVIEW_IN_PROGRESS') {
    throw new ReleaseError(
      'not-deployed',
      `stack ${stackName} is ${status}: it has a change set but was never deployed; ${deployFirst(target)}`,
    );
  }
  if (status.endsWith('_IN_PROGRESS')) {
    throw new ReleaseError(
      'stack-busy',
      `stack ${stackName} is ${status}: another operation is running on it; nothing was changed. Wait until it ` +
        `finishes (aws cloudformation describe-stacks --stack-name ${stackName}) and release again`,
    );
  }
  if (!UPDATABLE.has(status)) {
    throw new ReleaseError(
      'stack-not-updatable',
      `stack ${stackName} is ${status}${reasonSuffix(stack.StackStatusReason)}, which CloudFormation cannot ` +
        `update; nothing was changed. ${notUpdatableFix(status, target)}`,
    );
  }
  const readers = resolved.map(({ pointerName }) => {
    // On AWS, the ParameterValue of an SSM-typed stack parameter is the SSM parameter's name.
    const reader = stack.Parameters?.find((p) => p.ParameterValue === pointerName);
    if (!reader) {
      const read = (stack.Parameters ?? []).map((p) => `${p.ParameterKey}=${p.ParameterValue}`).join(', ');
      throw new ReleaseError(
        'pointer-not-read',
        `stack ${stackName} does not read release pointer ${pointerName}: none of its parameters has that value ` +
          `(${read || 'it has no parameters'}), so updating it would not serve the package; nothing was changed. ` +
          `Name the pointer its serving slot reads (the value of the slot's SSM-typed parameter), or the stack ` +
          `that reads ${pointerName}`,
      );
    }
    return reader;
  });

  const states: PointerState[] = [];
  const toWrite: PointerState[] = [];
  resolved.forEach(({ pointerName, value }, i) => {
    const before = previous.get(pointerName)!;
    // What the stack resolved the pointer to at its last deployment, where CloudFormation reports it.
    const served = readers[i].ResolvedValue;
    let restoreTo = before;
    if (before === value) {
      if (served !== undefined && served !== value) {
        // An earlier release wrote the pointer but its update did not complete (interrupted, or
        // rolled back without a restore): the stack still serves `served`.
        log(`Pointer ${pointerName} already names ${value}, but ${stackName} was deployed with ${served}`);
        restoreTo = served;
      }
    } else {
      toWrite.push({ pointerName, previous: before, current: value, restoreTo });
    }
    states.push({ pointerName, previous: before, current: value, restoreTo });
  });
  const first = states[0];
  const result = {
    previous: first.previous,
    current: first.current,
    pointerName: first.pointerName,
    stackName,
    ...(several ? { pointers: states.map(({ restoreTo: _, ...state }) => state) } : {}),
  };
  const changed = states.filter(
    (state) => state.previous !== state.current || state.restoreTo !== state.current,
  );
  if (changed.length === 0) {
    log(
      several
        ? `Every pointer already names its value and ${stackName} was deployed with them: nothing to do`
        : `Pointer ${first.pointerName} already names ${first.current}: nothing to do`,
    );
    return { status: 'done', result: { ...result, status: 'unchanged', stackUpdated: false } };
  }
  const written: PointerState[] = [];
  for (const state of toWrite) {
    log(`Pointer ${state.pointerName}: ${describePointer(state.previous)} -> ${state.current}`);
    try {
      await writePointer(deps.ssm, state.pointerName, state.current);
    } catch (error) {
      if (written.length === 0) {
        throw error;
      }
      const restored = await restorePointers(deps.ssm, written, log);
      throw new ReleaseError(
        'aws-error',
        `${errorMessage(error).replace(/; nothing was changed$/, '')}. ${restoredSentences(restored, written)}`,
        { cause: errorCause(error), pointerRestored: restored.every(Boolean) },
      );
    }
    written.push(state);
  }
  const clientRequestToken = `release-${randomUUID()}`;
  try {
    await deps.cloudFormation.send(
      new UpdateStackCommand({
        StackName: stackName,
        UsePreviousTemplate: true,
        Parameters: (stack.Parameters ?? []).map((p) => ({
          ParameterKey: p.ParameterKey,
          UsePreviousValue: true,
        })),
        Capabilities: RELEASE_STACK_CAPABILITIES,
        DisableRollback: false,
        ClientRequestToken: clientRequestToken,
        ...(target.cloudFormationRoleArn ? { RoleARN: target.cloudFormationRoleArn } : {}),
      }),
    );
  } catch (error) {
    if (isAwsError(error, 'ValidationError') && /No updates are to be performed/i.test(errorMessage(error))) {
      log(`CloudFormation found nothing to change in ${stackName}`);
      return { status: 'done', result: { ...result, status: 'released', stackUpdated: false } };
    }
    const restored = await restorePointers(deps.ssm, changed, log);
    throw new ReleaseError(
      'update-failed',
      `updating stack ${stackName} was refused: ${describeAwsError(error)}. ${restoredSentences(restored, changed)}`,
      { cause: error, pointerRestored: restored.every(Boolean) },
    );
  }
  log(`Updating stack ${stackName} (it reads the ${several ? 'pointers' : 'pointer'} again)`);
  return {
    status: 'updating',
    token: {
      request: target as R,
      previous: first.previous,
      restoreTo: first.restoreTo,
      clientRequestToken,
      pollIntervalMs: deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      waitedMs: 0,
      lastStatus: '',
      ...(several ? { pointers: states } : {}),
    },
  };
}

/** The pointers of a token: those of a release of several, or the one of a one-pointer release. */
function tokenStates(token: ReleaseToken<AnyReleaseRequest>): PointerState[] {
  if (token.pointers) {
    return [...token.pointers];
  }
  const request = token.request as ReleaseRequest;
  return [
    {
      pointerName: request.pointerName,
      previous: token.previous,
      current: request.modelPackageArn,
      restoreTo: token.restoreTo,
    },
  ];
}

/**
 * Reads the status of the update `startRelease` began, one poll interval after the previous call.
 * Returns `updating` with the next token while it runs, `done` once it succeeded, and `failed` once
 * it failed, rolled back or ran past the timeout (cancelled then); on failure the pointers have
 * already been written back to the values the stack serves.
 */
export async function checkRelease<R extends AnyReleaseRequest>(
  token: ReleaseToken<R>,
  deps: ReleaseDependencies,
): Promise<ReleaseStep<R>> {
  const log = deps.log ?? (() => undefined);
  const { request, clientRequestToken } = token;
  const { stackName } = request;
  const states = tokenStates(token);
  const first = states[0];
  const waited = token.waitedMs + token.pollIntervalMs;
  let stack: CloudFormationStack | undefined;
  try {
    const response = await deps.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    stack = response.Stacks?.[0];
  } catch (error) {
    // A failed read must not abandon a running update: keep polling until the deadline.
    log(`Reading stack ${stackName} failed (${describeAwsError(error)}); trying again`);
  }
  const status = stack?.StackStatus ?? token.lastStatus;
  if (status !== token.lastStatus) {
    log(`Stack ${stackName}: ${status}`);
  }
  const serves = states.map((s) => s.current).join(', ');
  if (SUCCEEDED.has(status)) {
    log(`Stack ${stackName} is ${status}: it serves ${serves}`);
    return {
      status: 'done',
      result: {
        status: 'released',
        previous: first.previous,
        current: first.current,
        pointerName: first.pointerName,
        stackName,
        stackStatus: status,
        stackUpdated: true,
        ...(token.pointers ? { pointers: states.map(({ restoreTo: _, ...state }) => state) } : {}),
      },
    };
  }
  const ended = status !== '' && !status.endsWith('_IN_PROGRESS');
  const timedOut = !ended && waited >= token.timeoutMs;
  if (!ended && !timedOut) {
    return { status: 'updating', token: { ...token, waitedMs: waited, lastStatus: status } };
  }

  const finalStatus = status || 'UNKNOWN';
  let cancelled = false;
  if (timedOut && finalStatus === 'UPDATE_IN_PROGRESS') {
    cancelled = await cancelUpdate(deps.cloudFormation, stackName, log);
  }
  const reason =
    (await failureReason(deps.cloudFormation, stackName, clientRequestToken)) ?? stack?.StackStatusReason;
  const changed = states.filter((s) => s.previous !== s.current || s.restoreTo !== s.current);
  const restored = await restorePointers(deps.ssm, changed, log);
  let what = `ended in ${finalStatus}`;
  if (timedOut) {
    what = `did not finish within ${formatDuration(token.timeoutMs)} (it is ${finalStatus}`;
    if (cancelled) {
      what += '; the release cancelled it, so it rolls back)';
    } else if (finalStatus === 'UPDATE_IN_PROGRESS') {
      what += `; cancelling it failed: should it still complete, the stack serves ${serves} while the ${token.pointers ? 'pointers do' : 'pointer does'} not: release again once it has finished)`;
    } else {
      what += ')';
    }
  }
  return {
    status: 'failed',
    failure: {
      code: 'update-failed',
      message:
        `the update of stack ${stackName} ${what}${reasonSuffix(reason)}. ` +
        `${restoredSentences(restored, changed)} ` +
        `See the stack's events: aws cloudformation describe-stack-events --stack-name ${stackName}`,
      pointerRestored: restored.every(Boolean),
    },
  };
}

/** The most pointers one release writes. */
const MAX_POINTERS = 10;

/**
 * Checks the request's shape alone (a Lambda's input is untyped JSON), trims the ARNs and returns
 * the pointers to write, in order.
 */
function checkRequest(request: AnyReleaseRequest): { target: AnyReleaseRequest; plans: PointerPlan[] } {
  const several = request?.pointers !== undefined;
  for (const key of several
    ? (['stackName', 'region'] as const)
    : (['stackName', 'pointerName', 'region'] as const)) {
    const value: unknown = request?.[key];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ReleaseError(
        'invalid-request',
        `${key} ${describeValue(value)} is invalid: name the target's ${key}`,
      );
    }
  }
  if (!REGION_PATTERN.test(request.region)) {
    throw new ReleaseError(
      'invalid-request',
      `region ${describeValue(request.region)} is invalid: use an AWS region name such as eu-west-1`,
    );
  }
  const group: unknown = request.modelPackageGroupName;
  if (group !== undefined && (typeof group !== 'string' || !MODEL_PACKAGE_GROUP_NAME.test(group))) {
    throw new ReleaseError(
      'invalid-request',
      `modelPackageGroupName ${describeValue(group)} is invalid: name the model package group the slot serves ` +
        `(1-63 letters, digits and hyphens), or leave it out`,
    );
  }
  const role: unknown = request.cloudFormationRoleArn;
  if (role !== undefined && !(typeof role === 'string' && IAM_ROLE_ARN.test(role))) {
    throw new ReleaseError(
      'invalid-request',
      `cloudFormationRoleArn ${describeValue(role)} is invalid: name an IAM role, ` +
        `arn:<partition>:iam::<account>:role/<name>, or leave it out`,
    );
  }
  if (!several) {
    const arn = checkPackageArn(request, request.pointerName, request.modelPackageArn);
    return {
      target: { ...request, modelPackageArn: arn },
      plans: [{ pointerName: request.pointerName, value: arn, kind: 'model-package' }],
    };
  }
  const pointers: unknown = request.pointers;
  if (!Array.isArray(pointers) || pointers.length === 0 || pointers.length > MAX_POINTERS) {
    throw new ReleaseError(
      'invalid-request',
      `pointers ${describeValue(pointers)} is invalid: give 1 to ${MAX_POINTERS} pointers to write`,
    );
  }
  const plans = (pointers as PointerRelease[]).map((pointer, i): PointerPlan => {
    const name: unknown = pointer?.pointerName;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ReleaseError(
        'invalid-request',
        `pointers[${i}].pointerName ${describeValue(name)} is invalid: name the SSM parameter to write`,
      );
    }
    const given = (['modelPackageArn', 'weightPercent', 'copyFrom'] as const).filter(
      (k) => pointer[k] !== undefined,
    );
    if (given.length !== 1) {
      throw new ReleaseError(
        'invalid-request',
        `pointers[${i}] (${name}) is invalid: give exactly one of modelPackageArn, weightPercent and copyFrom, ` +
          `not ${given.length === 0 ? 'none' : given.join(' and ')}`,
      );
    }
    const trial: unknown = pointer.pendingApprovalTrial;
    if (trial !== undefined && !(typeof trial === 'boolean' && (!trial || given[0] === 'modelPackageArn'))) {
      throw new ReleaseError(
        'invalid-request',
        `pointers[${i}].pendingApprovalTrial ${describeValue(trial)} is invalid: only a pointer given a ` +
          'modelPackageArn may take a package pending approval (true or false)',
      );
    }
    if (pointer.weightPercent !== undefined) {
      const weight: unknown = pointer.weightPercent;
      if (!(typeof weight === 'number' && Number.isInteger(weight) && weight >= 0 && weight <= 100)) {
        throw new ReleaseError(
          'invalid-request',
          `weight ${describeValue(weight)} of ${name} is invalid: give a whole percentage from 0 to 100`,
        );
      }
      return { pointerName: name, value: String(weight), kind: 'weight' };
    }
    if (pointer.copyFrom !== undefined) {
      const from: unknown = pointer.copyFrom;
      if (typeof from !== 'string' || from.trim() === '' || from === name) {
        throw new ReleaseError(
          'invalid-request',
          `pointers[${i}].copyFrom ${describeValue(from)} is invalid: name another pointer of the stack, whose ` +
            `package ${name} takes`,
        );
      }
      return { pointerName: name, copyFrom: from, kind: 'copy' };
    }
    const value =
      typeof pointer.modelPackageArn === 'string' ? pointer.modelPackageArn.trim() : pointer.modelPackageArn;
    return {
      pointerName: name,
      value: value === NO_MODEL_RELEASED ? value : checkPackageArn(request, name, value),
      kind: 'model-package',
      ...(trial === true ? { trial: true } : {}),
    };
  });
  const names = plans.map((p) => p.pointerName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new ReleaseError(
      'invalid-request',
      `pointer ${twice} is named twice in pointers: write each pointer once`,
    );
  }
  return { target: request, plans };
}

/** Parses a package ARN to serve from `pointerName`, and checks its group and region against the target. */
function checkPackageArn(target: ReleaseTarget, pointerName: string, value: unknown): string {
  const arn = parseModelPackageArn(value);
  const group = target.modelPackageGroupName;
  if (group !== undefined && !sameGroup(arn.group, group)) {
    throw new ReleaseError(
      'wrong-model-group',
      `model package '${arn.arn}' belongs to group '${arn.group}', but the slot reading ${pointerName} ` +
        `(stack ${target.stackName}) serves group '${group}': release a version of '${group}'; nothing was changed`,
    );
  }
  if (arn.region !== target.region) {
    throw new ReleaseError(
      'region-mismatch',
      `model package ARN '${arn.arn}' is in region ${arn.region}, but stack ${target.stackName} is in ` +
        `${target.region}: a serving slot serves packages of its own region; register the model in ` +
        `${target.region} and release that version's ARN`,
    );
  }
  return arn.arn;
}

function deployFirst(target: ReleaseTarget): string {
  return target.deployCommand
    ? `deploy the environment first: ${target.deployCommand}`
    : `deploy the stack and its release pointer first`;
}

/** An IAM role ARN, paths included. */
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function checkAccount(stack: CloudFormationStack, target: ReleaseTarget): void {
  // arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
  const account = stack.StackId?.split(':')[4];
  if (target.account !== undefined && account !== undefined && account !== target.account) {
    throw new ReleaseError(
      'account-mismatch',
      `stack ${target.stackName} found in ${target.region} belongs to account ${account}, but the target is in ` +
        `account ${target.account}: use credentials for account ${target.account}; nothing was changed`,
    );
  }
}

/** Checks that the package exists, is Completed and Approved (or, for a trial, pending); returns its approval status. */
async function checkModelPackage(sageMaker: SageMakerClient, arn: string, trial = false): Promise<string> {
  let description;
  try {
    description = await sageMaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  } catch (error) {
    if (
      isAwsError(error, 'ResourceNotFound') ||
      (isAwsError(error, 'ValidationException') &&
        /not (be )?found|does not exist/i.test(errorMessage(error)))
    ) {
      throw new ReleaseError(
        'model-package-not-found',
        `model package '${arn}' does not exist: check the ARN (aws sagemaker list-model-packages ` +
          `--model-package-group-name ${arn.split('/')[1]}) and the account and region of your credentials`,
        { cause: error },
      );
    }
    throw awsFailure(`reading model package '${arn}'`, 'sagemaker:DescribeModelPackage', error);
  }
  const packageStatus = description.ModelPackageStatus;
  if (packageStatus !== undefined && packageStatus !== 'Completed') {
    throw new ReleaseError(
      'model-package-not-ready',
      `model package '${arn}' is ${packageStatus}, not Completed: release it once SageMaker has finished ` +
        `registering it${packageStatus === 'Failed' ? ' (a Failed package never completes: register the model again)' : ''}`,
    );
  }
  const approval = description.ModelApprovalStatus ?? '(no approval status)';
  if (trial && approval === 'PendingManualApproval') {
    return approval;
  }
  if (approval !== 'Approved') {
    throw new ReleaseError(
      'model-package-not-approved',
      `model package '${arn}' is ${approval}, not Approved: only approved packages are released. Approve it ` +
        `in SageMaker Studio's model registry or with aws sagemaker update-model-package ` +
        `--model-package-arn ${arn} --model-approval-status Approved, then release again`,
    );
  }
  return approval;
}

async function readPointer(ssm: SSMClient, target: ReleaseTarget, pointerName: string): Promise<string> {
  try {
    const response = await ssm.send(new GetParameterCommand({ Name: pointerName }));
    const value = response.Parameter?.Value;
    if (value === undefined) {
      throw new ReleaseError('aws-error', `release pointer ${pointerName} has no value`);
    }
    return value;
  } catch (error) {
    if (error instanceof ReleaseError) {
      throw error;
    }
    if (isAwsError(error, 'ParameterNotFound')) {
      throw new ReleaseError(
        'not-deployed',
        `release pointer ${pointerName} does not exist in ${target.region}: ${deployFirst(target)}`,
        { cause: error },
      );
    }
    throw awsFailure(`reading release pointer ${pointerName}`, 'ssm:GetParameter', error);
  }
}

async function describeStack(
  cloudFormation: CloudFormationClient,
  target: ReleaseTarget,
): Promise<CloudFormationStack> {
  try {
    const response = await cloudFormation.send(new DescribeStacksCommand({ StackName: target.stackName }));
    const stack = response.Stacks?.[0];
    if (stack) {
      return stack;
    }
  } catch (error) {
    if (!(isAwsError(error, 'ValidationError') && /does not exist/i.test(errorMessage(error)))) {
      throw awsFailure(`reading stack ${target.stackName}`, 'cloudformation:DescribeStacks', error);
    }
  }
  throw new ReleaseError(
    'not-deployed',
    `stack ${target.stackName} does not exist in ${target.region}: ${deployFirst(target)}`,
  );
}

async function writePointer(ssm: SSMClient, name: string, value: string): Promise<void> {
  try {
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  } catch (error) {
    throw awsFailure(`writing release pointer ${name}`, 'ssm:PutParameter', error);
  }
}

/** Writes the previous value back; true when it worked. Never throws: the caller reports either way. */
async function restorePointer(
  ssm: SSMClient,
  name: string,
  previous: string,
  log: (line: string) => void,
): Promise<boolean> {
  try {
    await writePointer(ssm, name, previous);
    log(`Pointer ${name} restored to ${previous}`);
    return true;
  } catch (error) {
    log(`Restoring pointer ${name} to ${previous} failed: ${describeAwsError(errorCause(error))}`);
    return false;
  }
}

async function cancelUpdate(
  cloudFormation: CloudFormationClient,
  stackName: string,
  log: (line: string) => void,
): Promise<boolean> {
  try {
    await cloudFormation.send(new CancelUpdateStackCommand({ StackName: stackName }));
    log(`Cancelled the update of ${stackName}: it rolls back to the model it served before`);
    return true;
  } catch (error) {
    log(`Cancelling the update of ${stackName} failed: ${describeAwsError(error)}`);
    return false;
  }
}

/**
 * The first resource failure of this release's update (its events carry the update's client
 * request token); later failures are mostly "Resource update cancelled" caused by the first.
 */
async function failureReason(
  cloudFormation: CloudFormationClient,
  stackName: string,
  token: string,
): Promise<string | undefined> {
  const events: StackEvent[] = [];
  let nextToken: string | undefined;
  try {
    // Newest first; a few pages reach back to the start of this update.
    for (let page = 0; page < 5; page++) {
      const response = await cloudFormation.send(
        new DescribeStackEventsCommand({ StackName: stackName, NextToken: nextToken }),
      );
      const batch = response.StackEvents ?? [];
      events.push(...batch);
      nextToken = response.NextToken;
      const reachedStart = batch.some(
        (e) =>
          e.ClientRequestToken === token &&
          e.LogicalResourceId === stackName &&
          e.ResourceStatus === 'UPDATE_IN_PROGRESS',
      );
      if (!nextToken || reachedStart) {
        break;
      }
    }
  } catch {
    return undefined;
  }
  const failed = events
    .filter(
      (e) =>
        e.ClientRequestToken === token && e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason,
    )
    .reverse();
  const first = failed.find((e) => !/cancelled/i.test(e.ResourceStatusReason ?? '')) ?? failed[0];
  return first
    ? `${first.LogicalResourceId} (${first.ResourceType}): ${first.ResourceStatusReason}`
    : undefined;
}

function notUpdatableFix(status: string, target: ReleaseTarget): string {
  const { stackName, deployCommand } = target;
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'CREATE_FAILED') {
    const again = deployCommand ? `deploy the environment again: ${deployCommand}` : 'deploy it again';
    return `Its creation failed: delete it (aws cloudformation delete-stack --stack-name ${stackName}) and ${again}`;
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    return `Continue its rollback (aws cloudformation continue-update-rollback --stack-name ${stackName}), then release again`;
  }
  const again = deployCommand ? `deploy the environment again: ${deployCommand}` : 'deploy it again';
  return `Fix the stack (aws cloudformation describe-stack-events --stack-name ${stackName}) or ${again}`;
}

/** Writes each pointer back to the value the stack serves; one flag per pointer. Never throws. */
async function restorePointers(
  ssm: SSMClient,
  states: readonly PointerState[],
  log: (line: string) => void,
): Promise<boolean[]> {
  const restored: boolean[] = [];
  for (const state of states) {
    restored.push(await restorePointer(ssm, state.pointerName, state.restoreTo, log));
  }
  return restored;
}

function restoredSentences(restored: readonly boolean[], states: readonly PointerState[]): string {
  return states
    .map((state, i) => restoredSentence(restored[i], state.pointerName, state.restoreTo))
    .join(' ');
}

function restoredSentence(restored: boolean, pointerName: string, previous: string): string {
  return restored
    ? `The pointer ${pointerName} was restored to ${previous}.`
    : `Restoring the pointer failed: set it back by hand: aws ssm put-parameter --name ${pointerName} ` +
        `--value ${previous} --type String --overwrite`;
}

function describePointer(value: string): string {
  return value === NO_MODEL_RELEASED ? `${value} (no model released)` : value;
}

function formatDuration(ms: number): string {
  const minutes = ms / 60_000;
  return minutes >= 1 ? `${Number(minutes.toFixed(1))} minutes` : `${Math.round(ms / 1000)} seconds`;
}

function reasonSuffix(reason: string | undefined): string {
  return reason ? ` (${reason})` : '';
}
