// Starts a model's training pipeline when a watched alarm enters ALARM or a schedule fires, unless
// a guardrail says no.
//
// Invoked by EventBridge: a rule on "CloudWatch Alarm State Change" events (source aws.cloudwatch)
// of the model's drift and model-quality alarms, and a schedule (an EventBridge rule's "Scheduled
// Event", or an EventBridge Scheduler schedule whose input is SCHEDULER_INPUT of
// lambda/shared/automation/retrain-trigger.ts). One function serves one model and its pipeline.
//
// Environment (read once, at cold start; a missing or invalid value fails the initialisation
// with a message naming the variable):
//   PIPELINE_NAME                 required: the model's training pipeline, name or ARN
//   PAUSE_PARAMETER_NAME          required: the pause switch, an SSM String parameter; `paused`
//                                 (any case) stops every start, any other value lets them run
//   MODEL_NAME                    required: the `modelName` key of every log line and the
//                                 `ModelName` dimension of every metric
//   POWERTOOLS_METRICS_NAMESPACE  required: the CloudWatch namespace of the metrics
//   WATCHED_ALARMS                optional (default none): JSON array of the names or ARNs of the
//                                 alarms that start a retraining; other alarms are ignored
//   COOLDOWN_MINUTES              optional (default 360): no start this long after the last one
//   MAX_STARTS_PER_DAY            optional (default 2): starts allowed in any 24 hours
//   DATA_WINDOW_DAYS              optional (default 30): the data window's length, ending at the trigger
//   PIPELINE_PARAMETERS           optional (default none): JSON object, pipeline parameter name ->
//                                 template with {windowStart} {windowEnd} {windowDays} {trigger}
//                                 {triggerName} {reason} {eventId}
//   POWERTOOLS_SERVICE_NAME       optional (default `retrain-trigger`)
//   POWERTOOLS_LOG_LEVEL          optional (default INFO), read by the Powertools logger
//
// Outcomes (the handler's result). Each invocation counts one metric (unit Count), published twice:
// with the ModelName dimension, and with ModelName and Reason:
//   started    the pipeline was started             RetrainsStarted  Reason Alarm | Schedule
//   skipped    a guardrail said no                  RetrainsSkipped  Reason Paused | PauseSwitchMissing |
//                                                                    Duplicate | ExecutionRunning |
//                                                                    Cooldown | DailyCap
//   ignored    an alarm not watched, or not ALARM   EventsIgnored    Reason AlarmNotWatched | NotInAlarm
//   malformed  logged at error level; not thrown    MalformedEvents  Reason Malformed
//   (throws)   an AWS call failed: rethrown, so     TriggerFailures  Reason Failed
//              that Lambda retries and, in the end, the dead-letter queue receives the event
//
// Idempotent: every delivery of one event (one alarm event id; one schedule and scheduled time)
// sends the same ClientRequestToken and display name, so SageMaker starts at most one execution,
// and a later delivery finds that execution in the listing and skips as Duplicate.

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import { handlerTelemetry, runInvocation } from '../shared/handler-runtime';
import type { Context } from 'aws-lambda';
import {
  classifyRetrainEvent,
  EnvironmentProblems,
  readRetrainSettings,
  RetrainRequest,
  RetrainTriggerEvent,
  RetrainTriggerSettings,
  runRetrainTrigger,
  SkipReason,
} from '../shared/automation';

/** What the handler did with an event. */
export type RetrainOutcome =
  | {
      readonly outcome: 'started';
      readonly pipelineExecutionArn: string;
      readonly displayName: string;
    }
  | {
      readonly outcome: 'skipped';
      readonly reason: SkipReason;
      readonly message: string;
      readonly pipelineExecutionArn?: string;
    }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'malformed'; readonly reason: string };

/** The handler's configuration, from its environment. */
export interface RetrainTriggerConfig {
  readonly settings: RetrainTriggerSettings;
  readonly modelName: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/** The default `service` of log lines and metrics. */
export const DEFAULT_SERVICE_NAME = 'retrain-trigger';

/** Reads the configuration from `env`. Throws one error that names every missing or invalid variable. */
export function readConfig(env: NodeJS.ProcessEnv): RetrainTriggerConfig {
  const problems = new EnvironmentProblems('retrain trigger');
  const settings = readRetrainSettings(env, problems);
  const modelName = env.MODEL_NAME?.trim() ?? '';
  if (modelName === '') {
    problems.add('MODEL_NAME is not set: set it to the name of the model');
  }
  const metricsNamespace = env.POWERTOOLS_METRICS_NAMESPACE?.trim() ?? '';
  if (metricsNamespace === '') {
    problems.add(
      'POWERTOOLS_METRICS_NAMESPACE is not set: set it to the CloudWatch namespace of the metrics',
    );
  }
  const serviceName = env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME;
  problems.throwIfAny();
  return { settings, modelName, metricsNamespace, serviceName };
}

/** What the handler uses, injected so that tests can replace any part. */
export interface RetrainTriggerDependencies {
  readonly config: RetrainTriggerConfig;
  readonly sageMaker: SageMakerClient;
  readonly ssm: SSMClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The clock the cooldown and the cap are measured with. @default - the system clock */
  readonly now?: () => Date;
}

/** The handler's signature. */
export type RetrainTriggerHandler = (
  event: RetrainTriggerEvent,
  context?: Context,
) => Promise<RetrainOutcome>;

/** Creates the handler over the given configuration, clients, logger and metrics. */
export function createHandler(deps: RetrainTriggerDependencies): RetrainTriggerHandler {
  const { config, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());

  // Once without Reason, for alarms on every decision of a kind; once with it, to see why.
  const count = (metric: string, reason: string) => {
    metrics.addMetric(metric, MetricUnit.Count, 1);
    const single = metrics.singleMetric();
    single.addDimension('Reason', reason);
    single.addMetric(metric, MetricUnit.Count, 1);
  };

  async function retrain(request: RetrainRequest): Promise<RetrainOutcome> {
    let result;
    try {
      result = await runRetrainTrigger(deps, config.settings, request, now());
    } catch (error) {
      logger.error('Could not decide or start the retraining: rethrowing so that the event is retried', {
        pipelineName: config.settings.pipelineName,
        error: error as Error,
      });
      count('TriggerFailures', 'Failed');
      throw error;
    }
    if (result.outcome === 'skipped') {
      logger.info('Skipped the retraining', {
        skipReason: result.reason,
        detail: result.message,
        trigger: request.trigger,
        triggerName: request.triggerName,
        pipelineExecutionArn: result.pipelineExecutionArn,
      });
      count('RetrainsSkipped', result.reason);
      return {
        outcome: 'skipped',
        reason: result.reason,
        message: result.message,
        pipelineExecutionArn: result.pipelineExecutionArn,
      };
    }
    logger.info('Started the retraining pipeline', {
      trigger: request.trigger,
      triggerName: request.triggerName,
      triggerReason: request.reason,
      pipelineExecutionArn: result.pipelineExecutionArn,
      pipelineExecutionDisplayName: result.start.PipelineExecutionDisplayName,
      pipelineParameters: result.start.PipelineParameters,
    });
    count('RetrainsStarted', request.trigger === 'alarm' ? 'Alarm' : 'Schedule');
    return {
      outcome: 'started',
      pipelineExecutionArn: result.pipelineExecutionArn,
      displayName: result.start.PipelineExecutionDisplayName ?? '',
    };
  }

  async function handle(event: unknown): Promise<RetrainOutcome> {
    const classification = classifyRetrainEvent(event, config.settings.watchedAlarms);
    switch (classification.kind) {
      case 'malformed':
        logger.error('Dropped a malformed event: it cannot start a retraining', {
          reason: classification.reason,
        });
        count('MalformedEvents', 'Malformed');
        return { outcome: 'malformed', reason: classification.reason };
      case 'ignored':
        logger.info('Ignored the event', { reason: classification.reason });
        count('EventsIgnored', classification.because);
        return { outcome: 'ignored', reason: classification.reason };
      case 'retrain':
        return retrain(classification.request);
    }
  }

  return async (event, context) => runInvocation({ logger, metrics }, event, context, handle);
}

// Cold start: the configuration, logger, metrics and clients are created once per execution
// environment, and a misconfiguration fails the initialisation.
const config = readConfig(process.env);

export const handler: RetrainTriggerHandler = createHandler({
  config,
  sageMaker: new SageMakerClient({}),
  ssm: new SSMClient({}),
  ...handlerTelemetry(config),
});
