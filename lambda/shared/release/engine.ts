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
 * What to release where: a model package version, and the serving stack with the release pointer
 * it reads. Nothing here refers to the app that defined the stack, so a CLI, a Lambda handler or
 * a state machine can name any serving slot.
 */
export interface ReleaseRequest {
  /** The model package version to serve: `arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>`. */
  readonly modelPackageArn: string;
  /** The CloudFormation stack that serves: it reads the pointer through an SSM-typed stack parameter. */
  readonly stackName: string;
  /** The release pointer: the SSM String parameter naming the model package the stack serves, or `none`. */
  readonly pointerName: string;
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
}

/**
 * A release whose stack update is running: everything `checkRelease` needs, as plain JSON, so
 * that each check can run in its own Lambda invocation.
 */
export interface ReleaseToken {
  readonly request: ReleaseRequest;
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
}

/** One step of a release: its update still runs, it is done, or it failed (and the pointer was restored, if possible). */
export type ReleaseStep =
  | { readonly status: 'updating'; readonly token: ReleaseToken }
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
 * Releases a model package version to a serving stack: `startRelease`, then `checkRelease` every
 * poll interval until the update ends. Throws a ReleaseError when the release is refused (nothing
 * written) or the update fails (the pointer restored, see `pointerRestored`).
 */
export async function releaseModel(
  request: ReleaseRequest,
  deps: ReleaseDependencies,
): Promise<ReleaseResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let step: ReleaseStep = await startRelease(request, deps);
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

/**
 * Checks the request, the package (exists, Completed, Approved), the release pointer and the stack
 * (deployed, reads the pointer, not busy); only then writes the pointer and updates the stack with
 * its previous template and parameters, which makes CloudFormation read the pointer again.
 *
 * Returns `done` when there is nothing to update, else `updating` with the token to pass to
 * `checkRelease` after one poll interval. Throws a ReleaseError when the release is refused
 * (nothing was written) or CloudFormation refuses the update (the pointer was restored).
 */
export async function startRelease(
  request: ReleaseRequest,
  deps: ReleaseDependencies,
): Promise<Extract<ReleaseStep, { status: 'updating' | 'done' }>> {
  const target = checkRequest(request);
  const log = deps.log ?? (() => undefined);
  const { modelPackageArn: arn, pointerName, stackName } = target;
  log(`Releasing ${arn} to stack ${stackName} (pointer ${pointerName}, region ${target.region})`);

  await checkModelPackage(deps.sageMaker, arn);
  log(`Model package ${arn} exists and is Approved`);

  const previous = await readPointer(deps.ssm, target);
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

  const result = { previous, current: arn, pointerName, stackName };
  // What the stack resolved the pointer to at its last deployment, where CloudFormation reports it.
  const served = reader.ResolvedValue;
  let restoreTo = previous;
  if (previous === arn) {
    if (served === undefined || served === arn) {
      log(`Pointer ${pointerName} already names ${arn}: nothing to do`);
      return { status: 'done', result: { ...result, status: 'unchanged', stackUpdated: false } };
    }
    // An earlier release wrote the pointer but its update did not complete (interrupted, or
    // rolled back without a restore): the stack still serves `served`.
    log(`Pointer ${pointerName} already names ${arn}, but ${stackName} was deployed with ${served}`);
    restoreTo = served;
  } else {
    log(`Pointer ${pointerName}: ${describePointer(previous)} -> ${arn}`);
    await writePointer(deps.ssm, pointerName, arn);
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
    const restored = await restorePointer(deps.ssm, pointerName, restoreTo, log);
    throw new ReleaseError(
      'update-failed',
      `updating stack ${stackName} was refused: ${describeAwsError(error)}. ${restoredSentence(restored, pointerName, restoreTo)}`,
      { cause: error, pointerRestored: restored },
    );
  }
  log(`Updating stack ${stackName} (it reads the pointer again)`);
  return {
    status: 'updating',
    token: {
      request: target,
      previous,
      restoreTo,
      clientRequestToken,
      pollIntervalMs: deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      waitedMs: 0,
      lastStatus: '',
    },
  };
}

/**
 * Reads the status of the update `startRelease` began, one poll interval after the previous call.
 * Returns `updating` with the next token while it runs, `done` once it succeeded, and `failed` once
 * it failed, rolled back or ran past the timeout (cancelled then); on failure the pointer has
 * already been written back to the value the stack serves.
 */
export async function checkRelease(token: ReleaseToken, deps: ReleaseDependencies): Promise<ReleaseStep> {
  const log = deps.log ?? (() => undefined);
  const { request, clientRequestToken } = token;
  const { stackName, pointerName, modelPackageArn: arn } = request;
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
  if (SUCCEEDED.has(status)) {
    log(`Stack ${stackName} is ${status}: it serves ${arn}`);
    return {
      status: 'done',
      result: {
        status: 'released',
        previous: token.previous,
        current: arn,
        pointerName,
        stackName,
        stackStatus: status,
        stackUpdated: true,
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
  const restored = await restorePointer(deps.ssm, pointerName, token.restoreTo, log);
  let what = `ended in ${finalStatus}`;
  if (timedOut) {
    what = `did not finish within ${formatDuration(token.timeoutMs)} (it is ${finalStatus}`;
    if (cancelled) {
      what += '; the release cancelled it, so it rolls back)';
    } else if (finalStatus === 'UPDATE_IN_PROGRESS') {
      what += `; cancelling it failed: should it still complete, the stack serves ${arn} while the pointer does not: release again once it has finished)`;
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
        `${restoredSentence(restored, pointerName, token.restoreTo)} ` +
        `See the stack's events: aws cloudformation describe-stack-events --stack-name ${stackName}`,
      pointerRestored: restored,
    },
  };
}

/** Checks the request's shape alone (a Lambda's input is untyped JSON) and trims the ARN. */
function checkRequest(request: ReleaseRequest): ReleaseRequest {
  for (const key of ['stackName', 'pointerName', 'region'] as const) {
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
  const arn = parseModelPackageArn(request.modelPackageArn);
  if (group !== undefined && !sameGroup(arn.group, group)) {
    throw new ReleaseError(
      'wrong-model-group',
      `model package '${arn.arn}' belongs to group '${arn.group}', but the slot reading ${request.pointerName} ` +
        `(stack ${request.stackName}) serves group '${group}': release a version of '${group}'; nothing was changed`,
    );
  }
  if (arn.region !== request.region) {
    throw new ReleaseError(
      'region-mismatch',
      `model package ARN '${arn.arn}' is in region ${arn.region}, but stack ${request.stackName} is in ` +
        `${request.region}: a serving slot serves packages of its own region; register the model in ` +
        `${request.region} and release that version's ARN`,
    );
  }
  return { ...request, modelPackageArn: arn.arn };
}

function deployFirst(target: ReleaseRequest): string {
  return target.deployCommand
    ? `deploy the environment first: ${target.deployCommand}`
    : `deploy the stack and its release pointer first`;
}

/** An IAM role ARN, paths included. */
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function checkAccount(stack: CloudFormationStack, target: ReleaseRequest): void {
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

async function checkModelPackage(sageMaker: SageMakerClient, arn: string): Promise<void> {
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
  if (approval !== 'Approved') {
    throw new ReleaseError(
      'model-package-not-approved',
      `model package '${arn}' is ${approval}, not Approved: only approved packages are released. Approve it ` +
        `in SageMaker Studio's model registry or with aws sagemaker update-model-package ` +
        `--model-package-arn ${arn} --model-approval-status Approved, then release again`,
    );
  }
}

async function readPointer(ssm: SSMClient, target: ReleaseRequest): Promise<string> {
  try {
    const response = await ssm.send(new GetParameterCommand({ Name: target.pointerName }));
    const value = response.Parameter?.Value;
    if (value === undefined) {
      throw new ReleaseError('aws-error', `release pointer ${target.pointerName} has no value`);
    }
    return value;
  } catch (error) {
    if (error instanceof ReleaseError) {
      throw error;
    }
    if (isAwsError(error, 'ParameterNotFound')) {
      throw new ReleaseError(
        'not-deployed',
        `release pointer ${target.pointerName} does not exist in ${target.region}: ${deployFirst(target)}`,
        { cause: error },
      );
    }
    throw awsFailure(`reading release pointer ${target.pointerName}`, 'ssm:GetParameter', error);
  }
}

async function describeStack(
  cloudFormation: CloudFormationClient,
  target: ReleaseRequest,
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

function notUpdatableFix(status: string, target: ReleaseRequest): string {
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
