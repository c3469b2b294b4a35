import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { handlerFunction } from '../private/handler-function';
import { notifyState } from '../private/notify-state';
import { acknowledgeGeneratedPolicyWildcards, acknowledgeWildcards } from '../private/nag-acknowledgements';
import { ENVIRONMENT_NAME, MODEL_NAME, SAGEMAKER_NAME } from '../private/patterns';
import { IModelRegistry } from '../registry/model-registry';
import { SERVING_VARIANT_NAME, SHADOW_VARIANT_NAME } from '../serving/serving-slot';
import { productionDataParameterName } from './naming';

/** The live metric the online gate compares, with the direction that is better. */
export class LiveQualityMetric {
  /** Root mean squared error of a regression: lower is better. */
  public static readonly RMSE = new LiveQualityMetric('rmse', false);
  /** Mean absolute error of a regression: lower is better. */
  public static readonly MAE = new LiveQualityMetric('mae', false);
  /** Accuracy of a binary classifier: higher is better. */
  public static readonly ACCURACY = new LiveQualityMetric('accuracy', true);
  /** F1 score of a binary classifier (positive class 1): higher is better. */
  public static readonly F1 = new LiveQualityMetric('f1', true);

  private constructor(
    /** The metric's name in the model quality report. */
    public readonly name: string,
    public readonly higherIsBetter: boolean,
  ) {}
}

/** Props of an OnlineGateWorkflow. */
export interface OnlineGateWorkflowProps {
  /** The model, in names and notifications. */
  readonly modelName: string;
  /** The registry whose pending packages the online gate approves or rejects. */
  readonly modelRegistry: IModelRegistry;
  /**
   * The model's release workflow (`ReleaseWorkflow.stateMachine`): the trial releases the
   * challenger as the shadow variant through it, and stops the shadow through it. It applies each
   * release to each of its environments in order, so the challenger shadows in all of them.
   */
  readonly releaseStateMachine: sfn.IStateMachine;
  /** The environment whose live traffic judges the challenger (the level-4 environment, e.g. `prod`). */
  readonly environmentName: string;
  /** The endpoint of the model's serving slot in that environment. */
  readonly endpointName: string;
  /**
   * The SSM parameter in which that environment publishes where its captures and ground truth are.
   *
   * @default productionDataParameterName(environmentName, modelName)
   */
  readonly productionDataParameterName?: string;
  /**
   * The bucket that holds the environment's captures and ground truth: the gate's function is
   * granted read on its `capture/*` and `ground-truth/*` keys. It must be in this account.
   *
   * @default - no identity grant: the bucket's policy must grant the function's role
   * (`evaluationFunction.role`)
   */
  readonly productionDataBucketName?: string;
  /**
   * The KMS key that encrypts that bucket: the function is granted kms:Decrypt on it.
   *
   * @default - no grant: the key's policy must allow the function's role, or the bucket is not KMS-encrypted
   */
  readonly productionDataKeyArn?: string;
  /**
   * How long the challenger serves as the shadow before it is judged.
   *
   * @default 24
   */
  readonly windowHours?: number;
  /**
   * The fewest matched labels each of the shadow and the champion needs in the window; fewer
   * rejects the challenger ("not enough live traffic").
   *
   * @default 100
   */
  readonly minSamples?: number;
  /**
   * How much better than the champion's the shadow's live metric must be, in percent of the
   * champion's value (the offline gate's rule).
   *
   * @default 1
   */
  readonly marginPercent?: number;
  /**
   * The live metric compared.
   *
   * @default LiveQualityMetric.RMSE
   */
  readonly liveMetric?: LiveQualityMetric;
  /**
   * The share of the requests copied to the shadow during the trial, in whole percent.
   *
   * @default - the shadow's weight as it is (10% until a release writes another)
   */
  readonly shadowWeightPercent?: number;
  /**
   * The variant of the endpoint that serves the champion.
   *
   * @default 'AllTraffic'
   */
  readonly championVariantName?: string;
  /**
   * The endpoint's shadow variant.
   *
   * @default 'Shadow'
   */
  readonly shadowVariantName?: string;
  /**
   * Where a failed trial is announced (the environment's topic).
   *
   * @default - no notification; the failed execution is still alarmed by PlatformMonitoring
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * The CloudWatch namespace of the gate's metrics.
   *
   * @default 'cdk-mlops-maturity/Automation'
   */
  readonly metricsNamespace?: string;
  /**
   * The physical name of the evaluation function's role, for an environment that grants it read
   * access to its captures and ground truth by name (`onlineGateRoleName`).
   *
   * @default - a generated name
   */
  readonly roleName?: string;
  /**
   * What happens to the log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The default namespace of the online gate's metrics. */
export const AUTOMATION_METRICS_NAMESPACE = 'cdk-mlops-maturity/Automation';

/**
 * A model's online gate (level 4, optional): a Step Functions standard workflow that tries a
 * challenger the offline approval gate approves before it is approved. It releases the challenger
 * as the shadow variant through the model's release workflow (the one release of a package still
 * pending approval), waits `windowHours`, lets the online-gate function compare the shadow's live
 * quality with the champion's and record Approved or Rejected, and stops the shadow through the
 * release workflow again, whatever the verdict. A failure of any step notifies the topic and
 * leaves the package pending: it is never approved on a failure.
 *
 * The approval gate starts it (`ONLINE_GATE_STATE_MACHINE_ARN`, `grantStartTrial`), one execution
 * per package, named after the package.
 */
export class OnlineGateWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The function that judges the live quality and records the verdict. */
  public readonly evaluationFunction: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: OnlineGateWorkflowProps) {
    super(scope, id);
    validate(this, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const windowHours = props.windowHours ?? 24;
    const metric = props.liveMetric ?? LiveQualityMetric.RMSE;
    const parameterName =
      props.productionDataParameterName ??
      productionDataParameterName(props.environmentName, props.modelName);

    const { fn, role } = handlerFunction(this, 'Gate', {
      entry: 'online-gate',
      removalPolicy,
      roleName: props.roleName,
      description: `Judges the online trials of model ${props.modelName} in ${props.environmentName}`,
      // A window's captures are streamed object by object; the join holds one entry per id.
      memorySize: 1024,
      timeout: Duration.minutes(15),
      environment: {
        PRODUCTION_DATA_PARAMETER_NAME: parameterName,
        ENDPOINT_NAME: props.endpointName,
        CHAMPION_VARIANT_NAME: props.championVariantName ?? SERVING_VARIANT_NAME,
        SHADOW_VARIANT_NAME: props.shadowVariantName ?? SHADOW_VARIANT_NAME,
        LIVE_METRIC: metric.name,
        MARGIN_PERCENT: String(props.marginPercent ?? 1),
        MIN_SAMPLES: String(props.minSamples ?? 100),
        MODEL_NAME: props.modelName,
        POWERTOOLS_SERVICE_NAME: `online-gate-${props.modelName}`,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? AUTOMATION_METRICS_NAMESPACE,
      },
    });
    this.evaluationFunction = fn;
    this.grantEvaluation(role, props, parameterName);

    const machineLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition(props, windowHours)),
      comment: `Tries a challenger of model ${props.modelName} as the shadow in ${props.environmentName} before it is approved`,
      // The window, plus two releases through every environment and the evaluation.
      timeout: Duration.hours(windowHours + 24),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledgeGeneratedPolicyWildcards(
      this.stateMachine,
      "The state machine invokes the gate function's versions (`<arn>:*`), as the Step Functions Lambda " +
        'integration grants; stops and describes the release executions it starts, whose ARNs end in their ' +
        'names; and writes X-Ray traces and log deliveries, which have no resource ARNs.',
    );
  }

  /** Lets `grantee` (the approval gate's function) start trials. */
  public grantStartTrial(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  private grantEvaluation(role: iam.Role, props: OnlineGateWorkflowProps, parameterName: string): void {
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheProductionDataLocation',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameterName.slice(1) }),
        ],
      }),
    );
    props.modelRegistry.grantApprove(role);
    const statements: iam.PolicyStatement[] = [];
    if (props.productionDataBucketName) {
      const bucket = `arn:${stack.partition}:s3:::${props.productionDataBucketName}`;
      statements.push(
        new iam.PolicyStatement({
          sid: 'ListTheCapturesAndLabels',
          actions: ['s3:ListBucket'],
          resources: [bucket],
          conditions: { StringLike: { 's3:prefix': ['capture/*', 'ground-truth/*'] } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadTheCapturesAndLabels',
          actions: ['s3:GetObject'],
          resources: [`${bucket}/capture/*`, `${bucket}/ground-truth/*`],
        }),
      );
    }
    if (props.productionDataKeyArn) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptTheCapturesAndLabels',
          actions: ['kms:Decrypt'],
          resources: [props.productionDataKeyArn],
        }),
      );
    }
    statements.forEach((s) => role.addToPrincipalPolicy(s));
    if (props.productionDataBucketName) {
      acknowledgeWildcards(
        role,
        statements,
        'Capture and label objects are written per hour under the capture/ and ground-truth/ prefixes; the ' +
          'grant reads those prefixes of the one bucket only.',
      );
    }
  }

  private definition(props: OnlineGateWorkflowProps, windowHours: number): sfn.IChainable {
    const topic = props.notificationTopic;
    const env = props.environmentName;
    const notify = (id: string, message: string, subject: string) =>
      notifyState(this, id, topic, message, subject);
    const failed = new sfn.Fail(this, 'TrialFailed', {
      comment: 'The package stays PendingManualApproval',
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });
    const release = (id: string, suffix: string, input: Record<string, unknown>, comment: string) =>
      new tasks.StepFunctionsStartExecution(this, id, {
        stateMachine: props.releaseStateMachine,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        name: sfn.JsonPath.format(`{}-${suffix}`, sfn.JsonPath.executionName),
        input: sfn.TaskInput.fromObject(input),
        associateWithParent: true,
        resultPath: sfn.JsonPath.DISCARD,
        comment,
      });

    const releaseShadow = release(
      'ReleaseShadow',
      'shadow',
      {
        modelPackageArn: sfn.JsonPath.stringAt('$.modelPackageArn'),
        variant: 'shadow',
        onlineTrial: true,
        ...(props.shadowWeightPercent !== undefined ? { weightPercent: props.shadowWeightPercent } : {}),
      },
      'The challenger serves as the shadow variant, through the release workflow',
    );
    const started = new sfn.Pass(this, 'ShadowServing', {
      comment: 'The window starts when the shadow serves',
      parameters: { 'startedAt.$': '$$.State.EnteredTime' },
      resultPath: '$.trial',
    });
    const wait = new sfn.Wait(this, 'Window', {
      time: sfn.WaitTime.duration(Duration.hours(windowHours)),
      comment: `The shadow answers copies of ${env}'s requests for ${windowHours} hours`,
    });
    const evaluate = new tasks.LambdaInvoke(this, 'Evaluate', {
      lambdaFunction: this.evaluationFunction,
      comment: "Compares the shadow's live quality with the champion's and records the verdict",
      payload: sfn.TaskInput.fromObject({
        modelPackageArn: sfn.JsonPath.stringAt('$.modelPackageArn'),
        offline: sfn.JsonPath.objectAt('$.offline'),
        windowStart: sfn.JsonPath.stringAt('$.trial.startedAt'),
        windowHours,
      }),
      resultSelector: { 'outcome.$': '$.Payload.outcome' },
      resultPath: '$.verdict',
      retryOnServiceExceptions: true,
    });
    // Marked as the trial's: it skips the environments the trial skipped.
    const stopInput = { stopVariant: 'shadow', onlineTrial: true };
    const stop = release('StopShadow', 'stop', stopInput, 'The shadow serves nothing, whatever the verdict');
    const stopAfterFailure = release(
      'StopShadowAfterFailure',
      'stop',
      stopInput,
      'The shadow serves nothing after a failed step',
    );

    const notStopped = notify(
      'NotifyShadowNotStopped',
      `States.Format('The online trial of {} in ${env}: stopping the shadow failed ({}); stop it by hand with the release workflow input {"stopVariant":"shadow","onlineTrial":true}. The package stays pending.', $.modelPackageArn, $.stopFailure.Cause)`,
      `Online trial of ${props.modelName}: shadow not stopped`,
    );
    const stopFailed = new sfn.Pass(this, 'StopFailed', {
      parameters: { Error: 'ShadowNotStopped', 'Cause.$': '$.stopFailure.Cause' },
      resultPath: '$.failure',
    });
    notStopped.next(stopFailed).next(failed);
    stop.addCatch(notStopped, { errors: ['States.ALL'], resultPath: '$.stopFailure' });
    stopAfterFailure.addCatch(notStopped, { errors: ['States.ALL'], resultPath: '$.stopFailure' });

    const trialFailed = notify(
      'NotifyTrialFailed',
      `States.Format('The online trial of {} in ${env} failed ({}): the shadow was stopped and the package stays pending', $.modelPackageArn, $.failure.Cause)`,
      `Online trial of ${props.modelName} failed`,
    ).next(failed);
    // A release that failed part-way may have left the shadow serving in some environments.
    releaseShadow.addCatch(stopAfterFailure, { errors: ['States.ALL'], resultPath: '$.failure' });
    evaluate.addCatch(stopAfterFailure, { errors: ['States.ALL'], resultPath: '$.failure' });
    stopAfterFailure.next(trialFailed);

    const done = new sfn.Succeed(this, 'Decided', { comment: 'The package is Approved or Rejected' });
    releaseShadow.next(started).next(wait).next(evaluate).next(stop).next(done);
    return releaseShadow;
  }
}

function validate(workflow: OnlineGateWorkflow, props: OnlineGateWorkflowProps): void {
  const problems = new ProblemCollector(`OnlineGateWorkflow '${workflow.node.path}'`);
  problems.checkPattern(
    'modelName',
    props.modelName ?? '',
    MODEL_NAME,
    'use 1-32 lower-case letters, digits and single hyphens, starting with a letter',
  );
  problems.checkPattern(
    'environmentName',
    props.environmentName ?? '',
    ENVIRONMENT_NAME,
    'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
  );
  for (const key of ['endpointName', 'championVariantName', 'shadowVariantName'] as const) {
    problems.checkPattern(
      key,
      props[key] ?? (key === 'endpointName' ? '' : undefined),
      SAGEMAKER_NAME,
      'use up to 63 letters, digits and hyphens',
    );
  }
  const count = (
    key: 'windowHours' | 'minSamples' | 'shadowWeightPercent',
    min: number,
    max: number,
    fix: string,
  ) => {
    const value = props[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
      problems.add(key, value, fix);
    }
  };
  count('windowHours', 1, 168, 'use a whole number of hours from 1 to 168 (a week)');
  count('minSamples', 1, 10_000_000, 'use a whole number of matched labels from 1 to 10000000');
  count(
    'shadowWeightPercent',
    1,
    100,
    'use a whole percentage from 1 to 100: a shadow at 0 gets no traffic to judge',
  );
  const margin = props.marginPercent;
  if (margin !== undefined && !(Number.isFinite(margin) && margin >= 0 && margin < 100)) {
    problems.add('marginPercent', margin, 'use a number from 0 to below 100');
  }
  const shadow = props.shadowVariantName ?? SHADOW_VARIANT_NAME;
  if ((props.championVariantName ?? SERVING_VARIANT_NAME) === shadow) {
    problems.add('shadowVariantName', shadow, "name the endpoint's shadow variant, not the champion's");
  }
  if (props.roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(props.roleName)) {
    problems.add('roleName', props.roleName, 'use an IAM role name: up to 64 letters, digits and +=,.@_-');
  }
  const parameter = props.productionDataParameterName;
  if (parameter !== undefined && !/^\/[a-zA-Z0-9_.\-/]{1,2047}$/.test(parameter)) {
    problems.add('productionDataParameterName', parameter, "use an SSM parameter name starting with '/'");
  }
  problems.checkPattern(
    'productionDataBucketName',
    props.productionDataBucketName,
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'use the name of the bucket (3-63 lower-case letters, digits, dots and hyphens), not its ARN or URL',
  );
  problems.checkPattern(
    'productionDataKeyArn',
    props.productionDataKeyArn,
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
    'use the ARN of the key (arn:aws:kms:<region>:<account>:key/<id>), not an alias',
  );
  problems.throwIfAny();
}
