import { Arn, ArnFormat, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import {
  AxisPosition,
  DefaultDashboardFactory,
  GraphWidgetType,
  MetricStatistic,
  MonitoringFacade,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { ProblemCollector } from '../private/errors';
import { handlerFunction } from '../private/handler-function';
import {
  acknowledgeGeneratedPolicyWildcards,
  acknowledgeGrantWildcards,
  acknowledgeWildcards,
} from '../private/nag-acknowledgements';
import { SAGEMAKER_INSTANCE_TYPE, SAGEMAKER_NAME } from '../private/sagemaker-names';
import { CLOUDWATCH_ALARM_NAME } from '../private/patterns';
import { IModelRegistry } from '../registry/model-registry';
import { IReleasePointer } from '../serving/release-pointer';
import { IServingSlot, ServingSlot } from '../serving/serving-slot';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';

/** The namespace the drift job publishes in (lambda/drift-job). */
export const DRIFT_METRICS_NAMESPACE = 'cdk-mlops-maturity/Drift';
/** The namespace the model quality job publishes in (lambda/model-quality). */
export const MODEL_QUALITY_METRICS_NAMESPACE = 'cdk-mlops-maturity/ModelQuality';

/** Options of a baseline read from the model package that a release pointer names. */
export interface ReleasedModelBaselineOptions {
  /** The slot's release pointer: the package it names is the model that serves. */
  readonly pointer: IReleasePointer;
  /**
   * The model package group the served packages come from (e.g. the group of the environment that
   * trains, for a staging or prod slot): the job may describe its versions.
   */
  readonly modelRegistry: IModelRegistry;
  /**
   * The folder of the `pipelines/` prefix whose executions wrote the packages' baselines (the
   * training workload's `artifactFolder`): the job may read baselines only there.
   *
   * @default - the whole `pipelines/` prefix
   */
  readonly artifactFolder?: string;
  /**
   * The store the training pipeline wrote the baselines to, when it is known here.
   *
   * @default - any bucket of the registry's account (a store of another environment, whose name is
   * not known here), under the `pipelines/` prefix; that store's bucket policy and key policy must
   * let this account read them
   */
  readonly artifactStore?: IArtifactStore;
}

/** Where the drift job finds the training baseline (`baseline.json`, written by ml/preprocess.py). */
export class MonitoringBaseline {
  /**
   * The baseline of the model that serves: at every run the job reads the slot's release pointer
   * and takes the package's data quality statistics (`ModelMetrics.ModelDataQuality.Statistics`,
   * where the reference pipeline registers the baseline written next to the model's training
   * data). A release changes the baseline with the model, without a deployment; a slot that
   * serves nothing (`none`) is not measured.
   */
  public static ofReleasedModel(options: ReleasedModelBaselineOptions): MonitoringBaseline {
    return new MonitoringBaseline({ kind: 'released', ...options });
  }

  /**
   * A fixed baseline object in the monitoring's artifact store, e.g. one a person reviewed.
   *
   * @param key the object's key, e.g. `reports/baselines/trip-duration/baseline.json`
   */
  public static fromObject(key: string): MonitoringBaseline {
    return new MonitoringBaseline({ kind: 'object', key });
  }

  private constructor(
    /** @internal */ public readonly _source:
      | ({ readonly kind: 'released' } & ReleasedModelBaselineOptions)
      | { readonly kind: 'object'; readonly key: string },
  ) {}
}

/** What a model's predictions are, for its quality metrics. */
export class QualityProblemType {
  /** A number: RMSE and MAE. */
  public static readonly REGRESSION = new QualityProblemType('Regression');
  /** A score or label of class 1 against 0: accuracy and F1. */
  public static readonly BINARY_CLASSIFICATION = new QualityProblemType('BinaryClassification');

  private constructor(
    /** The model quality job's `problemType`. */
    public readonly name: string,
  ) {}
}

/**
 * SageMaker Model Monitor's data quality schedule, for accounts that still have Model Monitor
 * (closed to new customers: DESIGN.md decision 1). It runs besides the platform's own drift job.
 */
export interface ModelMonitorScheduleOptions {
  /**
   * The Model Monitor analyzer image of the region (`sagemaker-model-monitor-analyzer`, in an AWS
   * account that differs per region: see the SageMaker docs' "Model Monitor prebuilt container").
   */
  readonly imageUri: string;
  /**
   * `s3://` URI of the `constraints.json` a Model Monitor baselining job wrote (its format is not
   * the platform's baseline.json).
   *
   * @default - no baseline: the job reports statistics without violations
   */
  readonly baselineConstraintsUri?: string;
  /**
   * `s3://` URI of the baselining job's `statistics.json`.
   *
   * @default - no baseline statistics
   */
  readonly baselineStatisticsUri?: string;
  /**
   * The instance type of the monitoring jobs.
   *
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
  /**
   * The schedule, a Model Monitor cron expression.
   *
   * @default 'cron(0 * ? * * *)' (hourly)
   */
  readonly scheduleExpression?: string;
}

/** The names of ModelMonitoring's alarms; each one left out gets a generated name. */
export interface ModelMonitoringAlarmNamesProps {
  /**
   * The alarm on the share of drifted features.
   *
   * @default - a generated name
   */
  readonly driftedFeatureShare?: string;
  /**
   * The alarm on the largest feature PSI.
   *
   * @default - a generated name
   */
  readonly maxFeaturePsi?: string;
  /**
   * The alarm on the RMSE or the accuracy.
   *
   * @default - a generated name
   */
  readonly quality?: string;
}

/** Props of ModelMonitoring. */
export interface ModelMonitoringProps {
  /**
   * The real-time slot to monitor, with data capture on. A slot of another stack (e.g. the
   * environment's serving stack) is referenced by its endpoint name only, so that this stack does
   * not import the serving stack's outputs.
   */
  readonly servingSlot: IServingSlot;
  /** The store the slot captures to (`capture/`), ground truth is uploaded to and reports go to. */
  readonly artifactStore: IArtifactStore;
  /** Where the drift job finds the training baseline. */
  readonly baseline: MonitoringBaseline;
  /**
   * The variant whose capture is measured.
   *
   * @default - the slot's variant (`AllTraffic` for a ServingSlot)
   */
  readonly variantName?: string;
  /**
   * The topic the alarms notify (the environment's alarm topic).
   *
   * @default - the alarms have no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the drift workflow runs; each run measures the `driftWindowHours` whole hours before it.
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly driftSchedule?: events.Schedule;
  /**
   * The drift window's length, in whole hours (1-24).
   *
   * @default 1
   */
  readonly driftWindowHours?: number;
  /**
   * PSI at or above this marks a feature drifted; the max-PSI alarm fires at it.
   *
   * @default 0.2
   */
  readonly psiThreshold?: number;
  /**
   * The alarm fires when the share of drifted features is above this (0-1).
   *
   * @default 0.3
   */
  readonly driftedFeatureShareThreshold?: number;
  /**
   * A window of more capture objects than this runs as a distributed map over batches of them;
   * smaller ones run in one invocation.
   *
   * @default 100
   */
  readonly maxObjectsPerInvocation?: number;
  /**
   * Capture objects per batch of a distributed run (1-1000).
   *
   * @default 50
   */
  readonly objectsPerBatch?: number;
  /**
   * Batches counted at the same time in a distributed run.
   *
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * When the model quality job runs.
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly qualitySchedule?: events.Schedule;
  /**
   * What the model predicts.
   *
   * @default QualityProblemType.REGRESSION
   */
  readonly problemType?: QualityProblemType;
  /**
   * The capture window a quality run evaluates, in whole hours (1-24).
   *
   * @default Duration.hours(24)
   */
  readonly qualityWindow?: Duration;
  /**
   * How long before a quality run its capture window ends, so that labels have time to arrive
   * (whole hours, 0-144). Labels are read from the window's start until the run.
   *
   * @default Duration.hours(24)
   */
  readonly labelDelay?: Duration;
  /**
   * Regression: the quality alarm fires when the RMSE is above this, in the label's unit (e.g. the
   * training pipeline's registration gate, its `maxRmse`).
   *
   * @default - no RMSE alarm
   */
  readonly maxRmse?: number;
  /**
   * Binary classification: the quality alarm fires when the accuracy is below this (0-1).
   *
   * @default - no accuracy alarm
   */
  readonly minAccuracy?: number;
  /**
   * Also schedule SageMaker Model Monitor's data quality job on the endpoint. Off by default:
   * Model Monitor is closed to new customers. CloudFormation creates the schedule only when the
   * endpoint exists: enable it once a model is released.
   *
   * @default - no Model Monitor schedule
   */
  readonly modelMonitor?: ModelMonitorScheduleOptions;
  /**
   * The names of the drift and quality alarms, e.g. `modelMonitoringAlarmNames(environment, model)`
   * (lib/automation/naming.ts), so that another environment can watch them by name (level 4: the
   * retrain trigger of the release source). Changing a name replaces the alarm.
   *
   * @default - names CloudFormation generates
   */
  readonly alarmNames?: ModelMonitoringAlarmNamesProps;
  /**
   * The dashboard's name.
   *
   * @default - `<endpoint name>-monitoring`
   */
  readonly dashboardName?: string;
  /**
   * What happens to the jobs' log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The alarm statistic of the jobs' metrics: a retried run sends an equal datum again. */
const JOB_STATISTIC = cloudwatch.Stats.MAXIMUM;
const HOUR_SECONDS = 3600;

/**
 * Model monitoring of one real-time serving slot with data capture (maturity level 3:
 * `model-monitoring`, `drift-detection`, `model-quality`), in every account, without SageMaker
 * Model Monitor:
 *
 * - **Drift**: a schedule (hourly) starts a Step Functions standard workflow. A planning step finds
 *   the baseline of the model that serves and the capture objects of the window
 *   (`capture/<endpoint>/<variant>/yyyy/mm/dd/hh/`); a small window is measured in one invocation
 *   of the drift job, a large one as a distributed map, one invocation per batch of objects, each
 *   writing its histogram, then a merge step that publishes the statistics and the report exactly
 *   as the single pass does (the histograms' counts merge exactly).
 * - **Quality**: a schedule (daily) runs the model quality job on the captured predictions and the
 *   ground truth uploaded for them.
 * - **Alarms**, each with an explicit `treatMissingData`, notifying `alarmTopic`: the share of
 *   drifted features, the largest feature PSI, and the RMSE (or accuracy). The jobs' own failures
 *   are alarmed by the environment's PlatformMonitoring, which discovers the functions, the dead-
 *   letter queue and the state machine of its stack.
 * - **A dashboard** per slot: invocations, 5XX errors and p99 latency per variant, drift and
 *   quality, with the alarms' states.
 */
export class ModelMonitoring extends Construct {
  /** The drift workflow: plan, then one pass or a distributed map and a merge. */
  public readonly stateMachine: sfn.StateMachine;
  /** The drift workflow's planning step. */
  public readonly planFunction: nodejs.NodejsFunction;
  /** The drift job: a whole window, one batch of a window, or the merge of its batches. */
  public readonly driftFunction: nodejs.NodejsFunction;
  /** The model quality job. */
  public readonly qualityFunction: nodejs.NodejsFunction;
  /** The schedule that starts the drift workflow. */
  public readonly driftSchedule: events.Rule;
  /** The schedule that runs the model quality job. */
  public readonly qualitySchedule: events.Rule;
  /** Where quality schedule events go that the job failed on after its retries. */
  public readonly qualityDeadLetterQueue: sqs.Queue;
  /** Fires when the share of drifted features is above `driftedFeatureShareThreshold`. */
  public readonly driftedFeatureShareAlarm: cloudwatch.Alarm;
  /** Fires when the largest feature PSI reaches `psiThreshold`. */
  public readonly maxFeaturePsiAlarm: cloudwatch.Alarm;
  /** Fires when the RMSE is above `maxRmse` (or the accuracy below `minAccuracy`), when given. */
  public readonly qualityAlarm?: cloudwatch.Alarm;
  /** The slot's dashboard. */
  public readonly facade: MonitoringFacade;
  /** The Model Monitor schedule, with `modelMonitor`. */
  public readonly modelMonitorSchedule?: sagemaker.CfnMonitoringSchedule;

  /** The monitored endpoint: its capture and ground truth are under `capture/<this>/` and `ground-truth/<this>/`. */
  public readonly endpointName: string;
  private readonly variantName: string;

  constructor(scope: Construct, id: string, props: ModelMonitoringProps) {
    super(scope, id);
    const checked = validate(this, props);
    const slot = props.servingSlot;
    const store = props.artifactStore;
    this.endpointName = slot.endpointName;
    this.variantName = props.variantName ?? slot.variantName;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const slotCapture = `${ArtifactStorePrefix.CAPTURE}${this.endpointName}/`;
    const reports = (kind: string) => `${ArtifactStorePrefix.REPORTS}${kind}/${this.endpointName}/`;

    // --- drift: the planner, the job, the workflow and its schedule
    const plan = this.handlerFunction('Plan', 'drift-plan', removalPolicy, {
      description: `Plans the drift runs of ${this.endpointName}: the served model's baseline and the window`,
      timeout: Duration.minutes(2),
      memorySize: 256,
    });
    this.planFunction = plan.fn;
    this.grantRead(plan.role, store, `${slotCapture}*`, 'lists the capture objects of the slot');

    const drift = this.handlerFunction('Drift', 'drift-job', removalPolicy, {
      description: `Measures the drift of ${this.endpointName}'s captured requests from the training baseline`,
      timeout: Duration.minutes(15),
      // Streamed line by line: memory is bounded by the longest line and the histograms.
      memorySize: 1024,
    });
    this.driftFunction = drift.fn;
    this.grantRead(drift.role, store, `${slotCapture}*`, 'reads the capture objects of the slot');
    // Reports and the batches' histograms, which the merge reads back.
    const driftReports = `${reports('drift')}*`;
    this.grantWrite(drift.role, store, driftReports, 'writes the drift reports and histograms of the slot');
    this.grantRead(drift.role, store, driftReports, 'reads back the histograms of the batches of a run');
    grantPutMetricData(drift.role, DRIFT_METRICS_NAMESPACE);
    const baseline = this.grantBaseline(plan.role, drift.role, props.baseline, store);

    this.stateMachine = this.driftWorkflow(props, checked, removalPolicy);
    this.driftSchedule = new events.Rule(this, 'DriftSchedule', {
      description: `Starts the drift workflow of ${this.endpointName} (variant ${this.variantName})`,
      schedule: props.driftSchedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({
            bucket: store.bucketName,
            capturePrefix: ArtifactStorePrefix.CAPTURE.prefix,
            reportPrefix: ArtifactStorePrefix.REPORTS.prefix,
            endpointName: this.endpointName,
            variantName: this.variantName,
            windowHours: checked.driftWindowHours,
            psiThreshold: checked.psiThreshold,
            maxObjectsPerInvocation: checked.maxObjectsPerInvocation,
            objectsPerBatch: checked.objectsPerBatch,
            baseline,
            // The scheduled time: every step computes the same window from it, and a retry too.
            time: events.EventField.time,
          }),
        }),
      ],
    });

    // --- quality: the job and its schedule
    this.qualityDeadLetterQueue = new sqs.Queue(this, 'QualityDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    const quality = this.handlerFunction('Quality', 'model-quality', removalPolicy, {
      description: `Joins ${this.endpointName}'s predictions with their ground truth and measures its quality`,
      timeout: Duration.minutes(15),
      // The join holds one entry per inference id of the window: ~200 MB per million ids.
      memorySize: 1024,
      deadLetterQueue: this.qualityDeadLetterQueue,
      retryAttempts: 2,
    });
    this.qualityFunction = quality.fn;
    this.grantRead(quality.role, store, `${slotCapture}*`, 'reads the captured predictions of the slot');
    this.grantRead(
      quality.role,
      store,
      `${ArtifactStorePrefix.GROUND_TRUTH}${this.endpointName}/*`,
      'reads the ground truth uploaded for the slot',
    );
    this.grantWrite(
      quality.role,
      store,
      `${reports('model-quality')}*`,
      'writes the quality reports of the slot',
    );
    grantPutMetricData(quality.role, MODEL_QUALITY_METRICS_NAMESPACE);
    this.qualitySchedule = new events.Rule(this, 'QualitySchedule', {
      description: `Runs the model quality job of ${this.endpointName} (variant ${this.variantName})`,
      schedule: props.qualitySchedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [
        new targets.LambdaFunction(quality.fn, {
          retryAttempts: 2,
          deadLetterQueue: this.qualityDeadLetterQueue,
          event: events.RuleTargetInput.fromObject({
            bucket: store.bucketName,
            capturePrefix: ArtifactStorePrefix.CAPTURE.prefix,
            groundTruthPrefix: ArtifactStorePrefix.GROUND_TRUTH.prefix,
            reportPrefix: ArtifactStorePrefix.REPORTS.prefix,
            endpointName: this.endpointName,
            variantName: this.variantName,
            problemType: checked.problemType.name,
            windowHours: checked.qualityWindowHours,
            labelDelayHours: checked.labelDelayHours,
            time: events.EventField.time,
          }),
        }),
      ],
    });

    // --- alarms and dashboard
    const alarms = this.createAlarms(props, checked);
    this.driftedFeatureShareAlarm = alarms.share;
    this.maxFeaturePsiAlarm = alarms.psi;
    this.qualityAlarm = alarms.quality;
    for (const alarm of [alarms.share, alarms.psi, ...(alarms.quality ? [alarms.quality] : [])]) {
      if (props.alarmTopic) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      }
    }
    this.facade = this.createDashboard(props, checked);

    if (props.modelMonitor) {
      this.modelMonitorSchedule = this.createModelMonitorSchedule(props.modelMonitor, store);
    }

    MaturityContract.provide(
      this,
      Capability.MODEL_MONITORING,
      Capability.DRIFT_DETECTION,
      Capability.MODEL_QUALITY,
    );
  }

  /** The drift metric `metricName` of the monitored variant. @default - statistic Maximum, period 1 hour */
  public metricDrift(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.jobMetric(DRIFT_METRICS_NAMESPACE, metricName, Duration.hours(1), props);
  }

  /** The share of features that drifted in a window. @default - statistic Maximum, period 1 hour */
  public metricDriftedFeatureShare(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricDrift('DriftedFeatureShare', props);
  }

  /** The largest feature PSI of a window. @default - statistic Maximum, period 1 hour */
  public metricMaxFeaturePsi(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricDrift('MaxFeaturePsi', props);
  }

  /** A model quality metric, e.g. `Rmse`, `Mae`, `Accuracy`, `F1`. @default - statistic Maximum, period 1 day */
  public metricQuality(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.jobMetric(MODEL_QUALITY_METRICS_NAMESPACE, metricName, Duration.days(1), props);
  }

  /** A metric a job publishes for the monitored variant, one datum per run (`JOB_STATISTIC`). */
  private jobMetric(
    namespace: string,
    metricName: string,
    period: Duration,
    props: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
      statistic: JOB_STATISTIC,
      period,
      ...props,
    });
  }

  /**
   * A handler of `lambda/<entry>/`, bundled by esbuild (the runtime's AWS SDK left out), with its
   * own role and log group: the role gets only what is granted below.
   */
  private handlerFunction(
    id: string,
    entry: string,
    removalPolicy: RemovalPolicy,
    options: Pick<
      nodejs.NodejsFunctionProps,
      'description' | 'timeout' | 'memorySize' | 'deadLetterQueue' | 'retryAttempts'
    >,
  ): { fn: nodejs.NodejsFunction; role: iam.Role } {
    return handlerFunction(this, id, {
      ...options,
      entry,
      removalPolicy,
      environment: { POWERTOOLS_SERVICE_NAME: `${entry}-${this.endpointName}` },
    });
  }

  private grantRead(role: iam.IRole, store: IArtifactStore, pattern: string, why: string): void {
    acknowledgeGrantWildcards(
      role,
      store.grantRead(role, pattern),
      `The job ${why}: objects under one prefix of the artifact store, whose keys are written at run time.`,
    );
  }

  private grantWrite(role: iam.IRole, store: IArtifactStore, pattern: string, why: string): void {
    acknowledgeGrantWildcards(
      role,
      store.grantWrite(role, pattern),
      `The job ${why}: objects under one prefix of the artifact store, named after each run's window.`,
    );
  }

  /**
   * Grants reading the baseline, and for a released model's baseline the pointer and the packages;
   * returns the planner's `baseline` input.
   */
  private grantBaseline(
    planRole: iam.IRole,
    driftRole: iam.IRole,
    baseline: MonitoringBaseline,
    store: IArtifactStore,
  ): Record<string, string> {
    const source = baseline._source;
    if (source.kind === 'object') {
      this.grantRead(driftRole, store, source.key, 'reads its fixed baseline');
      return { key: source.key };
    }
    source.pointer.grantRead(planRole);
    source.modelRegistry.grantRead(planRole);
    const pattern = `${ArtifactStorePrefix.PIPELINES}${source.artifactFolder ? `${source.artifactFolder}/` : ''}*`;
    if (source.artifactStore) {
      this.grantRead(driftRole, source.artifactStore, pattern, "reads the served model's baseline");
    } else {
      const stack = Stack.of(this);
      const registry = Arn.split(source.modelRegistry.modelPackageGroupArn, ArnFormat.SLASH_RESOURCE_NAME);
      const reads = [
        new iam.PolicyStatement({
          sid: 'ReadTheServedModelsBaselines',
          actions: ['s3:GetObject'],
          // The store of the environment that trains is created in another stage (and maybe
          // account), so its bucket cannot be named: any bucket of that account, only there.
          resources: [`arn:${stack.partition}:s3:::*/${pattern}`],
          conditions: { StringEquals: { 's3:ResourceAccount': registry.account ?? stack.account } },
        }),
        new iam.PolicyStatement({
          sid: 'DecryptTheServedModelsBaselines',
          actions: ['kms:Decrypt'],
          resources: [
            `arn:${stack.partition}:kms:${registry.region ?? stack.region}:${registry.account ?? stack.account}:key/*`,
          ],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${registry.region ?? stack.region}.amazonaws.com` },
          },
        }),
      ];
      reads.forEach((s) => driftRole.addToPrincipalPolicy(s));
      acknowledgeWildcards(
        driftRole,
        reads,
        "The served model's baseline is in the store of the environment that trained it, created in another " +
          "stage: reads are limited to that account's buckets under the pipelines prefix, and decryption to its " +
          'keys used through S3.',
      );
    }
    return { pointerName: source.pointer.parameterName };
  }

  private driftWorkflow(
    props: ModelMonitoringProps,
    checked: Checked,
    removalPolicy: RemovalPolicy,
  ): sfn.StateMachine {
    const slot = {
      'bucket.$': '$.bucket',
      'capturePrefix.$': '$.capturePrefix',
      'reportPrefix.$': '$.reportPrefix',
      'endpointName.$': '$.endpointName',
      'variantName.$': '$.variantName',
      'baselineBucket.$': '$.plan.baselineBucket',
      'baselineKey.$': '$.plan.baselineKey',
    };
    const window = {
      'windowHours.$': '$.windowHours',
      'psiThreshold.$': '$.psiThreshold',
      'time.$': '$.plan.time',
    };
    const invoke = (id: string, comment: string, payload: Record<string, unknown>, resultPath?: string) => {
      const task = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: id === 'PlanRun' ? this.planFunction : this.driftFunction,
        comment,
        payload: sfn.TaskInput.fromObject(payload),
        // The handler's result as it is, without the invocation's envelope.
        payloadResponseOnly: true,
        resultPath,
      });
      return task;
    };
    const planTask = invoke(
      'PlanRun',
      "Finds the served model's baseline and the window's capture objects, and plans the run",
      {
        'bucket.$': '$.bucket',
        'capturePrefix.$': '$.capturePrefix',
        'reportPrefix.$': '$.reportPrefix',
        'endpointName.$': '$.endpointName',
        'variantName.$': '$.variantName',
        'baseline.$': '$.baseline',
        'windowHours.$': '$.windowHours',
        'maxObjectsPerInvocation.$': '$.maxObjectsPerInvocation',
        'objectsPerBatch.$': '$.objectsPerBatch',
        'time.$': '$.time',
      },
      '$.plan',
    );
    const single = invoke('MeasureWindow', 'Measures the whole window in one invocation', {
      mode: 'single',
      ...slot,
      ...window,
    });
    const batch = invoke('MeasureBatch', "Counts one batch of the window's objects into a histogram", {
      mode: 'batch',
      'bucket.$': '$.bucket',
      'capturePrefix.$': '$.capturePrefix',
      'reportPrefix.$': '$.reportPrefix',
      'endpointName.$': '$.endpointName',
      'variantName.$': '$.variantName',
      'baselineBucket.$': '$.baselineBucket',
      'baselineKey.$': '$.baselineKey',
      'windowEnd.$': '$.windowEnd',
      'batch.$': '$.batch',
    });
    const batches = new sfn.DistributedMap(this, 'MeasureBatches', {
      comment: 'One invocation per batch of capture objects, each writing its histogram',
      itemsPath: '$.plan.batches',
      itemSelector: {
        'bucket.$': '$.bucket',
        'capturePrefix.$': '$.capturePrefix',
        'reportPrefix.$': '$.reportPrefix',
        'endpointName.$': '$.endpointName',
        'variantName.$': '$.variantName',
        'baselineBucket.$': '$.plan.baselineBucket',
        'baselineKey.$': '$.plan.baselineKey',
        'windowEnd.$': '$.plan.windowEnd',
        'batch.$': '$$.Map.Item.Value',
      },
      maxConcurrency: checked.maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: '$.batches',
    });
    batches.itemProcessor(batch);
    const mergeTask = invoke(
      'MergeBatches',
      "Merges the batches' histograms, publishes the statistics and writes the report, as one pass would",
      { mode: 'merge', ...slot, ...window, 'batches.$': '$.batches' },
    );
    const definition = planTask.next(
      new sfn.Choice(this, 'WindowSize')
        .when(
          sfn.Condition.stringEquals('$.plan.mode', 'none'),
          new sfn.Succeed(this, 'NothingServed', { comment: 'The slot serves no model: nothing to measure' }),
        )
        .when(
          sfn.Condition.stringEquals('$.plan.mode', 'single'),
          single.next(new sfn.Succeed(this, 'Measured')),
        )
        .otherwise(batches.next(mergeTask).next(new sfn.Succeed(this, 'MeasuredInBatches'))),
    );
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy,
    });
    const machine = new sfn.StateMachine(this, 'DriftWorkflow', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: `Measures the drift of ${this.endpointName} (variant ${props.variantName ?? props.servingSlot.variantName}) from its training baseline`,
      // A run lists, counts and merges one window; the job's own timeout is 15 minutes per step.
      timeout: Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: executionLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledgeGeneratedPolicyWildcards(
      machine,
      "The state machine invokes the functions' versions (`<arn>:*`), as the Step Functions Lambda integration " +
        "grants, runs and stops its own distributed map's child executions (`<execution arn>:*`), and writes " +
        'X-Ray traces and log deliveries, which have no resource ARNs.',
    );
    return machine;
  }

  private createAlarms(
    props: ModelMonitoringProps,
    checked: Checked,
  ): { share: cloudwatch.Alarm; psi: cloudwatch.Alarm; quality?: cloudwatch.Alarm } {
    const what = `${this.endpointName} (variant ${this.variantName})`;
    // A run publishes one datum, timestamped at its window's end (the start of the hour it runs
    // in): two periods cover a run late in its hour. Missing data is not drift: an idle or unreleased
    // slot publishes no share, and a failed run is alarmed as a failed execution.
    const drift = {
      evaluationPeriods: 2,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const names = props.alarmNames ?? {};
    const share = this.metricDriftedFeatureShare().createAlarm(this, 'DriftedFeatureShareAlarm', {
      alarmName: names.driftedFeatureShare,
      alarmDescription: `${what}: more than ${checked.driftedFeatureShareThreshold * 100}% of the features drifted (PSI >= ${checked.psiThreshold})`,
      threshold: checked.driftedFeatureShareThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...drift,
    });
    const psi = this.metricMaxFeaturePsi().createAlarm(this, 'MaxFeaturePsiAlarm', {
      alarmName: names.maxFeaturePsi,
      alarmDescription: `${what}: a feature's PSI reached ${checked.psiThreshold}`,
      threshold: checked.psiThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...drift,
    });
    // A quality run's datum is timestamped at its capture window's end, `labelDelay` before the run:
    // the alarm looks back far enough to see it, a week at most.
    const quality = {
      evaluationPeriods: Math.min(
        7,
        1 + Math.ceil((checked.labelDelayHours + checked.qualityWindowHours) / 24),
      ),
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    let qualityAlarm: cloudwatch.Alarm | undefined;
    if (props.maxRmse !== undefined) {
      qualityAlarm = this.metricQuality('Rmse').createAlarm(this, 'QualityAlarm', {
        alarmName: names.quality,
        alarmDescription: `${what}: RMSE on the ground truth above ${props.maxRmse}`,
        threshold: props.maxRmse,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ...quality,
      });
    } else if (props.minAccuracy !== undefined) {
      qualityAlarm = this.metricQuality('Accuracy').createAlarm(this, 'QualityAlarm', {
        alarmName: names.quality,
        alarmDescription: `${what}: accuracy on the ground truth below ${props.minAccuracy}`,
        threshold: props.minAccuracy,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        ...quality,
      });
    }
    return { share, psi, quality: qualityAlarm };
  }

  /**
   * The slot's dashboard, laid out by cdk-monitoring-constructs. The library has no SageMaker
   * endpoint monitoring, so the endpoint's metrics come from the slot's own metric methods, as
   * custom metric groups; its alarm factory is not used: the alarms above are plain CloudWatch
   * alarms, shown by an alarm status widget.
   */
  private createDashboard(props: ModelMonitoringProps, checked: Checked): MonitoringFacade {
    const slot = props.servingSlot;
    const facade = new MonitoringFacade(this, 'Dashboard', {
      alarmFactoryDefaults: { alarmNamePrefix: this.endpointName, actionsEnabled: false },
      metricFactoryDefaults: {},
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: props.dashboardName ?? `${this.endpointName}-monitoring`,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });
    const variants = variantsOf(slot);
    const perVariant = (metric: (v: VariantMetrics) => cloudwatch.Metric, label: string) =>
      variants.map((v) => metric(v).with({ label: `${v.variantName} ${label}` }));
    facade.monitorCustom({
      humanReadableName: `${this.endpointName} endpoint`,
      alarmFriendlyName: `${this.endpointName}-endpoint`,
      metricGroups: [
        { title: 'Invocations', metrics: perVariant((v) => v.metricInvocations(), 'invocations') },
        { title: '5XX errors', metrics: perVariant((v) => v.metric5xxErrors(), '5XX') },
        { title: 'p99 model latency (µs)', metrics: perVariant((v) => v.metricModelLatency(), 'p99') },
      ],
    });
    facade.monitorCustom({
      humanReadableName: `${this.endpointName} drift (${this.variantName})`,
      alarmFriendlyName: `${this.endpointName}-drift`,
      metricGroups: [
        {
          title: 'Drifted feature share',
          metrics: [this.metricDriftedFeatureShare({ label: 'drifted share' })],
          horizontalAnnotations: [{ value: checked.driftedFeatureShareThreshold, label: 'alarm' }],
        },
        {
          title: 'Feature PSI',
          metrics: [
            this.metricMaxFeaturePsi({ label: 'max' }),
            {
              namespace: DRIFT_METRICS_NAMESPACE,
              searchQuery: 'MetricName="FeaturePsi"',
              dimensionsMap: {
                EndpointName: this.endpointName,
                VariantName: this.variantName,
                Feature: undefined as unknown as string,
              },
              statistic: MetricStatistic.MAX,
              period: Duration.hours(1),
              label: '',
            },
          ],
          horizontalAnnotations: [{ value: checked.psiThreshold, label: 'drifted' }],
        },
        {
          title: 'Captured rows and problems',
          graphWidgetType: GraphWidgetType.STACKED_AREA,
          metrics: [
            this.metricDrift('CaptureRows', { label: 'rows', statistic: cloudwatch.Stats.SUM }),
            {
              namespace: DRIFT_METRICS_NAMESPACE,
              searchQuery: 'MetricName="CaptureProblems"',
              dimensionsMap: {
                EndpointName: this.endpointName,
                VariantName: this.variantName,
                Problem: undefined as unknown as string,
              },
              statistic: MetricStatistic.SUM,
              period: Duration.hours(1),
              label: '',
              position: AxisPosition.RIGHT,
            },
          ],
        },
      ],
    });
    const qualityMetrics =
      checked.problemType === QualityProblemType.REGRESSION ? ['Rmse', 'Mae'] : ['Accuracy', 'F1'];
    facade.monitorCustom({
      humanReadableName: `${this.endpointName} model quality (${this.variantName})`,
      alarmFriendlyName: `${this.endpointName}-quality`,
      metricGroups: [
        {
          title: qualityMetrics.join(' and '),
          metrics: qualityMetrics.map((m) => this.metricQuality(m, { label: m })),
          horizontalAnnotations:
            props.maxRmse !== undefined
              ? [{ value: props.maxRmse, label: 'alarm' }]
              : props.minAccuracy !== undefined
                ? [{ value: props.minAccuracy, label: 'alarm' }]
                : [],
        },
        {
          title: 'Labels',
          metrics: ['MatchedLabels', 'UnmatchedLabels', 'UnmatchedPredictions', 'LateLabels'].map((m) =>
            this.metricQuality(m, { label: m }),
          ),
        },
      ],
    });
    facade.addWidget(
      new cloudwatch.AlarmStatusWidget({
        title: `${this.endpointName} monitoring alarms`,
        alarms: [
          this.node.tryFindChild('DriftedFeatureShareAlarm'),
          this.node.tryFindChild('MaxFeaturePsiAlarm'),
          this.node.tryFindChild('QualityAlarm'),
        ].filter((a): a is cloudwatch.Alarm => a instanceof cloudwatch.Alarm),
        width: 24,
      }),
    );
    return facade;
  }

  private createModelMonitorSchedule(
    options: ModelMonitorScheduleOptions,
    store: IArtifactStore,
  ): sagemaker.CfnMonitoringSchedule {
    const role = new iam.Role(this, 'ModelMonitorRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs SageMaker Model Monitor's data quality jobs on ${this.endpointName}`,
    });
    const output = `${ArtifactStorePrefix.REPORTS}model-monitor/${this.endpointName}/`;
    this.grantRead(role, store, `${ArtifactStorePrefix.CAPTURE}${this.endpointName}/*`, 'reads the capture');
    this.grantWrite(role, store, `${output}*`, 'writes its reports');
    const baselines = [options.baselineConstraintsUri, options.baselineStatisticsUri].filter(
      (u): u is string => u !== undefined,
    );
    if (baselines.length > 0) {
      acknowledgeGrantWildcards(
        role,
        store.grantRead(role, `${ArtifactStorePrefix.REPORTS}*`),
        'Model Monitor reads its baselining job outputs, which are under the reports prefix of the store.',
      );
    }
    const definition = new sagemaker.CfnDataQualityJobDefinition(this, 'ModelMonitorJobDefinition', {
      roleArn: role.roleArn,
      dataQualityAppSpecification: { imageUri: options.imageUri },
      dataQualityJobInput: {
        endpointInput: { endpointName: this.endpointName, localPath: '/opt/ml/processing/input/endpoint' },
      },
      dataQualityJobOutputConfig: {
        kmsKeyId: store.encryptionKey?.keyArn,
        monitoringOutputs: [
          {
            s3Output: {
              localPath: '/opt/ml/processing/output',
              s3Uri: store.s3UrlFor(output).replace(/\/$/, ''),
              s3UploadMode: 'EndOfJob',
            },
          },
        ],
      },
      jobResources: {
        clusterConfig: {
          instanceCount: 1,
          instanceType: options.instanceType ?? 'ml.m5.large',
          volumeSizeInGb: 20,
        },
      },
      dataQualityBaselineConfig:
        baselines.length > 0
          ? {
              constraintsResource: options.baselineConstraintsUri
                ? { s3Uri: options.baselineConstraintsUri }
                : undefined,
              statisticsResource: options.baselineStatisticsUri
                ? { s3Uri: options.baselineStatisticsUri }
                : undefined,
            }
          : undefined,
      networkConfig: { enableInterContainerTrafficEncryption: true },
      stoppingCondition: { maxRuntimeInSeconds: HOUR_SECONDS },
    });
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      definition.node.addDependency(policy);
    }
    return new sagemaker.CfnMonitoringSchedule(this, 'ModelMonitorSchedule', {
      // Required by CloudFormation; one schedule per endpoint and type, so the endpoint names it.
      monitoringScheduleName: `${this.endpointName}-data-quality`,
      endpointName: this.endpointName,
      monitoringScheduleConfig: {
        // The definition's generated name is the last part of its ARN.
        monitoringJobDefinitionName: Fn.select(1, Fn.split('/', definition.attrJobDefinitionArn)),
        monitoringType: 'DataQuality',
        scheduleConfig: { scheduleExpression: options.scheduleExpression ?? 'cron(0 * ? * * *)' },
      },
    });
  }
}

/** What the dashboard graphs of each variant of a slot. */
type VariantMetrics = Pick<
  IServingSlot,
  'variantName' | 'metricInvocations' | 'metric5xxErrors' | 'metricModelLatency'
>;

/** The slot's variants: its own, and a ServingSlot's challenger or shadow. */
function variantsOf(slot: IServingSlot): VariantMetrics[] {
  if (!(slot instanceof ServingSlot)) {
    return [slot];
  }
  return [slot, ...[slot.challenger, slot.shadow].filter((v) => v !== undefined)];
}

/** Lets `role` publish metrics in `namespace` only (PutMetricData has no resource-level permissions). */
function grantPutMetricData(role: iam.IRole, namespace: string): void {
  const statement = new iam.PolicyStatement({
    sid: 'PublishTheJobMetrics',
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
  });
  role.addToPrincipalPolicy(statement);
  acknowledgeWildcards(
    role,
    [statement],
    `cloudwatch:PutMetricData has no resource-level permissions: the grant is limited to namespace ${namespace}.`,
  );
}

interface Checked {
  readonly driftWindowHours: number;
  readonly psiThreshold: number;
  readonly driftedFeatureShareThreshold: number;
  readonly maxObjectsPerInvocation: number;
  readonly objectsPerBatch: number;
  readonly maxConcurrency: number;
  readonly problemType: QualityProblemType;
  readonly qualityWindowHours: number;
  readonly labelDelayHours: number;
}

function validate(monitoring: ModelMonitoring, props: ModelMonitoringProps): Checked {
  const problems = new ProblemCollector(`ModelMonitoring '${monitoring.node.path}'`);
  for (const [key, name] of Object.entries(props.alarmNames ?? {})) {
    problems.checkPattern(
      `alarmNames.${key}`,
      name,
      CLOUDWATCH_ALARM_NAME,
      'use 1-255 characters without control characters, unique in the account and region',
    );
  }
  const slot = props.servingSlot;
  if (slot instanceof ServingSlot) {
    const config = slot.node.tryFindChild('EndpointConfig') as sagemaker.CfnEndpointConfig | undefined;
    if (!config?.dataCaptureConfig) {
      problems.add(
        'servingSlot',
        slot.node.path,
        "monitoring reads the slot's data capture: give it ServingMode.realTime({ dataCapture: {} }) (serverless " +
          'endpoints cannot capture)',
      );
    }
  }
  const fix = 'use up to 63 letters, digits and hyphens, starting with a letter or digit';
  problems.checkPattern('variantName', props.variantName, SAGEMAKER_NAME, fix);
  const integer = (prop: string, value: number | undefined, fallback: number, min: number, max: number) => {
    const v = value ?? fallback;
    if (!Token.isUnresolved(v) && !(Number.isInteger(v) && v >= min && v <= max)) {
      problems.add(prop, v, `use a whole number from ${min} to ${max}`);
    }
    return v;
  };
  const share = (prop: string, value: number | undefined, fallback: number, positive: boolean) => {
    const v = value ?? fallback;
    if (!(
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (positive ? v > 0 : v >= 0) &&
      v <= (positive ? Infinity : 1)
    )) {
      problems.add(prop, v, positive ? 'use a positive number' : 'use a share from 0 to 1');
    }
    return v;
  };
  const hours = (prop: string, value: Duration | undefined, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    if (value.isUnresolved()) {
      problems.add(
        prop,
        value.toHumanString(),
        'the job takes whole hours, computed at synth: give a literal Duration',
      );
      return fallback;
    }
    const seconds = value.toSeconds();
    const h = seconds / HOUR_SECONDS;
    if (!(Number.isInteger(h) && h >= min && h <= max)) {
      problems.add(prop, value.toHumanString(), `use whole hours from ${min} to ${max}`);
    }
    return h;
  };
  const checked: Checked = {
    driftWindowHours: integer('driftWindowHours', props.driftWindowHours, 1, 1, 24),
    psiThreshold: share('psiThreshold', props.psiThreshold, 0.2, true),
    driftedFeatureShareThreshold: share(
      'driftedFeatureShareThreshold',
      props.driftedFeatureShareThreshold,
      0.3,
      false,
    ),
    maxObjectsPerInvocation: integer(
      'maxObjectsPerInvocation',
      props.maxObjectsPerInvocation,
      100,
      1,
      100_000,
    ),
    objectsPerBatch: integer('objectsPerBatch', props.objectsPerBatch, 50, 1, 1000),
    // Step Functions runs at most 10,000 child executions of a distributed map at once.
    maxConcurrency: integer('maxConcurrency', props.maxConcurrency, 10, 1, 10_000),
    problemType: props.problemType ?? QualityProblemType.REGRESSION,
    qualityWindowHours: hours('qualityWindow', props.qualityWindow, 24, 1, 24),
    labelDelayHours: hours('labelDelay', props.labelDelay, 24, 0, 144),
  };
  if (props.maxRmse !== undefined && checked.problemType !== QualityProblemType.REGRESSION) {
    problems.add('maxRmse', props.maxRmse, 'RMSE is a regression metric: use minAccuracy for a classifier');
  } else if (props.maxRmse !== undefined && !(Number.isFinite(props.maxRmse) && props.maxRmse > 0)) {
    problems.add('maxRmse', props.maxRmse, "use a positive number in the label's unit");
  }
  if (props.minAccuracy !== undefined && checked.problemType !== QualityProblemType.BINARY_CLASSIFICATION) {
    problems.add(
      'minAccuracy',
      props.minAccuracy,
      'accuracy is a classification metric: use maxRmse for a regression',
    );
  } else if (props.minAccuracy !== undefined && !(props.minAccuracy > 0 && props.minAccuracy <= 1)) {
    problems.add('minAccuracy', props.minAccuracy, 'use a share above 0 and at most 1');
  }
  const monitor = props.modelMonitor;
  if (monitor) {
    if (
      !Token.isUnresolved(monitor.imageUri) &&
      !/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+/.test(monitor.imageUri ?? '')
    ) {
      problems.add(
        'modelMonitor.imageUri',
        monitor.imageUri,
        "use the region's Model Monitor analyzer image, e.g. <account>.dkr.ecr.<region>.amazonaws.com/sagemaker-model-monitor-analyzer",
      );
    }
    for (const key of ['baselineConstraintsUri', 'baselineStatisticsUri'] as const) {
      const uri = monitor[key];
      if (uri !== undefined && !Token.isUnresolved(uri) && !/^s3:\/\/[^/]+\/.+/.test(uri)) {
        problems.add(
          `modelMonitor.${key}`,
          uri,
          'use an s3://bucket/key URI of a Model Monitor baselining output',
        );
      }
    }
    problems.checkPattern(
      'modelMonitor.instanceType',
      monitor.instanceType,
      SAGEMAKER_INSTANCE_TYPE,
      "use an instance type such as 'ml.m5.large'",
    );
  }
  if (
    props.dashboardName !== undefined &&
    !Token.isUnresolved(props.dashboardName) &&
    !/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)
  ) {
    problems.add('dashboardName', props.dashboardName, 'use 1-255 letters, digits, hyphens and underscores');
  }
  problems.throwIfAny();
  return checked;
}
