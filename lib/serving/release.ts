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
import { EnvironmentConfig, PlatformConfig } from '../config/environment-config';
import { MaturityLevel } from '../maturity/maturity-level';
import { describeValue } from '../private/errors';
import {
  DEFAULT_SLOT_NAME,
  POINTER_NAME_PART,
  NO_MODEL_RELEASED,
  platformStackName,
  releasePointerParameterName,
} from './naming';

/** What to release where. */
export interface ReleaseRequest {
  /** The environment to release to: a key of `mlops.environments` in cdk.json. */
  readonly environment: string;
  /** The model package version to serve: `arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>`. */
  readonly modelPackageArn: string;
  /** The parsed platform config (`parsePlatformConfig`). */
  readonly config: PlatformConfig;
  /**
   * The serving slot, when an environment has more than one.
   *
   * @default 'default'
   */
  readonly slotName?: string;
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
   * How often the stack's status is read while it updates.
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
   * Waits between polls.
   *
   * @default - a timer
   */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The environment, slot, pointer and stack a request resolves to, before anything is read from AWS. */
export interface ReleaseTarget {
  readonly environment: EnvironmentConfig;
  readonly slotName: string;
  readonly modelPackageArn: string;
  /** The region of the pointer, the stack and the clients: the environment's, else the package's. */
  readonly region: string;
  readonly pointerName: string;
  readonly stackName: string;
}

/** The outcome of a release that did not fail. */
export interface ReleaseResult {
  /** `released`: the pointer now names the package; `unchanged`: it already did, nothing was done. */
  readonly status: 'released' | 'unchanged';
  readonly environment: string;
  readonly slotName: string;
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

/** Why a release was refused or failed. */
export type ReleaseErrorCode =
  | 'invalid-request'
  | 'unknown-environment'
  | 'no-serving-slot'
  | 'invalid-model-package-arn'
  | 'region-mismatch'
  | 'model-package-not-found'
  | 'model-package-not-ready'
  | 'model-package-not-approved'
  | 'not-deployed'
  | 'stack-busy'
  | 'stack-not-updatable'
  | 'update-failed'
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

/** The capabilities a CDK-synthesized stack may need: IAM roles with or without names, and macros. */
export const RELEASE_STACK_CAPABILITIES: Capability[] = [
  'CAPABILITY_IAM',
  'CAPABILITY_NAMED_IAM',
  'CAPABILITY_AUTO_EXPAND',
];

const DEFAULT_POLL_INTERVAL_MS = 15_000;
const DEFAULT_TIMEOUT_MS = 60 * 60_000;
const PARTITION = 'aws[a-z-]*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const ACCOUNT = '\\d{12}';
// Model package group names: 1-63 letters, digits and hyphens, not starting or ending with a hyphen.
const GROUP = '[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}';
const VERSION_ARN = new RegExp(
  `^arn:(${PARTITION}):sagemaker:(${REGION}):(${ACCOUNT}):model-package/(${GROUP})/([1-9]\\d*)$`,
);
const GROUP_ARN = new RegExp(
  `^arn:${PARTITION}:sagemaker:${REGION}:${ACCOUNT}:model-package-group/(${GROUP})$`,
);
const UNVERSIONED_ARN = new RegExp(
  `^arn:${PARTITION}:sagemaker:${REGION}:${ACCOUNT}:model-package/${GROUP}$`,
);
const EXPECTED_ARN = 'arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>';
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
 * Checks a request against the platform config alone and resolves what it releases where. Throws
 * a ReleaseError for an unknown environment, an environment without a serving slot, a malformed
 * model package ARN, or an ARN from another region than the environment's.
 */
export function resolveReleaseTarget(request: ReleaseRequest): ReleaseTarget {
  const { config } = request;
  if (typeof request.environment !== 'string' || request.environment === '') {
    throw new ReleaseError(
      'invalid-request',
      `environment ${describeValue(request.environment)} is invalid: name one of ${names(config)}`,
    );
  }
  const environment = config.environments.find((e) => e.name === request.environment);
  if (!environment) {
    throw new ReleaseError(
      'unknown-environment',
      `environment '${request.environment}' is not configured: use one of ${names(config)}, ` +
        `or add it to context.mlops.environments in cdk.json`,
    );
  }
  if (environment.level < MaturityLevel.AUTOMATED_TRAINING) {
    throw new ReleaseError(
      'no-serving-slot',
      `environment '${environment.name}' is at maturity level ${environment.level}, which has no serving slot: ` +
        `set context.mlops.environments.${environment.name}.level to ${MaturityLevel.AUTOMATED_TRAINING} or higher ` +
        `in cdk.json and deploy it (npx cdk deploy '${environment.name}/*'), then release`,
    );
  }
  const slotName = request.slotName ?? DEFAULT_SLOT_NAME;
  if (typeof slotName !== 'string' || !POINTER_NAME_PART.test(slotName)) {
    throw new ReleaseError(
      'invalid-request',
      `slot ${describeValue(slotName)} is invalid: use 1-64 letters, digits, dots, hyphens and underscores, ` +
        `or leave it out for the '${DEFAULT_SLOT_NAME}' slot`,
    );
  }

  const arn = typeof request.modelPackageArn === 'string' ? request.modelPackageArn.trim() : '';
  const match = VERSION_ARN.exec(arn);
  if (!match) {
    let why = `is not a model package version ARN: use ${EXPECTED_ARN}`;
    const group = GROUP_ARN.exec(arn)?.[1];
    if (group !== undefined) {
      why =
        `names a model package group, not one of its versions: use ${EXPECTED_ARN} ` +
        `(list the versions with aws sagemaker list-model-packages --model-package-group-name ${group})`;
    } else if (UNVERSIONED_ARN.test(arn)) {
      why = `names an unversioned model package: register it in a model package group and use ${EXPECTED_ARN}`;
    }
    throw new ReleaseError(
      'invalid-model-package-arn',
      `model package ARN ${describeValue(request.modelPackageArn)} ${why}`,
    );
  }
  const arnRegion = match[2];
  if (environment.region !== undefined && environment.region !== arnRegion) {
    throw new ReleaseError(
      'region-mismatch',
      `model package ARN '${arn}' is in region ${arnRegion}, but environment '${environment.name}' is in ` +
        `${environment.region}: a serving slot serves packages of its own region; register the model in ` +
        `${environment.region} and release that version's ARN`,
    );
  }
  return {
    environment,
    slotName,
    modelPackageArn: arn,
    region: environment.region ?? arnRegion,
    pointerName: releasePointerParameterName(environment.name, slotName),
    stackName: platformStackName(environment.name),
  };
}

/**
 * Releases a model package version to an environment's serving slot: checks the request, the
 * package (exists, Completed, Approved), the release pointer and the platform stack (deployed, not
 * busy); only then writes the pointer and updates the stack with its previous template and
 * parameters, which makes CloudFormation read the pointer again. When the update fails, rolls
 * back or times out, the pointer is written back to its previous value, so that the next
 * deployment serves what the stack serves.
 */
export async function releaseModel(
  request: ReleaseRequest,
  deps: ReleaseDependencies,
): Promise<ReleaseResult> {
  const target = resolveReleaseTarget(request);
  const log = deps.log ?? (() => undefined);
  const { environment, modelPackageArn: arn, pointerName, stackName, slotName } = target;
  const deploy = `npx cdk deploy '${environment.name}/*'`;
  log(`Releasing ${arn} to environment ${environment.name} (slot ${slotName}, region ${target.region})`);

  await checkModelPackage(deps.sageMaker, arn);
  log(`Model package ${arn} exists and is Approved`);

  const previous = await readPointer(deps.ssm, target, deploy);
  const stack = await describeStack(deps.cloudFormation, target, deploy);
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (status === 'REVIEW_IN_PROGRESS') {
    throw new ReleaseError(
      'not-deployed',
      `stack ${stackName} is ${status}: it has a change set but was never deployed; deploy the environment first: ${deploy}`,
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
        `update; nothing was changed. ${notUpdatableFix(status, stackName, deploy)}`,
    );
  }

  const result = {
    environment: environment.name,
    slotName,
    previous,
    current: arn,
    pointerName,
    stackName,
  };
  // What the stack resolved the pointer to at its last deployment, where CloudFormation reports it.
  const served = stack.Parameters?.find((p) => p.ParameterValue === pointerName)?.ResolvedValue;
  // The value a failed update writes back: the one the stack keeps serving.
  let restoreTo = previous;
  if (previous === arn) {
    if (served === undefined || served === arn) {
      log(`Pointer ${pointerName} already names ${arn}: nothing to do`);
      return { ...result, status: 'unchanged', stackUpdated: false };
    }
    // An earlier release wrote the pointer but its update did not complete (interrupted, or
    // rolled back without a restore): the stack still serves `served`.
    log(`Pointer ${pointerName} already names ${arn}, but ${stackName} was deployed with ${served}`);
    restoreTo = served;
  } else {
    log(`Pointer ${pointerName}: ${describePointer(previous)} -> ${arn}`);
    await writePointer(deps.ssm, pointerName, arn);
  }
  const token = `release-${randomUUID()}`;
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
        ClientRequestToken: token,
      }),
    );
  } catch (error) {
    if (isAwsError(error, 'ValidationError') && /No updates are to be performed/i.test(errorMessage(error))) {
      log(`CloudFormation found nothing to change in ${stackName}`);
      return { ...result, status: 'released', stackUpdated: false };
    }
    const restored = await restorePointer(deps.ssm, pointerName, restoreTo, log);
    throw new ReleaseError(
      'update-failed',
      `updating stack ${stackName} was refused: ${describeAwsError(error)}. ${restoredSentence(restored, pointerName, restoreTo)}`,
      { cause: error, pointerRestored: restored },
    );
  }
  log(`Updating stack ${stackName} (it reads the pointer again)`);

  const outcome = await waitForUpdate(deps, stackName, log);
  if (outcome.succeeded) {
    log(`Stack ${stackName} is ${outcome.status}: ${environment.name} serves ${arn}`);
    return { ...result, status: 'released', stackStatus: outcome.status, stackUpdated: true };
  }

  let cancelled = false;
  if (outcome.timedOut && outcome.status === 'UPDATE_IN_PROGRESS') {
    cancelled = await cancelUpdate(deps.cloudFormation, stackName, log);
  }
  const reason = (await failureReason(deps.cloudFormation, stackName, token)) ?? outcome.reason;
  const restored = await restorePointer(deps.ssm, pointerName, restoreTo, log);
  let what = `ended in ${outcome.status}`;
  if (outcome.timedOut) {
    what = `did not finish within ${formatDuration(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS)} (it is ${outcome.status}`;
    if (cancelled) {
      what += '; the release cancelled it, so it rolls back)';
    } else if (outcome.status === 'UPDATE_IN_PROGRESS') {
      what += `; cancelling it failed: should it still complete, the stack serves ${arn} while the pointer does not: release again once it has finished)`;
    } else {
      what += ')';
    }
  }
  throw new ReleaseError(
    'update-failed',
    `the update of stack ${stackName} ${what}${reasonSuffix(reason)}. ` +
      `${restoredSentence(restored, pointerName, restoreTo)} ` +
      `See the stack's events: aws cloudformation describe-stack-events --stack-name ${stackName}`,
    { pointerRestored: restored },
  );
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

async function readPointer(ssm: SSMClient, target: ReleaseTarget, deploy: string): Promise<string> {
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
      const slot =
        target.slotName === DEFAULT_SLOT_NAME
          ? ''
          : ` (does environment '${target.environment.name}' have a slot named '${target.slotName}'?)`;
      throw new ReleaseError(
        'not-deployed',
        `release pointer ${target.pointerName} does not exist in ${target.region}${slot}: ` +
          `deploy the environment first: ${deploy}`,
        { cause: error },
      );
    }
    throw awsFailure(`reading release pointer ${target.pointerName}`, 'ssm:GetParameter', error);
  }
}

async function describeStack(
  cloudFormation: CloudFormationClient,
  target: ReleaseTarget,
  deploy: string,
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
    `stack ${target.stackName} does not exist in ${target.region}: deploy the environment first: ${deploy}`,
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

interface UpdateOutcome {
  readonly succeeded: boolean;
  readonly timedOut: boolean;
  readonly status: string;
  readonly reason?: string;
}

async function waitForUpdate(
  deps: ReleaseDependencies,
  stackName: string,
  log: (line: string) => void,
): Promise<UpdateOutcome> {
  const interval = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const timeout = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let waited = 0;
  let last = '';
  for (;;) {
    // Wait first: the update has just been accepted, so there is nothing to read yet.
    await sleep(interval);
    waited += interval;
    let stack: CloudFormationStack | undefined;
    try {
      const response = await deps.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
      stack = response.Stacks?.[0];
    } catch (error) {
      // A failed read must not abandon a running update: keep polling until the deadline.
      log(`Reading stack ${stackName} failed (${describeAwsError(error)}); trying again`);
    }
    const status = stack?.StackStatus ?? last;
    if (status !== last) {
      log(`Stack ${stackName}: ${status}`);
      last = status;
    }
    if (SUCCEEDED.has(status)) {
      return { succeeded: true, timedOut: false, status };
    }
    if (status !== '' && !status.endsWith('_IN_PROGRESS')) {
      return { succeeded: false, timedOut: false, status, reason: stack?.StackStatusReason };
    }
    if (waited >= timeout) {
      return {
        succeeded: false,
        timedOut: true,
        status: status || 'UNKNOWN',
        reason: stack?.StackStatusReason,
      };
    }
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

function notUpdatableFix(status: string, stackName: string, deploy: string): string {
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'CREATE_FAILED') {
    return `Its creation failed: delete it (aws cloudformation delete-stack --stack-name ${stackName}) and deploy the environment again: ${deploy}`;
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    return `Continue its rollback (aws cloudformation continue-update-rollback --stack-name ${stackName}), then release again`;
  }
  return `Fix the stack (aws cloudformation describe-stack-events --stack-name ${stackName}) or deploy the environment again: ${deploy}`;
}

function restoredSentence(restored: boolean, pointerName: string, previous: string): string {
  return restored
    ? `The pointer ${pointerName} was restored to ${previous}.`
    : `Restoring the pointer failed: set it back by hand: aws ssm put-parameter --name ${pointerName} ` +
        `--value ${previous} --type String --overwrite`;
}

function awsFailure(step: string, action: string, error: unknown): ReleaseError {
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
function errorCause(error: unknown): unknown {
  return error instanceof ReleaseError && error.cause !== undefined ? error.cause : error;
}

function isAwsError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `<name>: <message>`, without a final period, for use inside a sentence. */
function describeAwsError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\.$/, '');
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

function names(config: PlatformConfig): string {
  return config.environments.map((e) => e.name).join(', ') || '(none configured)';
}
