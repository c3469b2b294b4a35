// Starts a model's release workflow when a version of the model's package group is approved.
//
// Invoked by an EventBridge rule on "SageMaker Model Package State Change" events (source
// aws.sagemaker). One function serves one model: it starts that model's release workflow (a
// standard Step Functions state machine) for approved, completed versions of that model's group.
//
// Environment (read once, at cold start; a missing or invalid value fails the initialisation
// with a message naming the variable):
//   STATE_MACHINE_ARN             required: the model's release workflow,
//                                 arn:<partition>:states:<region>:<account>:stateMachine:<name>
//   MODEL_PACKAGE_GROUP_NAME      required: the model's source model package group; events of
//                                 other groups are ignored (compared case-insensitively)
//   MODEL_NAME                    required: the model, as the `modelName` key of every log line
//                                 and the `ModelName` dimension of every metric
//   POWERTOOLS_METRICS_NAMESPACE  required: the CloudWatch namespace of the metrics
//   POWERTOOLS_SERVICE_NAME       optional (default `release-trigger`): the `service` key of log
//                                 lines and the `service` metric dimension
//   POWERTOOLS_LOG_LEVEL          optional (default INFO), read by the Powertools logger
//
// Outcomes (the handler's result; each invocation counts exactly one metric, unit Count):
//   started    the workflow was started                             ReleasesStarted
//   duplicate  a workflow was already started for this version      DuplicateEvents
//   ignored    another group, not Approved, or not Completed        EventsIgnored
//   rejected   a malformed event, logged at error level; not thrown  EventsRejected
//              (a retry could never succeed)
//   (throws)   Step Functions failed otherwise: rethrown so that    StartFailures
//              Lambda retries and, in the end, the dead-letter queue receives the event
//
// Idempotent: the execution name is derived from the model package ARN alone, and Step Functions
// keeps an execution name for 90 days, so every delivery of every event for a version maps to the
// one execution. Starting it is the handler's only side effect.

import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handlerTelemetry, runInvocation } from '../shared/handler-runtime';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { describeValue } from '../../lib/private/describe-value';
import { describeAwsError, errorMessage, isAwsError } from '../shared/release/errors';
import {
  MODEL_PACKAGE_GROUP_NAME,
  parseModelPackageArn,
  REGION_PATTERN,
  sameGroup,
} from '../shared/release/model-package-arn';

/** The `source` of SageMaker's events. */
export const EVENT_SOURCE = 'aws.sagemaker';
/** The `detail-type` of the events this handler receives. */
export const DETAIL_TYPE = 'SageMaker Model Package State Change';

/** The approval statuses of a model package version (SageMaker API reference, ModelApprovalStatus). */
export type ModelApprovalStatus = 'Approved' | 'Rejected' | 'PendingManualApproval';
/** The statuses of a model package (SageMaker API reference, ModelPackageStatus). */
export type ModelPackageStatus = 'Pending' | 'InProgress' | 'Completed' | 'Failed' | 'Deleting';

/**
 * The `detail` of a "SageMaker Model Package State Change" event: the model package as
 * DescribeModelPackage describes it. Only the fields the handler reads are declared; the event
 * carries more (InferenceSpecification, ModelMetrics, MetadataProperties, ...).
 */
export interface ModelPackageStateChangeDetail {
  readonly ModelPackageGroupName: string;
  readonly ModelPackageVersion: number;
  readonly ModelPackageArn: string;
  readonly ModelApprovalStatus: ModelApprovalStatus;
  readonly ModelPackageStatus: ModelPackageStatus;
  readonly ModelPackageName?: string;
  readonly CreationTime?: string;
  readonly LastModifiedTime?: string;
}

/** The event the handler receives. */
export type ModelPackageStateChangeEvent = EventBridgeEvent<
  typeof DETAIL_TYPE,
  ModelPackageStateChangeDetail
>;

/** The input of the release workflow's execution. */
export interface ReleaseWorkflowInput {
  readonly modelPackageArn: string;
  readonly modelPackageGroupName: string;
  readonly modelPackageVersion: number;
  /** The event's time: when SageMaker reported the approval. */
  readonly approvedAt: string;
  /** The id of the event that started the release. */
  readonly eventId: string;
}

/** What the handler did with an event. */
export type TriggerOutcome =
  | { readonly outcome: 'started'; readonly executionArn: string; readonly executionName: string }
  | {
      readonly outcome: 'duplicate';
      readonly executionName: string;
      /** Set when Step Functions answered with the running execution (same name and input). */
      readonly executionArn?: string;
    }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly reason: string };

/** What an event asks for, before anything is called. */
export type EventClassification =
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'release'; readonly executionName: string; readonly input: ReleaseWorkflowInput };

/** The handler's configuration, from its environment. */
export interface TriggerConfig {
  readonly stateMachineArn: string;
  readonly modelPackageGroupName: string;
  readonly modelName: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/** The default `service` of log lines and metrics. */
export const DEFAULT_SERVICE_NAME = 'release-trigger';

// A state machine, or one of its versions or aliases: StartExecution accepts all three.
const STATE_MACHINE_ARN = new RegExp(
  `^arn:aws[a-z-]*:states:${REGION_PATTERN.source.slice(1, -1)}:\\d{12}:stateMachine:[^:\\s]+(?::[^:\\s]+)?$`,
);

/**
 * Reads the configuration from `env`. Throws one error that names every missing or invalid
 * variable.
 */
export function readConfig(env: NodeJS.ProcessEnv): TriggerConfig {
  const problems: string[] = [];
  const read = (name: string, what: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') {
      problems.push(`${name} is not set: set it to ${what}`);
    }
    return value;
  };
  const stateMachineArn = read('STATE_MACHINE_ARN', "the ARN of the model's release workflow");
  const modelPackageGroupName = read(
    'MODEL_PACKAGE_GROUP_NAME',
    "the name of the model's model package group",
  );
  const modelName = read('MODEL_NAME', 'the name of the model');
  const metricsNamespace = read('POWERTOOLS_METRICS_NAMESPACE', 'the CloudWatch namespace of the metrics');
  const serviceName = env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME;

  if (stateMachineArn !== '' && !STATE_MACHINE_ARN.test(stateMachineArn)) {
    problems.push(
      `STATE_MACHINE_ARN ${describeValue(stateMachineArn)} is not a state machine ARN: ` +
        'use arn:<partition>:states:<region>:<account>:stateMachine:<name>',
    );
  }
  if (modelPackageGroupName !== '' && !MODEL_PACKAGE_GROUP_NAME.test(modelPackageGroupName)) {
    problems.push(
      `MODEL_PACKAGE_GROUP_NAME ${describeValue(modelPackageGroupName)} is not a model package group name: ` +
        'use 1-63 letters, digits and hyphens, not starting or ending with a hyphen',
    );
  }
  if (problems.length > 0) {
    throw new Error(`The release trigger is misconfigured: ${problems.join('; ')}`);
  }
  return { stateMachineArn, modelPackageGroupName, modelName, metricsNamespace, serviceName };
}

/**
 * The name of the release workflow's execution for a model package version:
 * `v<version>-<the first 32 hex digits of the SHA-256 of the ARN in lower case>`. Deterministic, so
 * that every event for a version names the same execution; at most 50 characters of letters,
 * digits and hyphens (Step Functions allows 80). Throws when the ARN is not a model package
 * version ARN.
 */
export function executionName(modelPackageArn: string): string {
  const { arn, version } = parseModelPackageArn(modelPackageArn);
  if (!Number.isSafeInteger(version)) {
    throw new Error(
      `model package ARN ${describeValue(arn)} has a version beyond ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  const digest = createHash('sha256').update(arn.toLowerCase()).digest('hex');
  return `v${version}-${digest.slice(0, 32)}`;
}

// The `time` of an EventBridge event, e.g. 2021-02-24T17:00:14Z.
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decides what an event asks for, without calling anything: a malformed event is rejected, an
 * event of another group or of a version that is not approved and completed is ignored, and an
 * approved version gets the execution to start.
 */
export function classifyEvent(event: unknown, modelPackageGroupName: string): EventClassification {
  const rejected = (reason: string): EventClassification => ({ kind: 'rejected', reason });
  const ignored = (reason: string): EventClassification => ({ kind: 'ignored', reason });

  if (!isRecord(event)) {
    return rejected(`the event is not an object: ${describeValue(event)}`);
  }
  if (event.source !== EVENT_SOURCE) {
    return rejected(`the event's source is ${describeValue(event.source)}, not '${EVENT_SOURCE}'`);
  }
  if (event['detail-type'] !== DETAIL_TYPE) {
    return rejected(
      `the event's detail-type is ${describeValue(event['detail-type'])}, not '${DETAIL_TYPE}'`,
    );
  }
  const { id, time, detail } = event;
  if (typeof id !== 'string' || id.trim() === '') {
    return rejected(`the event's id is ${describeValue(id)}, not a non-empty string`);
  }
  if (typeof time !== 'string' || !EVENT_TIME.test(time) || Number.isNaN(Date.parse(time))) {
    return rejected(`the event's time is ${describeValue(time)}, not an ISO 8601 timestamp`);
  }
  if (!isRecord(detail)) {
    return rejected(`the event's detail is ${describeValue(detail)}, not an object`);
  }

  const group = detail.ModelPackageGroupName;
  if (typeof group !== 'string' || !MODEL_PACKAGE_GROUP_NAME.test(group)) {
    return rejected(`detail.ModelPackageGroupName ${describeValue(group)} is not a model package group name`);
  }
  const version = detail.ModelPackageVersion;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    return rejected(
      `detail.ModelPackageVersion ${describeValue(version)} is not a version number (1, 2, ...)`,
    );
  }
  let arn;
  try {
    arn = parseModelPackageArn(detail.ModelPackageArn);
  } catch (error) {
    return rejected(`detail.ModelPackageArn: ${errorMessage(error)}`);
  }
  if (!sameGroup(arn.group, group)) {
    return rejected(
      `detail.ModelPackageArn '${arn.arn}' is in group '${arn.group}', ` +
        `but detail.ModelPackageGroupName is '${group}'`,
    );
  }
  if (arn.version !== version) {
    return rejected(
      `detail.ModelPackageArn '${arn.arn}' is version ${arn.version}, ` +
        `but detail.ModelPackageVersion is ${version}`,
    );
  }
  const approval = detail.ModelApprovalStatus;
  if (typeof approval !== 'string') {
    return rejected(`detail.ModelApprovalStatus ${describeValue(approval)} is not a string`);
  }
  const status = detail.ModelPackageStatus;
  if (typeof status !== 'string') {
    return rejected(`detail.ModelPackageStatus ${describeValue(status)} is not a string`);
  }

  if (!sameGroup(group, modelPackageGroupName)) {
    return ignored(
      `the package is in group '${group}', not in this model's group '${modelPackageGroupName}'`,
    );
  }
  if (approval !== 'Approved') {
    return ignored(`ModelApprovalStatus is '${approval}', not 'Approved'`);
  }
  if (status !== 'Completed') {
    return ignored(`ModelPackageStatus is '${status}', not 'Completed'`);
  }
  return {
    kind: 'release',
    executionName: executionName(arn.arn),
    input: {
      modelPackageArn: arn.arn,
      modelPackageGroupName: group,
      modelPackageVersion: version,
      approvedAt: time,
      eventId: id,
    },
  };
}

/**
 * How much earlier than the StartExecution request the execution's start date must be for the
 * response to be the running execution rather than a new one. Step Functions answers a
 * StartExecution with the name and input of a running execution with that execution, unchanged
 * (the same event delivered twice); a new execution starts after the request was sent.
 */
export const REPLAY_TOLERANCE_MS = 2000;

/** What the handler uses, injected so that tests can replace any part. */
export interface TriggerDependencies {
  readonly config: TriggerConfig;
  readonly stepFunctions: SFNClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default - the system clock */
  readonly now?: () => Date;
}

/** The handler's signature. */
export type TriggerHandler = (
  event: ModelPackageStateChangeEvent,
  context?: Context,
) => Promise<TriggerOutcome>;

/** Creates the handler over the given configuration, client, logger and metrics. */
export function createHandler(deps: TriggerDependencies): TriggerHandler {
  const { config, stepFunctions, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const count = (metric: string) => metrics.addMetric(metric, MetricUnit.Count, 1);

  async function start(executionName: string, input: ReleaseWorkflowInput): Promise<TriggerOutcome> {
    const sentAt = now().getTime();
    let response;
    try {
      response = await stepFunctions.send(
        new StartExecutionCommand({
          stateMachineArn: config.stateMachineArn,
          name: executionName,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if (isAwsError(error, 'ExecutionAlreadyExists')) {
        logger.info('Release already started for this model package version: not starting another', {
          executionName,
          stepFunctionsError: describeAwsError(error),
        });
        count('DuplicateEvents');
        return { outcome: 'duplicate', executionName };
      }
      logger.error('Could not start the release workflow: rethrowing so that the event is retried', {
        executionName,
        stateMachineArn: config.stateMachineArn,
        error: error as Error,
      });
      count('StartFailures');
      throw error;
    }
    const executionArn = response.executionArn ?? '';
    const startDate = response.startDate?.getTime();
    if (startDate !== undefined && startDate < sentAt - REPLAY_TOLERANCE_MS) {
      logger.info('Release already started for this model package version: Step Functions returned it', {
        executionName,
        executionArn,
        executionStartDate: response.startDate?.toISOString(),
      });
      count('DuplicateEvents');
      return { outcome: 'duplicate', executionName, executionArn };
    }
    logger.info('Started the release workflow', {
      executionName,
      executionArn,
      modelPackageVersion: input.modelPackageVersion,
    });
    count('ReleasesStarted');
    return { outcome: 'started', executionArn, executionName };
  }

  async function handle(event: unknown): Promise<TriggerOutcome> {
    const classification = classifyEvent(event, config.modelPackageGroupName);
    switch (classification.kind) {
      case 'rejected':
        logger.error('Rejected a malformed event: it cannot start a release', {
          reason: classification.reason,
        });
        count('EventsRejected');
        return { outcome: 'rejected', reason: classification.reason };
      case 'ignored':
        logger.info('Ignored the event', { reason: classification.reason });
        count('EventsIgnored');
        return { outcome: 'ignored', reason: classification.reason };
      case 'release':
        return start(classification.executionName, classification.input);
    }
  }

  return async (event, context) => runInvocation({ logger, metrics }, event, context, handle);
}

// Cold start: the configuration, logger, metrics and client are created once per execution
// environment, and a misconfiguration fails the initialisation.
const config = readConfig(process.env);

export const handler: TriggerHandler = createHandler({
  config,
  stepFunctions: new SFNClient({}),
  ...handlerTelemetry(config),
});
