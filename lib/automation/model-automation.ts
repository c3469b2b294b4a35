import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { handlerFunction } from '../private/handler-function';
import { acknowledgeGrantWildcards } from '../private/nag-acknowledgements';
import { ARTIFACT_FOLDER, CLOUDWATCH_ALARM_NAME, ENVIRONMENT_NAME, MODEL_NAME } from '../private/patterns';
import { IModelRegistry } from '../registry/model-registry';
import { IReleasePointer } from '../serving/release-pointer';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';
import { TrainingPipeline } from '../training/training-pipeline';
import { pauseSwitchParameterName, retrainTriggerFunctionName } from './naming';

/** The CloudWatch namespace of the retrain trigger's and the approval gate's metrics. */
export const AUTOMATION_METRICS_NAMESPACE = 'cdk-mlops-maturity/Automation';

/** The value the pause switch is created with: retraining runs. */
export const PAUSE_SWITCH_ACTIVE = 'active';

/**
 * The pipeline parameters the retrain trigger fills, when the pipeline defines them: the data
 * window and the reason (templates of docs/automation.md, "What a start passes to the pipeline").
 */
export const RETRAIN_PIPELINE_PARAMETERS: { readonly [parameter: string]: string } = {
  DataWindowStart: '{windowStart}',
  DataWindowEnd: '{windowEnd}',
  RetrainReason: '{reason}',
};

/** Bounds the approval gate requires of a challenger's metric, whatever the champion. */
export interface ModelAutomationThreshold {
  /**
   * The smallest value allowed.
   *
   * @default - no lower bound
   */
  readonly min?: number;
  /**
   * The largest value allowed.
   *
   * @default - no upper bound
   */
  readonly max?: number;
}

/** Props of ModelAutomation. */
export interface ModelAutomationProps {
  /** The model's name: the `ModelName` dimension of the metrics, and part of the loop's names. */
  readonly modelName: string;
  /**
   * The name of the environment this construct is in (the release source, where the model trains):
   * the pause switch and the retrain trigger are named after it (lib/automation/naming.ts).
   */
  readonly environmentName: string;
  /** The model's training pipeline, which the retrain trigger starts. */
  readonly pipeline: TrainingPipeline;
  /** The model's package group, whose pending packages the approval gate decides. */
  readonly modelRegistry: IModelRegistry;
  /**
   * The store holding the packages' evaluation reports, which the gate reads (the pipeline's
   * outputs under `pipelines/<artifactFolder>/`).
   */
  readonly artifactStore: IArtifactStore;
  /**
   * The model's folder in the artifact store.
   *
   * @default - the model's name
   */
  readonly artifactFolder?: string;
  /**
   * The release pointer of the environment whose model is the champion (production), e.g.
   * `ReleasePointer.fromParameterName(this, 'Champion', releasePointerParameterName('prod', model))`.
   */
  readonly championPointer: IReleasePointer;
  /**
   * Alarms, by name or ARN, whose entering ALARM starts a retraining. The rule that delivers their
   * events is the watched environment's (see AutomationTarget).
   *
   * @default - none; only the schedule starts retraining
   */
  readonly watchedAlarmNames?: string[];
  /**
   * Also start a retraining on this schedule.
   *
   * @default - no schedule
   */
  readonly schedule?: events.Schedule;
  /**
   * No retraining starts this long after the pipeline's last execution started (0 to 28 days, in
   * whole minutes).
   *
   * @default Duration.hours(6)
   */
  readonly cooldown?: Duration;
  /**
   * At most this many retrainings start in any 24 hours (1-1000).
   *
   * @default 2
   */
  readonly maxStartsPerDay?: number;
  /**
   * The length of the data window passed to the pipeline, in whole days (1-3650), ending when the
   * trigger fired.
   *
   * @default Duration.days(30)
   */
  readonly dataWindow?: Duration;
  /**
   * The report metric the gate compares with the champion's, as a dotted path.
   *
   * @default 'regression_metrics.rmse'
   */
  readonly primaryMetric?: string;
  /**
   * Whether a larger value of the primary metric is better.
   *
   * @default false
   */
  readonly higherIsBetter?: boolean;
  /**
   * How much better than the champion's, in percent of the champion's value, the challenger's
   * primary metric must be (0 up to, not including, 100).
   *
   * @default 1
   */
  readonly marginPercent?: number;
  /**
   * Bounds the challenger's report must meet, by metric path.
   *
   * @default - none
   */
  readonly thresholds?: { readonly [metric: string]: ModelAutomationThreshold };
  /**
   * The topic notified of every verdict (Approved or Rejected) and of the handlers' failure alarms.
   *
   * @default - no notifications and no failure alarms
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * What happens to the log groups, the dead-letter queues and the pause switch when they leave the
   * stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The level-4 loop of one model, in the environment where the model trains (the release source):
 *
 * - **the pause switch**, an SSM String parameter (`pauseSwitchParameterName`), `active`;
 * - **the retrain trigger** (`lambda/retrain-trigger`, named `retrainTriggerFunctionName`), which
 *   starts the pipeline when a watched alarm enters ALARM or the schedule fires, unless the pause
 *   switch, a running execution, the cooldown or the daily cap says no;
 * - **the approval gate** (`lambda/approval-gate`, one at a time), which approves or rejects each
 *   package pending manual approval by comparing its evaluation report with the champion's;
 * - a notification on the topic for every verdict, with the package and the gate's description;
 * - for each handler a dead-letter queue and an alarm on the engine's failure metric. The
 *   environment's PlatformMonitoring discovers the functions and queues of its stack and alarms
 *   their errors, throttles and dead letters.
 *
 * The alarms the trigger watches belong to the environment that serves the champion: its
 * AutomationTarget delivers their state changes to the trigger, by the trigger's name, and
 * registers the level-4 capabilities there, in the environment whose production the loop keeps.
 */
export class ModelAutomation extends Construct {
  /** The pause switch: `paused` stops every start. */
  public readonly pauseSwitch: ssm.StringParameter;
  /** The retrain trigger. */
  public readonly triggerFunction: nodejs.NodejsFunction;
  /** The approval gate. */
  public readonly gateFunction: nodejs.NodejsFunction;
  /** Where events go that the trigger failed on after its retries. */
  public readonly triggerDeadLetterQueue: sqs.Queue;
  /** Where events go that the gate failed on after its retries. */
  public readonly gateDeadLetterQueue: sqs.Queue;
  /** The rule on pending packages that invokes the gate. */
  public readonly gateRule: events.Rule;
  /** The schedule rule, with `schedule`. */
  public readonly scheduleRule?: events.Rule;
  /** The rule that notifies the topic of each verdict, with `notificationTopic`. */
  public readonly verdictRule?: events.Rule;
  /** The pipeline parameters the trigger fills: those of RETRAIN_PIPELINE_PARAMETERS the pipeline defines. */
  public readonly pipelineParameters: { readonly [parameter: string]: string };
  /** The alarm on `TriggerFailures`, with `notificationTopic`. */
  public readonly triggerFailuresAlarm?: cloudwatch.Alarm;
  /** The alarm on `GateFailures`, with `notificationTopic`. */
  public readonly gateFailuresAlarm?: cloudwatch.Alarm;

  private readonly modelName: string;

  constructor(scope: Construct, id: string, props: ModelAutomationProps) {
    super(scope, id);
    const checked = validate(this, props);
    this.modelName = props.modelName;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const model = props.modelName;

    this.pauseSwitch = new ssm.StringParameter(this, 'PauseSwitch', {
      parameterName: pauseSwitchParameterName(props.environmentName, model),
      stringValue: PAUSE_SWITCH_ACTIVE,
      description: `Retraining of model ${model}: 'paused' stops every automatic start, anything else lets them run`,
    });
    this.pauseSwitch.applyRemovalPolicy(removalPolicy);

    // --- the retrain trigger
    const declared = new Set(props.pipeline.definition.parameters.map((p) => p.name));
    this.pipelineParameters = Object.fromEntries(
      Object.entries(RETRAIN_PIPELINE_PARAMETERS).filter(([name]) => declared.has(name)),
    );
    const trigger = this.handler('Trigger', 'retrain-trigger', removalPolicy, {
      functionName: retrainTriggerFunctionName(props.environmentName, model),
      description: `Starts the training pipeline of model ${model} on its alarms and schedule, within its guardrails`,
      timeout: Duration.minutes(1),
      environment: {
        PIPELINE_NAME: props.pipeline.pipelineName,
        // The literal name, which operators type, rather than a reference to the parameter.
        PAUSE_PARAMETER_NAME: pauseSwitchParameterName(props.environmentName, model),
        WATCHED_ALARMS: JSON.stringify(props.watchedAlarmNames ?? []),
        COOLDOWN_MINUTES: String(checked.cooldownMinutes),
        MAX_STARTS_PER_DAY: String(checked.maxStartsPerDay),
        DATA_WINDOW_DAYS: String(checked.dataWindowDays),
        PIPELINE_PARAMETERS: JSON.stringify(this.pipelineParameters),
      },
    });
    this.triggerFunction = trigger.fn;
    this.triggerDeadLetterQueue = trigger.deadLetterQueue;
    trigger.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartAndListThePipelineExecutions',
        actions: ['sagemaker:StartPipelineExecution', 'sagemaker:ListPipelineExecutions'],
        resources: [props.pipeline.pipelineArn],
      }),
    );
    trigger.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadThePauseSwitch',
        actions: ['ssm:GetParameter'],
        resources: [this.pauseSwitch.parameterArn],
      }),
    );
    if (props.schedule) {
      this.scheduleRule = new events.Rule(this, 'Schedule', {
        description: `Starts a retraining of model ${model} on a schedule`,
        schedule: props.schedule,
        targets: [this.target(trigger)],
      });
    }

    // --- the approval gate
    const gate = this.handler('Gate', 'approval-gate', removalPolicy, {
      description: `Approves or rejects the pending packages of model ${model} against the champion`,
      timeout: Duration.minutes(1),
      // One decision at a time: two deliveries of one event must not both find the package pending.
      reservedConcurrentExecutions: 1,
      environment: {
        MODEL_PACKAGE_GROUP_NAME: props.modelRegistry.modelPackageGroupName,
        CHAMPION_POINTER_NAME: props.championPointer.parameterName,
        PRIMARY_METRIC: props.primaryMetric ?? 'regression_metrics.rmse',
        HIGHER_IS_BETTER: String(props.higherIsBetter ?? false),
        MARGIN_PERCENT: String(props.marginPercent ?? 1),
        THRESHOLDS: JSON.stringify(props.thresholds ?? {}),
      },
    });
    this.gateFunction = gate.fn;
    this.gateDeadLetterQueue = gate.deadLetterQueue;
    props.modelRegistry.grantApprove(gate.role);
    gate.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheChampionPointer',
        actions: ['ssm:GetParameter'],
        resources: [props.championPointer.parameterArn],
      }),
    );
    const folder = props.artifactFolder ?? model;
    acknowledgeGrantWildcards(
      gate.role,
      props.artifactStore.grantRead(gate.role, `${ArtifactStorePrefix.PIPELINES}${folder}/*`),
      "The gate reads the evaluation reports of the model's pipeline executions: objects under the model's " +
        'folder of the artifact store, named after each execution at run time.',
    );
    // Under the registry, like the release workflow's rule, which matches the group's name as the
    // registry does (case-insensitively for an imported ARN); named after this construct.
    this.gateRule = props.modelRegistry.onStateChange(`ApprovalGate${Names.uniqueId(this)}`, {
      description: `Invokes the approval gate of model ${model} when a package is pending manual approval`,
      eventPattern: { detail: { ModelApprovalStatus: ['PendingManualApproval'] } },
      target: this.target(gate),
    });

    if (props.notificationTopic) {
      const topic = props.notificationTopic;
      const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);
      this.verdictRule = props.modelRegistry.onStateChange(`Verdicts${Names.uniqueId(this)}`, {
        description: `Notifies the topic of every approval or rejection of a package of model ${model}`,
        eventPattern: { detail: { ModelApprovalStatus: ['Approved', 'Rejected'] } },
        target: new targets.SnsTopic(topic, {
          message: events.RuleTargetInput.fromText(
            `${props.environmentName}: model ${model}: package ${field('ModelPackageArn')} is ` +
              `${field('ModelApprovalStatus')}: ${field('ApprovalDescription')}`,
          ),
        }),
      });
      this.triggerFailuresAlarm = this.failureAlarm(
        'TriggerFailuresAlarm',
        this.metricTriggerFailures(),
        topic,
      );
      this.gateFailuresAlarm = this.failureAlarm('GateFailuresAlarm', this.metricGateFailures(), topic);
    }
  }

  /** A metric of the retrain trigger, e.g. `RetrainsSkipped`. @default - statistic Sum, period 5 minutes */
  public metricTrigger(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('retrain-trigger', metricName, props);
  }

  /** A metric of the approval gate, e.g. `AlreadyDecided`. @default - statistic Sum, period 5 minutes */
  public metricGate(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('approval-gate', metricName, props);
  }

  /** Retrainings started, by alarm or schedule. @default - statistic Sum, period 5 minutes */
  public metricRetrainsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricTrigger('RetrainsStarted', props);
  }

  /** Retrainings a guardrail skipped. @default - statistic Sum, period 5 minutes */
  public metricRetrainsSkipped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricTrigger('RetrainsSkipped', props);
  }

  /** Events the trigger failed on (rethrown). @default - statistic Sum, period 5 minutes */
  public metricTriggerFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricTrigger('TriggerFailures', props);
  }

  /** Packages the gate approved. @default - statistic Sum, period 5 minutes */
  public metricPackagesApproved(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricGate('PackagesApproved', props);
  }

  /** Packages the gate rejected. @default - statistic Sum, period 5 minutes */
  public metricPackagesRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricGate('PackagesRejected', props);
  }

  /** Events the gate failed on (rethrown, nothing decided). @default - statistic Sum, period 5 minutes */
  public metricGateFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricGate('GateFailures', props);
  }

  /** Lets `grantee` pause and resume retraining: write the pause switch. */
  public grantPause(grantee: iam.IGrantable): iam.Grant {
    return this.pauseSwitch.grantWrite(grantee);
  }

  private metric(
    service: string,
    metricName: string,
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AUTOMATION_METRICS_NAMESPACE,
      metricName,
      // The handlers publish each metric once with these two dimensions (and once more with Reason).
      dimensionsMap: { service: `${service}-${this.modelName}`, ModelName: this.modelName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  private failureAlarm(id: string, metric: cloudwatch.Metric, topic: sns.ITopic): cloudwatch.Alarm {
    const alarm = metric.createAlarm(this, id, {
      alarmDescription: `Model ${this.modelName}: ${metric.metricName} above 0 (an AWS call failed; the event is retried, then dead-lettered)`,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No datum is no failure: an idle handler publishes nothing.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    return alarm;
  }

  private target(handler: { fn: lambda.IFunction; deadLetterQueue: sqs.IQueue }): targets.LambdaFunction {
    return new targets.LambdaFunction(handler.fn, {
      retryAttempts: 4,
      deadLetterQueue: handler.deadLetterQueue,
    });
  }

  /**
   * A handler of `lambda/<entry>/`, bundled by esbuild (the runtime's AWS SDK left out), with its own
   * role, log group and dead-letter queue for the events it fails on after Lambda's retries.
   */
  private handler(
    id: string,
    entry: string,
    removalPolicy: RemovalPolicy,
    options: Pick<
      nodejs.NodejsFunctionProps,
      'functionName' | 'description' | 'timeout' | 'environment' | 'reservedConcurrentExecutions'
    >,
  ): { fn: nodejs.NodejsFunction; role: iam.Role; deadLetterQueue: sqs.Queue } {
    const deadLetterQueue = new sqs.Queue(this, `${id}DeadLetters`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    const { fn, role } = handlerFunction(this, id, {
      ...options,
      entry,
      removalPolicy,
      memorySize: 256,
      deadLetterQueue,
      retryAttempts: 2,
      environment: {
        ...options.environment,
        MODEL_NAME: this.modelName,
        POWERTOOLS_SERVICE_NAME: `${entry}-${this.modelName}`,
        POWERTOOLS_METRICS_NAMESPACE: AUTOMATION_METRICS_NAMESPACE,
      },
    });
    return { fn, role, deadLetterQueue };
  }
}

interface Checked {
  readonly cooldownMinutes: number;
  readonly maxStartsPerDay: number;
  readonly dataWindowDays: number;
}

const METRIC_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

function validate(scope: Construct, props: ModelAutomationProps): Checked {
  const problems = new ProblemCollector(`ModelAutomation '${scope.node.path}'`);
  problems.checkPattern(
    'modelName',
    props.modelName ?? '',
    MODEL_NAME,
    'use 1-32 lower-case letters, digits and single hyphens, starting with a letter, e.g. trip-duration',
  );
  problems.checkPattern(
    'environmentName',
    props.environmentName ?? '',
    ENVIRONMENT_NAME,
    'use the name of the environment the model trains in: 1-20 lower-case letters, digits and hyphens',
  );
  problems.checkPattern(
    'artifactFolder',
    props.artifactFolder,
    ARTIFACT_FOLDER,
    "use the model's folder in the artifact store: letters, digits, dots, hyphens and underscores",
  );
  for (const name of props.watchedAlarmNames ?? []) {
    if (typeof name !== 'string' || (!Token.isUnresolved(name) && !CLOUDWATCH_ALARM_NAME.test(name))) {
      problems.add('watchedAlarmNames', name, 'name each alarm by its name or ARN (1-255 characters)');
    }
  }
  const cooldownMinutes = wholeUnits(
    problems,
    'cooldown',
    props.cooldown ?? Duration.hours(6),
    'minutes',
    0,
    40320,
  );
  const dataWindowDays = wholeUnits(
    problems,
    'dataWindow',
    props.dataWindow ?? Duration.days(30),
    'days',
    1,
    3650,
  );
  const maxStartsPerDay = props.maxStartsPerDay ?? 2;
  if (!Number.isInteger(maxStartsPerDay) || maxStartsPerDay < 1 || maxStartsPerDay > 1000) {
    problems.add('maxStartsPerDay', maxStartsPerDay, 'use a whole number from 1 to 1000');
  }
  if (props.primaryMetric !== undefined && !METRIC_PATH.test(props.primaryMetric)) {
    problems.add(
      'primaryMetric',
      props.primaryMetric,
      "use a dotted path into the evaluation report, e.g. 'regression_metrics.rmse'",
    );
  }
  const margin = props.marginPercent;
  if (margin !== undefined && !(Number.isFinite(margin) && margin >= 0 && margin < 100)) {
    problems.add('marginPercent', margin, 'use a percentage from 0 up to, but not including, 100');
  }
  for (const [metric, bounds] of Object.entries(props.thresholds ?? {})) {
    const at = `thresholds['${metric}']`;
    if (!METRIC_PATH.test(metric)) {
      problems.add(
        at,
        bounds,
        "key each bound by a dotted path into the report, e.g. 'regression_metrics.rmse'",
      );
      continue;
    }
    const { min, max } = bounds ?? {};
    const finite = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v));
    if ((min === undefined && max === undefined) || !finite(min) || !finite(max)) {
      problems.add(at, bounds, 'give min, max or both as finite numbers, e.g. { max: 6 }');
    } else if (min !== undefined && max !== undefined && min > max) {
      problems.add(at, bounds, 'min is above max, so no value could pass: swap or widen them');
    }
  }
  const pipelineStack = props.pipeline ? Stack.of(props.pipeline) : undefined;
  if (pipelineStack && pipelineStack !== Stack.of(scope)) {
    problems.add(
      'pipeline',
      props.pipeline.node.path,
      `put the ModelAutomation in the pipeline's stack (${pipelineStack.stackName}), where the model trains`,
    );
  }
  problems.throwIfAny();
  return { cooldownMinutes, maxStartsPerDay, dataWindowDays };
}

/** A duration in whole `unit`s within bounds, for an environment variable. */
function wholeUnits(
  problems: ProblemCollector,
  prop: string,
  value: Duration,
  unit: 'minutes' | 'days',
  min: number,
  max: number,
): number {
  if (value.isUnresolved()) {
    problems.add(
      prop,
      value.toHumanString(),
      `give a literal Duration: it is passed to the handler in ${unit}`,
    );
    return min;
  }
  let amount: number;
  try {
    amount = unit === 'minutes' ? value.toMinutes() : value.toDays();
  } catch {
    problems.add(prop, value.toHumanString(), `use a whole number of ${unit}`);
    return min;
  }
  if (amount < min || amount > max) {
    problems.add(prop, value.toHumanString(), `use ${min} to ${max} ${unit}`);
  }
  return amount;
}
