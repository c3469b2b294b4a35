import { CfnCondition, CfnParameter, CfnResource, Duration, Fn, Names, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { SAGEMAKER_NAME, SAGEMAKER_INSTANCE_TYPE } from '../private/sagemaker-names';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';
import { NO_MODEL_RELEASED } from './naming';
import { ReleasePointer } from './release-pointer';

/** Options of a serverless slot. */
export interface ServerlessServingOptions {
  /** Memory per concurrent invocation: 1024 to 6144 MB in steps of 1024. @default 2048 */
  readonly memorySizeInMb?: number;
  /** Concurrent invocations before throttling: 1 to 200. @default 5 */
  readonly maxConcurrency?: number;
}

/** Options of a real-time (instance) slot. */
export interface RealTimeServingOptions {
  /** The instance type. @default 'ml.m5.large' */
  readonly instanceType?: string;
  /** Instances kept running (and billed) while a model is released. @default 1 */
  readonly minInstances?: number;
  /** Instances autoscaling may add up to. @default 2 */
  readonly maxInstances?: number;
  /** Invocations per instance per minute that autoscaling keeps to. @default 100 */
  readonly targetInvocationsPerInstance?: number;
  /**
   * How long the new fleet bakes, watched by the rollback alarms, before a blue/green update
   * shifts all traffic and retires the old fleet.
   *
   * @default Duration.minutes(5)
   */
  readonly blueGreenBakeTime?: Duration;
}

/** How a serving slot serves: serverless (scales to zero) or real-time instances. */
export class ServingMode {
  /** Serverless inference: no instance while idle, billed per request. One variant, no data capture. */
  public static serverless(options: ServerlessServingOptions = {}): ServingMode {
    return new ServingMode('serverless', options, {});
  }

  /**
   * Real-time instances with target-tracking autoscaling and blue/green updates that roll back on
   * the slot's error and latency alarms.
   */
  public static realTime(options: RealTimeServingOptions = {}): ServingMode {
    return new ServingMode('realTime', {}, options);
  }

  private constructor(
    /** @internal */ public readonly _kind: 'serverless' | 'realTime',
    /** @internal */ public readonly _serverless: ServerlessServingOptions,
    /** @internal */ public readonly _realTime: RealTimeServingOptions,
  ) {}
}

/** Props of a ServingSlot. */
export interface ServingSlotProps {
  /** The pointer naming the model package to serve; it must be in a stack deployed before this one. */
  readonly pointer: ReleasePointer;
  /** The store holding the model artifacts (under `models/`). */
  readonly artifactStore: IArtifactStore;
  /**
   * How the slot serves.
   *
   * @default ServingMode.serverless()
   */
  readonly mode?: ServingMode;
  /**
   * The endpoint's name, which clients invoke. Changing it replaces the endpoint.
   *
   * @default - derived from the construct path, stable across deployments
   */
  readonly endpointName?: string;
  /**
   * p99 model latency above which a blue/green update rolls back (real-time only).
   *
   * @default Duration.seconds(1)
   */
  readonly rollbackLatency?: Duration;
}

/** The one variant of the slot; blue/green updates require the name to stay the same. */
export const SERVING_VARIANT_NAME = 'AllTraffic';

/**
 * A serving slot (maturity level 2, capability `one-command-deployment`): serves the model package
 * version that its release pointer names, through a SageMaker endpoint owned by CloudFormation
 * alone.
 *
 * The pointer is read through an SSM-typed stack parameter, which CloudFormation re-reads on every
 * stack update, including pipeline deploys that pass no parameters; the model, endpoint config,
 * endpoint, autoscaling and rollback alarms exist only while the pointer is not `none`. So the
 * slot deploys before any model exists, costs nothing until a release, and a later `cdk deploy`
 * keeps serving what was released. Release with `npm run release -- --env <env> --model-package-arn <arn>`.
 */
export class ServingSlot extends Construct {
  /** The endpoint's name (the endpoint exists only once a model is released). */
  public readonly endpointName: string;
  /** True while a model is released; every endpoint resource carries it. */
  public readonly released: CfnCondition;
  /** The model package ARN the stack was deployed with, or `none`. */
  public readonly modelPackageArn: string;
  /** The role the model runs as. */
  public readonly role: iam.Role;
  /** The endpoint, conditional on `released`. */
  public readonly endpoint: sagemaker.CfnEndpoint;
  /** Alarms that roll a blue/green update back (real-time only). */
  public readonly rollbackAlarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ServingSlotProps) {
    super(scope, id);
    const mode = props.mode ?? ServingMode.serverless();
    validate(this, props, mode);
    const stack = Stack.of(this);
    stack.addStackDependency(
      Stack.of(props.pointer),
      `serving slot ${this.node.path} reads its release pointer`,
    );

    this.endpointName =
      props.endpointName ??
      Names.uniqueResourceName(this, { maxLength: 63, separator: '-', allowedSpecialCharacters: '-' });

    const pointer = new CfnParameter(this, 'ModelPackageArn', {
      type: 'AWS::SSM::Parameter::Value<String>',
      default: props.pointer.parameterName,
      description: `SSM parameter holding the model package ARN that ${this.endpointName} serves, or ${NO_MODEL_RELEASED}. Leave as is: the release command writes the parameter.`,
    });
    this.modelPackageArn = pointer.valueAsString;
    this.released = new CfnCondition(this, 'Released', {
      expression: Fn.conditionNot(Fn.conditionEquals(pointer.valueAsString, NO_MODEL_RELEASED)),
    });

    this.role = new iam.Role(this, 'ModelRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs the model served by ${this.endpointName}`,
    });
    props.artifactStore.grantRead(this.role, ArtifactStorePrefix.MODELS.keyPattern);
    const pull = [
      new iam.PolicyStatement({
        sid: 'PullServingImages',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        // Model packages name their image; SageMaker's built-in algorithm images live in per-region
        // AWS registry accounts, so the repository cannot be narrowed to one account here.
        resources: [
          stack.formatArn({ service: 'ecr', account: '*', resource: 'repository', resourceName: '*' }),
        ],
      }),
      new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    ];
    pull.forEach((s) => this.role.addToPolicy(s));
    acknowledgeWildcards(
      this.role,
      pull,
      'The served model package names its container image, which for built-in algorithms lives in an AWS-owned ' +
        'registry account per region; ECR login has no resource-level permissions. Pull only, no push.',
    );

    const model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: { modelPackageName: pointer.valueAsString },
    });
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      model.node.addDependency(policy);
    }

    const realTime = mode._kind === 'realTime' ? mode._realTime : undefined;
    const variant: sagemaker.CfnEndpointConfig.ProductionVariantProperty = realTime
      ? {
          variantName: SERVING_VARIANT_NAME,
          modelName: model.attrModelName,
          instanceType: realTime.instanceType ?? 'ml.m5.large',
          initialInstanceCount: realTime.minInstances ?? 1,
          initialVariantWeight: 1,
        }
      : {
          variantName: SERVING_VARIANT_NAME,
          modelName: model.attrModelName,
          serverlessConfig: {
            memorySizeInMb: mode._serverless.memorySizeInMb ?? 2048,
            maxConcurrency: mode._serverless.maxConcurrency ?? 5,
          },
        };
    const config = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', { productionVariants: [variant] });

    if (realTime) {
      this.rollbackAlarms.push(...this.createRollbackAlarms(props.rollbackLatency ?? Duration.seconds(1)));
    }
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
      deploymentConfig: realTime
        ? {
            blueGreenUpdatePolicy: {
              trafficRoutingConfiguration: { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 0 },
              terminationWaitInSeconds: (realTime.blueGreenBakeTime ?? Duration.minutes(5)).toSeconds(),
              maximumExecutionTimeoutInSeconds: 3600,
            },
            autoRollbackConfiguration: {
              alarms: this.rollbackAlarms.map((a) => ({ alarmName: a.alarmName })),
            },
          }
        : undefined,
    });

    const conditional: CfnResource[] = [model, config, this.endpoint];
    if (realTime) {
      conditional.push(...this.createAutoscaling(realTime));
    }
    for (const alarm of this.rollbackAlarms) {
      conditional.push(alarm.node.defaultChild as CfnResource);
    }
    for (const resource of conditional) {
      resource.cfnOptions.condition = this.released;
    }
  }

  /** A metric of the slot's variant, e.g. `Invocations` or `ModelLatency`. */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: SERVING_VARIANT_NAME },
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Grants invoking the endpoint. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'sagemaker',
          resource: 'endpoint',
          resourceName: this.endpointName.toLowerCase(),
        }),
      ],
    });
  }

  private createRollbackAlarms(latency: Duration): cloudwatch.Alarm[] {
    // Referenced by name from the endpoint, so their names are literal, not generated.
    return [
      this.metric('Invocation5XXErrors', { statistic: cloudwatch.Stats.SUM }).createAlarm(
        this,
        'ErrorsAlarm',
        {
          alarmName: `${this.endpointName}-rollback-errors`,
          alarmDescription: `Rolls a blue/green update of ${this.endpointName} back on any 5XX invocation error`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
      ),
      this.metric('ModelLatency', { statistic: cloudwatch.Stats.p(99) }).createAlarm(this, 'LatencyAlarm', {
        alarmName: `${this.endpointName}-rollback-latency`,
        alarmDescription: `Rolls a blue/green update of ${this.endpointName} back when p99 model latency exceeds ${latency.toHumanString()}`,
        // SageMaker reports ModelLatency in microseconds.
        threshold: latency.toMilliseconds() * 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }

  private createAutoscaling(options: RealTimeServingOptions) {
    const target = new appscaling.CfnScalableTarget(this, 'ScalableTarget', {
      serviceNamespace: 'sagemaker',
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      resourceId: `endpoint/${this.endpointName}/variant/${SERVING_VARIANT_NAME}`,
      minCapacity: options.minInstances ?? 1,
      maxCapacity: options.maxInstances ?? 2,
    });
    target.addResourceDependency(this.endpoint);
    const scaling = new appscaling.CfnScalingPolicy(this, 'ScalingPolicy', {
      policyName: `${this.endpointName}-invocations`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: target.ref,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: options.targetInvocationsPerInstance ?? 100,
        predefinedMetricSpecification: { predefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        scaleInCooldown: 300,
        scaleOutCooldown: 60,
      },
    });
    return [target, scaling];
  }
}

function validate(slot: ServingSlot, props: ServingSlotProps, mode: ServingMode): void {
  const problems = new ProblemCollector(`ServingSlot '${slot.node.path}'`);
  problems.checkPattern(
    'endpointName',
    props.endpointName,
    SAGEMAKER_NAME,
    'use up to 63 letters, digits and hyphens, starting with a letter or digit',
  );
  if (Stack.of(props.pointer) === Stack.of(slot)) {
    problems.add(
      'pointer',
      props.pointer.node.path,
      'the stack resolves the pointer before it creates any resource, so the pointer must be in a stack deployed ' +
        'first: create the ReleasePointer in another stack (the app uses <env>-Release)',
    );
  }
  const between = (name: string, value: number | undefined, min: number, max: number, step = 1) => {
    if (
      value !== undefined &&
      !Token.isUnresolved(value) &&
      (value < min || value > max || value % step !== 0)
    ) {
      problems.add(
        name,
        value,
        `use ${step === 1 ? 'a whole number' : `a multiple of ${step}`} from ${min} to ${max}`,
      );
    }
  };
  if (mode._kind === 'serverless') {
    between('mode.memorySizeInMb', mode._serverless.memorySizeInMb, 1024, 6144, 1024);
    between('mode.maxConcurrency', mode._serverless.maxConcurrency, 1, 200);
  } else {
    const rt = mode._realTime;
    problems.checkPattern(
      'mode.instanceType',
      rt.instanceType,
      SAGEMAKER_INSTANCE_TYPE,
      "use an instance type such as 'ml.m5.large'",
    );
    between('mode.minInstances', rt.minInstances, 1, 1000);
    between('mode.maxInstances', rt.maxInstances, 1, 1000);
    if ((rt.minInstances ?? 1) > (rt.maxInstances ?? 2)) {
      problems.add(
        'mode.maxInstances',
        rt.maxInstances ?? 2,
        `give at least minInstances (${rt.minInstances ?? 1})`,
      );
    }
    if (rt.blueGreenBakeTime && rt.blueGreenBakeTime.toSeconds() > 3600) {
      problems.add('mode.blueGreenBakeTime', rt.blueGreenBakeTime.toHumanString(), 'use at most one hour');
    }
  }
  problems.throwIfAny();
}
