// Approves or rejects a model's newly registered package by comparing it with the champion.
//
// Invoked by an EventBridge rule on "SageMaker Model Package State Change" events (source
// aws.sagemaker) of packages pending manual approval. One function serves one model. It reads the
// challenger's evaluation report (DescribeModelPackage -> ModelMetrics.ModelQuality.Statistics ->
// S3) and the champion's (the package the prod release pointer names), applies the gate's rules
// (lambda/shared/automation/approval-gate.ts) and records the verdict, its reasons and both sets of
// numbers with UpdateModelPackage.
//
// Environment (read once, at cold start; a missing or invalid value fails the initialisation
// with a message naming the variable):
//   MODEL_PACKAGE_GROUP_NAME      required: the model's model package group; events of other
//                                 groups are ignored (compared case-insensitively)
//   CHAMPION_POINTER_NAME         required: the prod release pointer, an SSM String parameter
//                                 holding the ARN of the package prod serves, or `none`
//   MODEL_NAME                    required: the `modelName` key of every log line and the
//                                 `ModelName` dimension of every metric
//   POWERTOOLS_METRICS_NAMESPACE  required: the CloudWatch namespace of the metrics
//   PRIMARY_METRIC                optional (default regression_metrics.rmse): the metric compared
//   HIGHER_IS_BETTER              optional (default false): true for accuracy-like metrics
//   MARGIN_PERCENT                optional (default 1): how much better than the champion, in percent
//   THRESHOLDS                    optional (default none): JSON, e.g. {"regression_metrics.rmse":{"max":6}}
//   ONLINE_GATE_STATE_MACHINE_ARN optional (default none): the online gate (OnlineGateWorkflow); a
//                                 package the offline rules approve is then tried online first
//   POWERTOOLS_SERVICE_NAME       optional (default `approval-gate`)
//   POWERTOOLS_LOG_LEVEL          optional (default INFO), read by the Powertools logger
//
// Outcomes (the handler's result; each invocation counts exactly one metric, unit Count):
//   approved         the package was approved                               PackagesApproved
//   trial-started    approved offline, online trial started (still pending)  OnlineTrialsStarted
//   trial-already-started  the trial of an earlier delivery exists           OnlineTrialsAlreadyStarted
//   rejected         the package was rejected, with the reason               PackagesRejected
//   already-decided  the package is no longer pending: left alone            AlreadyDecided
//   ignored          another group, not pending, not completed, or gone      EventsIgnored
//   malformed        a malformed event, logged at error level; not thrown    MalformedEvents
//   (throws)         an AWS call failed otherwise (throttling, access         GateFailures
//                    denied): rethrown, nothing decided, so that Lambda retries and, in the
//                    end, the dead-letter queue receives the event
//
// Idempotent: the package's current approval status is read before anything else, and only a
// package pending manual approval is decided, so a second delivery of the event finds it decided.

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { handlerTelemetry, runInvocation } from '../shared/handler-runtime';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { describeValue } from '../../lib/private/describe-value';
import {
  ApprovalGateRules,
  EnvironmentProblems,
  GateDecision,
  PENDING_MANUAL_APPROVAL,
  readGateRules,
  runApprovalGate,
} from '../shared/automation';
import { errorMessage } from '../shared/release/errors';
import {
  MODEL_PACKAGE_GROUP_NAME,
  parseModelPackageArn,
  sameGroup,
} from '../shared/release/model-package-arn';

/** The `source` of SageMaker's events. */
export const EVENT_SOURCE = 'aws.sagemaker';
/** The `detail-type` of the events this handler receives. */
export const DETAIL_TYPE = 'SageMaker Model Package State Change';

/**
 * The `detail` of a "SageMaker Model Package State Change" event: the model package as
 * DescribeModelPackage describes it, PascalCase. Only the fields the handler reads are declared.
 */
export interface ModelPackageStateChangeDetail {
  readonly ModelPackageGroupName: string;
  readonly ModelPackageVersion: number;
  readonly ModelPackageArn: string;
  readonly ModelApprovalStatus: 'Approved' | 'Rejected' | 'PendingManualApproval';
  readonly ModelPackageStatus?: 'Pending' | 'InProgress' | 'Completed' | 'Failed' | 'Deleting';
}

/** The event the handler receives. */
export type ModelPackageStateChangeEvent = EventBridgeEvent<
  typeof DETAIL_TYPE,
  ModelPackageStateChangeDetail
>;

/** What the handler did with an event. */
export type GateOutcome =
  | {
      readonly outcome: 'approved' | 'rejected';
      readonly modelPackageArn: string;
      readonly description: string;
    }
  | {
      readonly outcome: 'trial-started' | 'trial-already-started';
      readonly modelPackageArn: string;
      readonly executionName: string;
    }
  | { readonly outcome: 'already-decided'; readonly modelPackageArn: string; readonly approvalStatus: string }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'malformed'; readonly reason: string };

/** What an event asks for, before anything is called. */
export type GateEventClassification =
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'judge'; readonly modelPackageArn: string };

/** The handler's configuration, from its environment. */
export interface GateConfig {
  readonly modelPackageGroupName: string;
  readonly championPointerName: string;
  readonly modelName: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
  readonly rules: ApprovalGateRules;
  /** The online gate's state machine. @default - none: the offline verdict is recorded */
  readonly onlineGateStateMachineArn?: string;
}

/** The default `service` of log lines and metrics. */
export const DEFAULT_SERVICE_NAME = 'approval-gate';

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$/;

const SSM_PARAMETER_NAME =
  /^(?:[a-zA-Z0-9_.\-/]{1,2048}|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[a-zA-Z0-9_.\-/]{1,2048})$/;

/** Reads the configuration from `env`. Throws one error that names every missing or invalid variable. */
export function readConfig(env: NodeJS.ProcessEnv): GateConfig {
  const problems = new EnvironmentProblems('approval gate');
  const read = (name: string, what: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') {
      problems.add(`${name} is not set: set it to ${what}`);
    }
    return value;
  };
  const modelPackageGroupName = read(
    'MODEL_PACKAGE_GROUP_NAME',
    "the name of the model's model package group",
  );
  const championPointerName = read(
    'CHAMPION_POINTER_NAME',
    'the name of the prod release pointer (the SSM parameter naming the package prod serves)',
  );
  const modelName = read('MODEL_NAME', 'the name of the model');
  const metricsNamespace = read('POWERTOOLS_METRICS_NAMESPACE', 'the CloudWatch namespace of the metrics');
  const serviceName = env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME;
  if (modelPackageGroupName !== '' && !MODEL_PACKAGE_GROUP_NAME.test(modelPackageGroupName)) {
    problems.add(
      `MODEL_PACKAGE_GROUP_NAME ${describeValue(modelPackageGroupName)} is not a model package group name: ` +
        'use 1-63 letters, digits and hyphens, not starting or ending with a hyphen',
    );
  }
  if (championPointerName !== '' && !SSM_PARAMETER_NAME.test(championPointerName)) {
    problems.add(
      `CHAMPION_POINTER_NAME ${describeValue(championPointerName)} is not an SSM parameter name or ARN`,
    );
  }
  const rules = readGateRules(env, problems);
  const onlineGateStateMachineArn = env.ONLINE_GATE_STATE_MACHINE_ARN?.trim() || undefined;
  if (onlineGateStateMachineArn !== undefined && !STATE_MACHINE_ARN.test(onlineGateStateMachineArn)) {
    problems.add(
      `ONLINE_GATE_STATE_MACHINE_ARN ${describeValue(onlineGateStateMachineArn)} is not a state machine ARN: ` +
        "give the online gate's (arn:aws:states:<region>:<account>:stateMachine:<name>), or leave it unset",
    );
  }
  problems.throwIfAny();
  return {
    modelPackageGroupName,
    championPointerName,
    modelName,
    metricsNamespace,
    serviceName,
    rules,
    ...(onlineGateStateMachineArn ? { onlineGateStateMachineArn } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decides what an event asks for, without calling anything: a malformed event is dropped, an
 * event of another group or of a package that is not pending (the gate's own decisions come back
 * as events too) is ignored, and a pending package of the model's group is judged.
 */
export function classifyEvent(event: unknown, modelPackageGroupName: string): GateEventClassification {
  const malformed = (reason: string): GateEventClassification => ({ kind: 'malformed', reason });
  const ignored = (reason: string): GateEventClassification => ({ kind: 'ignored', reason });
  if (!isRecord(event)) {
    return malformed(`the event is not an object: ${describeValue(event)}`);
  }
  if (event.source !== EVENT_SOURCE || event['detail-type'] !== DETAIL_TYPE) {
    return malformed(
      `the event (source ${describeValue(event.source)}, detail-type ${describeValue(event['detail-type'])}) ` +
        `is not a '${DETAIL_TYPE}' event of ${EVENT_SOURCE}`,
    );
  }
  const { detail } = event;
  if (!isRecord(detail)) {
    return malformed(`the event's detail is ${describeValue(detail)}, not an object`);
  }
  const group = detail.ModelPackageGroupName;
  if (typeof group !== 'string' || !MODEL_PACKAGE_GROUP_NAME.test(group)) {
    return malformed(
      `detail.ModelPackageGroupName ${describeValue(group)} is not a model package group name`,
    );
  }
  let arn;
  try {
    arn = parseModelPackageArn(detail.ModelPackageArn);
  } catch (error) {
    return malformed(`detail.ModelPackageArn: ${errorMessage(error)}`);
  }
  if (!sameGroup(arn.group, group)) {
    return malformed(
      `detail.ModelPackageArn '${arn.arn}' is in group '${arn.group}', but detail.ModelPackageGroupName is '${group}'`,
    );
  }
  const approval = detail.ModelApprovalStatus;
  if (typeof approval !== 'string') {
    return malformed(`detail.ModelApprovalStatus ${describeValue(approval)} is not a string`);
  }
  if (!sameGroup(group, modelPackageGroupName)) {
    return ignored(
      `the package is in group '${group}', not in this model's group '${modelPackageGroupName}'`,
    );
  }
  if (approval !== PENDING_MANUAL_APPROVAL) {
    return ignored(`ModelApprovalStatus is '${approval}', not '${PENDING_MANUAL_APPROVAL}'`);
  }
  const status = detail.ModelPackageStatus;
  if (status !== undefined && status !== 'Completed') {
    return ignored(`ModelPackageStatus is ${describeValue(status)}, not 'Completed'`);
  }
  return { kind: 'judge', modelPackageArn: arn.arn };
}

/** What the handler uses, injected so that tests can replace any part. */
export interface GateDependencies {
  readonly config: GateConfig;
  readonly sageMaker: SageMakerClient;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
  /** Starts online trials. @default - none; required with `config.onlineGateStateMachineArn` */
  readonly stepFunctions?: SFNClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The handler's signature. */
export type GateHandler = (event: ModelPackageStateChangeEvent, context?: Context) => Promise<GateOutcome>;

/** Creates the handler over the given configuration, clients, logger and metrics. */
export function createHandler(deps: GateDependencies): GateHandler {
  const { config, logger, metrics } = deps;
  const count = (metric: string) => metrics.addMetric(metric, MetricUnit.Count, 1);
  const settings = {
    championPointerName: config.championPointerName,
    rules: config.rules,
    onlineGateStateMachineArn: config.onlineGateStateMachineArn,
  };

  async function judge(modelPackageArn: string): Promise<GateOutcome> {
    let result;
    try {
      result = await runApprovalGate(deps, settings, modelPackageArn);
    } catch (error) {
      logger.error('The approval gate could not decide: rethrowing so that the event is retried', {
        error: error as Error,
      });
      count('GateFailures');
      throw error;
    }
    switch (result.outcome) {
      case 'approved':
      case 'rejected':
        return recorded(result.outcome, modelPackageArn, result.decision);
      case 'trial-started':
      case 'trial-already-started': {
        const started = result.outcome === 'trial-started';
        logger.info(
          started
            ? 'The challenger passes the offline gate: started its online trial, the package stays pending'
            : 'The online trial of the challenger was already started: not starting another',
          { reasons: result.decision.reasons, executionName: result.executionName },
        );
        count(started ? 'OnlineTrialsStarted' : 'OnlineTrialsAlreadyStarted');
        return { outcome: result.outcome, modelPackageArn, executionName: result.executionName };
      }
      case 'already-decided':
        logger.info('The package is already decided: left alone', { approvalStatus: result.approvalStatus });
        count('AlreadyDecided');
        return { outcome: 'already-decided', modelPackageArn, approvalStatus: result.approvalStatus };
      case 'not-ready':
        return ignore(`ModelPackageStatus is '${result.packageStatus}', not 'Completed'`);
      case 'not-found':
        return ignore('the package does not exist any more');
    }
  }

  function recorded(
    outcome: 'approved' | 'rejected',
    modelPackageArn: string,
    decision: GateDecision,
  ): GateOutcome {
    logger.info(outcome === 'approved' ? 'Approved the challenger' : 'Rejected the challenger', {
      reasons: decision.reasons,
      approvalDescription: decision.description,
    });
    count(outcome === 'approved' ? 'PackagesApproved' : 'PackagesRejected');
    return { outcome, modelPackageArn, description: decision.description };
  }

  function ignore(reason: string): GateOutcome {
    logger.info('Ignored the event', { reason });
    count('EventsIgnored');
    return { outcome: 'ignored', reason };
  }

  async function handle(event: unknown): Promise<GateOutcome> {
    const classification = classifyEvent(event, config.modelPackageGroupName);
    switch (classification.kind) {
      case 'malformed':
        logger.error('Dropped a malformed event: it names no package to judge', {
          reason: classification.reason,
        });
        count('MalformedEvents');
        return { outcome: 'malformed', reason: classification.reason };
      case 'ignored':
        return ignore(classification.reason);
      case 'judge':
        return judge(classification.modelPackageArn);
    }
  }

  return async (event, context) => runInvocation({ logger, metrics }, event, context, handle);
}

// Cold start: the configuration, logger, metrics and clients are created once per execution
// environment, and a misconfiguration fails the initialisation.
const config = readConfig(process.env);

export const handler: GateHandler = createHandler({
  config,
  sageMaker: new SageMakerClient({}),
  s3: new S3Client({}),
  ssm: new SSMClient({}),
  stepFunctions: config.onlineGateStateMachineArn ? new SFNClient({}) : undefined,
  ...handlerTelemetry(config),
});
