import {
  Annotations,
  ArnFormat,
  CfnCondition,
  CfnMapping,
  CfnParameter,
  CfnResource,
  Duration,
  Fn,
  IResolvable,
  IResource,
  Names,
  Resource,
  Stack,
  Token,
} from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { blueGreenUpdate, BlueGreenUpdate, waitSeconds } from '../private/blue-green-update';
import { ProblemCollector } from '../private/errors';
import { SAGEMAKER_NAME, SAGEMAKER_INSTANCE_TYPE } from '../private/sagemaker-names';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';
import { ARTIFACT_FOLDER } from '../private/patterns';
import { IModelRegistry } from '../registry/model-registry';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';
import { NO_MODEL_RELEASED } from './naming';
import { IReleasePointer, ReleasePointer } from './release-pointer';
import { ServingVariant, ServingVariantOptions } from './serving-variant';
import { endpointVariantMetric } from './variant-metric';
import { TrafficShifting } from './traffic-shifting';
import { VariantWeight } from './variant-weight';

/**
 * A serving slot: a SageMaker endpoint serving one variant. Created with `ServingSlot`, or
 * imported with `ServingSlot.fromEndpointName` (for grants and metrics of a slot in another stack
 * or app).
 */
export interface IServingSlot extends IResource {
  /**
   * The endpoint's name, which clients invoke.
   *
   * @attribute
   */
  readonly endpointName: string;
  /**
   * The endpoint's ARN (SageMaker lower-cases endpoint names in ARNs).
   *
   * @attribute
   */
  readonly endpointArn: string;
  /** The variant the metrics are about. */
  readonly variantName: string;

  /** Grants invoking the endpoint (`sagemaker:InvokeEndpoint`). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;

  /**
   * A metric of the slot's variant in the `AWS/SageMaker` namespace, e.g. `Invocations`.
   *
   * Defaults: statistic Average, period 1 minute (SageMaker publishes endpoint metrics every
   * minute); `props` override them.
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests sent to the variant. @default - statistic Sum, period 1 minute */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Time the model took to respond, in **microseconds**, as SageMaker reports it.
   *
   * @default - statistic p99, period 1 minute
   */
  metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Time SageMaker added to the model's latency, in microseconds.
   *
   * @default - statistic p99, period 1 minute
   */
  metricOverheadLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests the model answered with a 5XX error. @default - statistic Sum, period 1 minute */
  metric5xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests rejected with a 4XX error. @default - statistic Sum, period 1 minute */
  metric4xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

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
   * How a blue/green update moves traffic to the new fleet: all at once, a canary first, or in
   * linear steps. The rollback alarms are watched at every step.
   *
   * @default TrafficShifting.allAtOnce()
   */
  readonly trafficShifting?: TrafficShifting;
  /**
   * How long the new fleet bakes, watched by the rollback alarms, once it takes all traffic,
   * before the update retires the old fleet (SageMaker's `TerminationWaitInSeconds`).
   *
   * @default Duration.minutes(5)
   */
  readonly blueGreenBakeTime?: Duration;
  /**
   * More CloudWatch alarms, by name, that roll an update back when they fire, besides the slot's
   * own two (`rollbackAlarms`); SageMaker watches at most 10 in all. They must exist in this
   * account and region when an update starts; a token such as `alarm.alarmName` of an alarm in the
   * same stack makes CloudFormation create it first.
   *
   * @default - only the slot's own alarms: 5XX errors and p99 model latency
   */
  readonly rollbackAlarmNames?: string[];
  /**
   * Capture requests and responses (JSON Lines, SageMaker's capture format) to the artifact store's
   * `capture/` prefix, encrypted with the store's key, for drift detection and model quality.
   * SageMaker writes them under `capture/<endpoint>/<variant>/yyyy/mm/dd/hh/`. Clients that pass
   * an inference id (`InferenceId` of InvokeEndpoint) can later have ground truth joined to them.
   *
   * @default - no data capture
   */
  readonly dataCapture?: DataCaptureOptions;
}

/** Data capture of a real-time serving slot. */
export interface DataCaptureOptions {
  /**
   * The share of requests captured, 1 to 100 percent.
   *
   * @default 100
   */
  readonly samplingPercentage?: number;
  /**
   * Capture the responses too (the predictions, which model quality joins with ground truth).
   *
   * @default true
   */
  readonly captureResponses?: boolean;
}

/** How a serving slot serves: serverless (scales to zero) or real-time instances. */
export class ServingMode {
  /** Serverless inference: no instance while idle, billed per request. One variant, no data capture. */
  public static serverless(options: ServerlessServingOptions = {}): ServingMode {
    return new ServingMode('serverless', options, {});
  }

  /**
   * Real-time instances with target-tracking autoscaling and blue/green updates (all at once, canary
   * or linear) that roll back on the slot's error and latency alarms and any others named.
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
  /**
   * The pointer naming the model package to serve; it must be in a stack deployed before this one.
   * A created `ReleasePointer` makes this stack depend on its stack; an imported one
   * (`ReleasePointer.fromParameterName`) cannot, so deploy the parameter first.
   */
  readonly pointer: IReleasePointer;
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
  /**
   * The registry the served model packages come from, when it is not in this stack's account, or
   * when the model role should be allowed to read it explicitly: the model role gets
   * `modelRegistry.grantRead()`. For another account's registry, its group's resource policy must
   * allow this account (`ModelRegistry` prop `crossAccountReadAccounts`), and the package's model
   * artifacts (bucket and key) and ECR image must be readable from this account.
   *
   * @default - no registry grant; the packages are in this account
   */
  readonly modelRegistry?: IModelRegistry;
  /**
   * The folder of the store's `models/` prefix that the served packages' artifacts are under
   * (a TrainingPipeline's `artifactFolder`): the model role may read only there.
   *
   * @default - the whole `models/` prefix
   */
  readonly modelArtifactsFolder?: string;
  /**
   * The role the model runs as, assumed by `sagemaker.amazonaws.com`: give one created in another
   * stack to keep IAM out of the slot's stack, e.g. a serving stack deployed with a role that may
   * not manage IAM (docs/adr/0006). The slot still grants it what serving needs (model artifacts,
   * capture writes, registry reads, image pulls); the grants go to the role's own policy, in the
   * role's stack.
   *
   * @default - a role created in the slot
   */
  readonly role?: iam.IRole;
  /**
   * A challenger variant (A/B test, capability `variant-testing`, real-time only): a second
   * production variant, `Challenger`, that answers its `weight` percent of the requests while the
   * champion answers the rest. It serves the package its own pointer names, and exists only while
   * that pointer is not `none`. Its 5XX and latency alarms also roll the endpoint's blue/green
   * updates back. Not together with `shadow` (SageMaker: an endpoint with a shadow variant has one
   * production variant).
   *
   * @default - no challenger
   */
  readonly challenger?: ServingVariantOptions;
  /**
   * A shadow variant (shadow test, capability `variant-testing`, real-time only): `Shadow`
   * receives a copy of `weight` percent of the requests, and its responses are not returned. It
   * serves the package its own pointer names, and exists only while that pointer is not `none`.
   *
   * @default - no shadow
   */
  readonly shadow?: ServingVariantOptions;
}

/** The slot's champion variant; blue/green updates require the name to stay the same. */
export const SERVING_VARIANT_NAME = 'AllTraffic';
/** The production variant of a slot's challenger (A/B test). */
export const CHALLENGER_VARIANT_NAME = 'Challenger';
/** The shadow variant of a slot's shadow test. */
export const SHADOW_VARIANT_NAME = 'Shadow';

abstract class ServingSlotBase extends Resource implements IServingSlot {
  public abstract readonly endpointName: string;
  public abstract readonly variantName: string;

  public get endpointArn(): string {
    return Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: endpointArnName(this.endpointName),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [this.endpointArn],
    });
  }

  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return endpointVariantMetric(this.endpointName, this.variantName, metricName, props);
  }

  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocations', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  public metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ModelLatency', { statistic: cloudwatch.Stats.p(99), ...props });
  }

  public metricOverheadLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('OverheadLatency', { statistic: cloudwatch.Stats.p(99), ...props });
  }

  public metric5xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation5XXErrors', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  public metric4xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation4XXErrors', { statistic: cloudwatch.Stats.SUM, ...props });
  }
}

/**
 * The endpoint name as it appears in the endpoint's ARN: SageMaker lower-cases it. A token is
 * left as it is (lower-casing its placeholder would break it), so a token name must be lower case.
 */
function endpointArnName(endpointName: string): string {
  return Token.isUnresolved(endpointName) ? endpointName : endpointName.toLowerCase();
}

/**
 * A serving slot (maturity level 2, capability `one-command-deployment`): serves the model package
 * version that its release pointer names, through a SageMaker endpoint owned by CloudFormation
 * alone. A real-time slot also provides `deployment-guardrails` (level 3): its updates are
 * blue/green (all at once, canary or linear) and roll back on its alarms.
 *
 * The pointer is read through an SSM-typed stack parameter, which CloudFormation re-reads on every
 * stack update, including pipeline deploys that pass no parameters; the model, endpoint config,
 * endpoint, autoscaling and rollback alarms exist only while the pointer is not `none`. So the
 * slot deploys before any model exists, costs nothing until a release, and a later `cdk deploy`
 * keeps serving what was released. Release with
 * `npm run release -- --env <env> --model <model> --model-package-arn <arn>` (the platform app), or
 * `--stack <name> --pointer <parameter>` (a slot in a stack of your own).
 */
export class ServingSlot extends ServingSlotBase {
  /**
   * Imports a slot by its endpoint name, for grants and metrics of a slot in another stack or app
   * (same account and region as the scope's stack).
   *
   * @param variantName the variant the metrics are about; a `ServingSlot` serves `AllTraffic`
   */
  public static fromEndpointName(
    scope: Construct,
    id: string,
    endpointName: string,
    variantName: string = SERVING_VARIANT_NAME,
  ): IServingSlot {
    const problems = new ProblemCollector(`ServingSlot.fromEndpointName '${scope.node.path}/${id}'`);
    const fix = 'use up to 63 letters, digits and hyphens, starting with a letter or digit';
    problems.checkPattern('endpointName', endpointName, SAGEMAKER_NAME, fix);
    problems.checkPattern('variantName', variantName, SAGEMAKER_NAME, fix);
    problems.throwIfAny();
    class Import extends ServingSlotBase {
      public readonly endpointName = endpointName;
      public readonly variantName = variantName;
    }
    return new Import(scope, id);
  }

  /** The endpoint's name (the endpoint exists only once a model is released). */
  public readonly endpointName: string;
  /** The slot's champion variant, `AllTraffic`, which the metrics are about. */
  public readonly variantName = SERVING_VARIANT_NAME;
  /** The challenger variant, when the slot offers one: its model, condition, metrics and alarms. */
  public readonly challenger?: ServingVariant;
  /** The shadow variant, when the slot offers one: its model, condition, metrics and alarms. */
  public readonly shadow?: ServingVariant;
  /** True while a model is released; every endpoint resource carries it. */
  public readonly released: CfnCondition;
  /** The model package ARN the stack was deployed with, or `none`. */
  public readonly modelPackageArn: string;
  /** The role the model runs as: `role`, or the one the slot created. */
  public readonly role: iam.IRole;
  /** The endpoint, conditional on `released`. */
  public readonly endpoint: sagemaker.CfnEndpoint;
  /** Alarms that roll a blue/green update back (real-time only). */
  public readonly rollbackAlarms: cloudwatch.Alarm[] = [];
  /**
   * The registry the slot serves packages of, when given: a release of a package from another
   * group is refused.
   */
  public readonly modelRegistry?: IModelRegistry;

  constructor(scope: Construct, id: string, props: ServingSlotProps) {
    super(scope, id);
    const mode = props.mode ?? ServingMode.serverless();
    this.endpointName =
      props.endpointName ??
      Names.uniqueResourceName(this, { maxLength: 63, separator: '-', allowedSpecialCharacters: '-' });
    const checked = validate(this, props, mode);
    const stack = Stack.of(this);
    // An imported pointer has no resource in this app, so there is no stack to depend on.
    if (props.pointer instanceof ReleasePointer) {
      stack.addStackDependency(
        Stack.of(props.pointer),
        `serving slot ${this.node.path} reads its release pointer`,
      );
    }

    const pointer = new CfnParameter(this, 'ModelPackageArn', {
      type: 'AWS::SSM::Parameter::Value<String>',
      default: props.pointer.parameterName,
      description: `SSM parameter holding the model package ARN that ${this.endpointName} serves, or ${NO_MODEL_RELEASED}. Leave as is: the release command writes the parameter.`,
    });
    this.modelPackageArn = pointer.valueAsString;
    this.released = new CfnCondition(this, 'Released', {
      expression: Fn.conditionNot(Fn.conditionEquals(pointer.valueAsString, NO_MODEL_RELEASED)),
    });

    this.role =
      props.role ??
      new iam.Role(this, 'ModelRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: `Runs the model served by ${this.endpointName}`,
      });
    props.artifactStore.grantRead(
      this.role,
      props.modelArtifactsFolder
        ? `${ArtifactStorePrefix.MODELS}${props.modelArtifactsFolder}/*`
        : ArtifactStorePrefix.MODELS.keyPattern,
    );
    this.modelRegistry = props.modelRegistry;
    props.modelRegistry?.grantRead(this.role);
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
    pull.forEach((s) => this.role.addToPrincipalPolicy(s));
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
    // Validation refuses variants on a serverless slot.
    if (realTime && props.challenger) {
      this.challenger = this.createVariant('Challenger', CHALLENGER_VARIANT_NAME, props.challenger);
    }
    if (realTime && props.shadow) {
      this.shadow = this.createVariant('Shadow', SHADOW_VARIANT_NAME, props.shadow);
    }
    const weights = this.challenger || this.shadow ? variantWeights(stack) : undefined;
    const shareOf = (variant: ServingVariant, column: 'Rest' | 'Share' | 'Fraction') =>
      Token.asNumber(weights!.findInMap(variant.trafficShare, column));
    const instanceType = realTime?.instanceType ?? 'ml.m5.large';
    // Inside Fn::If, CDK passes the value as it is: it is written in CloudFormation's casing.
    const variantConfig = (variant: ServingVariant, options: ServingVariantOptions, weight: number) => ({
      VariantName: variant.variantName,
      ModelName: variant.model.attrModelName,
      InstanceType: options.instanceType ?? instanceType,
      InitialInstanceCount: options.instanceCount ?? 1,
      InitialVariantWeight: weight,
    });
    const challenger = this.challenger;
    const variant: sagemaker.CfnEndpointConfig.ProductionVariantProperty = realTime
      ? {
          variantName: SERVING_VARIANT_NAME,
          modelName: model.attrModelName,
          instanceType,
          initialInstanceCount: realTime.minInstances ?? 1,
          // CloudFormation has no arithmetic: the champion's part of an A/B split (100 minus the
          // challenger's share) is looked up. SageMaker divides each weight by their sum.
          initialVariantWeight: challenger
            ? Token.asNumber(Fn.conditionIf(challenger.released.logicalId, shareOf(challenger, 'Rest'), 1))
            : 1,
        }
      : {
          variantName: SERVING_VARIANT_NAME,
          modelName: model.attrModelName,
          serverlessConfig: {
            memorySizeInMb: mode._serverless.memorySizeInMb ?? 2048,
            maxConcurrency: mode._serverless.maxConcurrency ?? 5,
          },
        };
    const capture = realTime?.dataCapture;
    if (capture) {
      // The endpoint writes the capture files with the model's role.
      props.artifactStore.grantWrite(this.role, ArtifactStorePrefix.CAPTURE.keyPattern);
    }
    const productionVariants: Array<sagemaker.CfnEndpointConfig.ProductionVariantProperty | IResolvable> = [
      variant,
    ];
    if (challenger && props.challenger) {
      productionVariants.push(
        Fn.conditionIf(
          challenger.released.logicalId,
          variantConfig(challenger, props.challenger, shareOf(challenger, 'Share')),
          Fn.ref('AWS::NoValue'),
        ),
      );
    }
    const shadow = this.shadow;
    const config = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants,
      // The share of requests SageMaker copies to the shadow is its weight relative to the
      // production variant's (1), as for production variants (ProductionVariant.InitialVariantWeight).
      shadowProductionVariants:
        shadow && props.shadow
          ? (Fn.conditionIf(
              shadow.released.logicalId,
              [variantConfig(shadow, props.shadow, shareOf(shadow, 'Fraction'))],
              Fn.ref('AWS::NoValue'),
            ) as IResolvable)
          : undefined,
      dataCaptureConfig: capture
        ? {
            enableCapture: true,
            initialSamplingPercentage: capture.samplingPercentage ?? 100,
            destinationS3Uri: props.artifactStore.s3UrlFor(ArtifactStorePrefix.CAPTURE).replace(/\/$/, ''),
            kmsKeyId: props.artifactStore.encryptionKey?.keyArn,
            captureOptions: [
              { captureMode: 'Input' },
              ...(capture.captureResponses === false ? [] : [{ captureMode: 'Output' }]),
            ],
            captureContentTypeHeader: {
              csvContentTypes: ['text/csv'],
              jsonContentTypes: ['application/json'],
            },
          }
        : undefined,
    });

    if (realTime) {
      const latency = props.rollbackLatency ?? Duration.seconds(1);
      this.rollbackAlarms.push(...this.createRollbackAlarms(latency, checked.rollbackLatencyMicroseconds));
      for (const v of [this.challenger, this.shadow]) {
        if (v) {
          v.alarms.push(...this.createVariantAlarms(v, latency, checked.rollbackLatencyMicroseconds));
        }
      }
      if (this.challenger || this.shadow) {
        MaturityContract.provide(this, Capability.VARIANT_TESTING);
      }
      if (!Token.isUnresolved(instanceType) && instanceType.startsWith('ml.inf1.')) {
        // SageMaker's exclusions: on Inf1 instances an update falls back to all at once, without the
        // final bake and so without the alarms' watch.
        Annotations.of(this).addWarningV2(
          'cdk-mlops-maturity:guardrailsExcludeInf1',
          `SageMaker applies no deployment guardrails to endpoints on Inf1 instances (${instanceType}): updates ` +
            'shift all traffic at once without a bake time or alarm rollback, whatever trafficShifting says. Use ' +
            'another instance type for guarded updates.',
        );
      } else {
        // Every other real-time update is blue/green and rolls back on alarms, whatever its traffic shifting.
        MaturityContract.provide(this, Capability.DEPLOYMENT_GUARDRAILS);
      }
    }
    const update = checked.blueGreenUpdate;
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
      deploymentConfig:
        realTime && update
          ? {
              blueGreenUpdatePolicy: {
                trafficRoutingConfiguration: update.trafficRoutingConfiguration,
                terminationWaitInSeconds: checked.bakeTimeSeconds,
                maximumExecutionTimeoutInSeconds: update.maximumExecutionTimeoutInSeconds,
              },
              autoRollbackConfiguration: {
                alarms: [
                  ...this.rollbackAlarms.map((a) => ({ alarmName: a.alarmName })),
                  // The challenger's alarms exist only while it serves; SageMaker's exclusions
                  // (deployment-guardrails-exclusions) leave multi-variant endpoints blue/green with
                  // rollback, so they guard its start and every update while it runs.
                  ...(this.challenger?.alarms ?? []).map((a) =>
                    Fn.conditionIf(
                      this.challenger!.released.logicalId,
                      { AlarmName: a.alarmName },
                      Fn.ref('AWS::NoValue'),
                    ),
                  ),
                  ...(realTime.rollbackAlarmNames ?? []).map((alarmName) => ({ alarmName })),
                ],
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
    for (const v of [this.challenger, this.shadow]) {
      for (const resource of [
        v?.model,
        ...(v?.alarms ?? []).map((a) => a.node.defaultChild as CfnResource),
      ]) {
        if (v && resource) {
          resource.cfnOptions.condition = v.released;
        }
      }
    }
  }

  /**
   * A variant besides the champion: the stack parameters reading its pointer and its weight, the
   * condition that it serves (the champion does, and its pointer is not `none`), and its model,
   * which runs as the slot's model role.
   */
  private createVariant(id: string, variantName: string, options: ServingVariantOptions): ServingVariant {
    const stack = Stack.of(this);
    for (const pointer of [options.pointer, options.weight]) {
      if (pointer instanceof ReleasePointer || pointer instanceof VariantWeight) {
        stack.addStackDependency(
          Stack.of(pointer),
          `serving slot ${this.node.path} reads ${pointer.node.path}`,
        );
      }
    }
    const pointer = new CfnParameter(this, `${id}ModelPackageArn`, {
      type: 'AWS::SSM::Parameter::Value<String>',
      default: options.pointer.parameterName,
      description: `SSM parameter holding the model package ARN that variant ${variantName} of ${this.endpointName} serves, or ${NO_MODEL_RELEASED}. Leave as is: the release command writes the parameter.`,
    });
    const weight = new CfnParameter(this, `${id}Weight`, {
      type: 'AWS::SSM::Parameter::Value<String>',
      default: options.weight.parameterName,
      description: `SSM parameter holding the traffic share in percent (0-100) of variant ${variantName} of ${this.endpointName}. Leave as is: the release command writes the parameter.`,
    });
    const released = new CfnCondition(this, `${id}Released`, {
      expression: Fn.conditionAnd(
        this.released,
        Fn.conditionNot(Fn.conditionEquals(pointer.valueAsString, NO_MODEL_RELEASED)),
      ),
    });
    const model = new sagemaker.CfnModel(this, `${id}Model`, {
      executionRoleArn: this.role.roleArn,
      primaryContainer: { modelPackageName: pointer.valueAsString },
    });
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      model.node.addDependency(policy);
    }
    return new ServingVariant(
      this.endpointName,
      variantName,
      options.pointer,
      options.weight,
      released,
      model,
      pointer.valueAsString,
      weight.valueAsString,
    );
  }

  /**
   * A variant's 5XX and latency alarms, with the thresholds and periods of the champion's. The
   * challenger's roll blue/green updates back, so their names are literal; the shadow's only alarm
   * (its responses reach no client).
   */
  private createVariantAlarms(
    variant: ServingVariant,
    latency: Duration,
    latencyMicroseconds: number,
  ): cloudwatch.Alarm[] {
    const rollback = variant.variantName === CHALLENGER_VARIANT_NAME;
    const [errorsName, latencyName] = variantAlarmNames(this.endpointName, variant.variantName);
    const id = variant.variantName;
    const what = rollback ? 'Rolls a blue/green update of' : 'Watches';
    return [
      variant.metric5xxErrors().createAlarm(this, `${id}ErrorsAlarm`, {
        alarmName: errorsName,
        alarmDescription: `${what} ${this.endpointName} (variant ${id}) on any 5XX invocation error`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      variant.metricModelLatency().createAlarm(this, `${id}LatencyAlarm`, {
        alarmName: latencyName,
        alarmDescription: `${what} ${this.endpointName} (variant ${id}) when p99 model latency exceeds ${latency.toHumanString()}`,
        threshold: latencyMicroseconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }

  /**
   * The slot's one set of endpoint alarms: they roll a blue/green update back, and
   * PlatformMonitoring adds its notification to them instead of watching the same metrics again.
   *
   * Their period is one minute, SageMaker's publishing interval, because they must fire within the
   * bake time (5 minutes by default): three 5-minute periods would outlast the bake and never roll
   * back. Any 5XX error fires at once, since a new fleet that fails requests must not take all
   * traffic; the latency alarm needs two breaching minutes of three, so one slow minute (a cold
   * model, a large request) neither rolls back nor pages.
   */
  private createRollbackAlarms(latency: Duration, latencyMicroseconds: number): cloudwatch.Alarm[] {
    const [errorsName, latencyName] = slotAlarmNames(this.endpointName);
    return [
      this.metric5xxErrors().createAlarm(this, 'ErrorsAlarm', {
        alarmName: errorsName,
        alarmDescription: `Rolls a blue/green update of ${this.endpointName} back on any 5XX invocation error`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.metricModelLatency().createAlarm(this, 'LatencyAlarm', {
        alarmName: latencyName,
        alarmDescription: `Rolls a blue/green update of ${this.endpointName} back when p99 model latency exceeds ${latency.toHumanString()}`,
        threshold: latencyMicroseconds,
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

/**
 * The names of the slot's own rollback alarms. The endpoint references them by name, so they are
 * literal, not generated.
 */
function slotAlarmNames(endpointName: string): [errors: string, latency: string] {
  return [`${endpointName}-rollback-errors`, `${endpointName}-rollback-latency`];
}

/** The names of a variant's alarms: the challenger's roll updates back, the shadow's do not. */
function variantAlarmNames(endpointName: string, variantName: string): [errors: string, latency: string] {
  return variantName === CHALLENGER_VARIANT_NAME
    ? [`${endpointName}-challenger-rollback-errors`, `${endpointName}-challenger-rollback-latency`]
    : [`${endpointName}-shadow-errors`, `${endpointName}-shadow-latency`];
}

/**
 * The stack's one table of variant weights by share (0 to 100 percent): `Share` and `Rest` weigh a
 * challenger and its champion, `Fraction` a shadow against its production variant's weight of 1.
 * A share that is not a whole percentage has no row, so an update with it fails before it changes
 * anything (the release checks the share before it writes it).
 */
function variantWeights(stack: Stack): CfnMapping {
  const id = 'MlopsVariantWeights';
  const existing = stack.node.tryFindChild(id);
  if (existing) {
    return existing as CfnMapping;
  }
  const mapping: Record<string, Record<string, number>> = {};
  for (let share = 0; share <= 100; share++) {
    mapping[String(share)] = { Share: share, Rest: 100 - share, Fraction: share / 100 };
  }
  return new CfnMapping(stack, id, { mapping });
}

/** A slot's props in the units and shapes CloudFormation takes them in, once checked. */
interface CheckedSlot {
  /** The bake time in seconds; a token when the Duration is one given in seconds. */
  readonly bakeTimeSeconds: number;
  /** The rollback latency in microseconds, the unit SageMaker reports ModelLatency in; always literal. */
  readonly rollbackLatencyMicroseconds: number;
  /** The traffic routing and timeout of a real-time slot's updates. */
  readonly blueGreenUpdate?: BlueGreenUpdate;
}

/** Options only a real-time slot takes, refused at run time for callers that the types do not reach. */
const REAL_TIME_ONLY: ReadonlyArray<keyof RealTimeServingOptions> = [
  'trafficShifting',
  'rollbackAlarmNames',
  'dataCapture',
];

function validate(slot: ServingSlot, props: ServingSlotProps, mode: ServingMode): CheckedSlot {
  const problems = new ProblemCollector(`ServingSlot '${slot.node.path}'`);
  let bakeTimeSeconds: number | undefined;
  let rollbackLatencyMicroseconds = 0;
  let update: BlueGreenUpdate | undefined;
  problems.checkPattern(
    'endpointName',
    props.endpointName,
    SAGEMAKER_NAME,
    'use up to 63 letters, digits and hyphens, starting with a letter or digit',
  );
  problems.checkPattern(
    'modelArtifactsFolder',
    props.modelArtifactsFolder,
    ARTIFACT_FOLDER,
    "use one folder name of letters, digits, '.', '-' and '_', without slashes, e.g. the model's name",
  );
  const sameStack = (prop: string, pointer: IReleasePointer | undefined, kind: string) => {
    if (
      (pointer instanceof ReleasePointer || pointer instanceof VariantWeight) &&
      Stack.of(pointer) === Stack.of(slot)
    ) {
      problems.add(
        prop,
        pointer.node.path,
        'the stack resolves the pointer before it creates any resource, so the pointer must be in a stack deployed ' +
          `first: create the ${kind} in another stack (the app uses <env>-Release)`,
      );
    }
  };
  sameStack('pointer', props.pointer, 'ReleasePointer');
  checkVariants(problems, props, mode, sameStack);
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
    const given = mode._serverless as Record<string, unknown>;
    for (const key of REAL_TIME_ONLY.filter((k) => given[k] !== undefined)) {
      problems.add(
        `mode.${key}`,
        key === 'dataCapture' ? JSON.stringify(given[key]) : String(given[key]),
        key === 'dataCapture'
          ? 'SageMaker serverless endpoints do not capture data: use ServingMode.realTime({ dataCapture }), or remove it'
          : 'a serverless slot has no instance fleets to shift traffic between and no rollback alarms: ' +
              `give it to ServingMode.realTime({ ${key} }), or remove it`,
      );
    }
  } else {
    const rt = mode._realTime;
    const sampling = rt.dataCapture?.samplingPercentage;
    if (
      sampling !== undefined &&
      !Token.isUnresolved(sampling) &&
      !(Number.isInteger(sampling) && sampling >= 1 && sampling <= 100)
    ) {
      problems.add('mode.dataCapture.samplingPercentage', sampling, 'use a whole number from 1 to 100');
    }
    problems.checkPattern(
      'mode.instanceType',
      rt.instanceType,
      SAGEMAKER_INSTANCE_TYPE,
      "use an instance type such as 'ml.m5.large'",
    );
    between('mode.minInstances', rt.minInstances, 1, 1000);
    between('mode.maxInstances', rt.maxInstances, 1, 1000);
    if (
      !Token.isUnresolved(rt.minInstances) &&
      !Token.isUnresolved(rt.maxInstances) &&
      (rt.minInstances ?? 1) > (rt.maxInstances ?? 2)
    ) {
      problems.add(
        'mode.maxInstances',
        rt.maxInstances ?? 2,
        `give at least minInstances (${rt.minInstances ?? 1})`,
      );
    }
    bakeTimeSeconds = waitSeconds(
      problems,
      'mode.blueGreenBakeTime',
      rt.blueGreenBakeTime ?? Duration.minutes(5),
      'bake time',
      'TerminationWaitInSeconds',
    );
    update = blueGreenUpdate(problems, {
      trafficShifting: rt.trafficShifting ?? TrafficShifting.allAtOnce(),
      bakeTimeSeconds,
      minInstances: rt.minInstances ?? 1,
      maxInstances: rt.maxInstances ?? 2,
      // The challenger's alarms are watched too, and count against SageMaker's limit.
      slotAlarmNames: [
        ...slotAlarmNames(slot.endpointName),
        ...(props.challenger ? variantAlarmNames(slot.endpointName, CHALLENGER_VARIANT_NAME) : []),
      ],
      extraAlarmNames: rt.rollbackAlarmNames,
    });
    rollbackLatencyMicroseconds =
      problems.latencyMicroseconds('rollbackLatency', props.rollbackLatency ?? Duration.seconds(1)) ?? 0;
  }
  problems.throwIfAny();
  return { bakeTimeSeconds: bakeTimeSeconds ?? 0, rollbackLatencyMicroseconds, blueGreenUpdate: update };
}

/**
 * The variants' props against SageMaker's rules for them (Developer Guide: "Create a shadow test",
 * "Deployment guardrails: Exclusions"; API reference: CreateEndpointConfig, TrafficRoutingConfig).
 */
function checkVariants(
  problems: ProblemCollector,
  props: ServingSlotProps,
  mode: ServingMode,
  sameStack: (prop: string, pointer: IReleasePointer | undefined, kind: string) => void,
): void {
  const offered = (['challenger', 'shadow'] as const).filter((key) => props[key] !== undefined);
  if (mode._kind === 'serverless') {
    for (const key of offered) {
      problems.add(
        key,
        describeVariant(props[key]!),
        key === 'challenger'
          ? 'a serverless endpoint serves one production variant: use ServingMode.realTime() for an A/B test, or remove it'
          : 'SageMaker shadow variants need instances (shadow tests refuse serverless endpoints): use ' +
              'ServingMode.realTime() for a shadow test, or remove it',
      );
    }
    return;
  }
  if (offered.length === 2) {
    problems.add(
      'shadow',
      describeVariant(props.shadow!),
      'SageMaker allows one production variant on an endpoint with a shadow variant, so a slot cannot offer a ' +
        'challenger and a shadow at once: remove one of them (test one candidate at a time)',
    );
  }
  const shifting = mode._realTime.trafficShifting;
  for (const key of offered) {
    const options = props[key]!;
    sameStack(`${key}.pointer`, options.pointer, 'ReleasePointer');
    sameStack(`${key}.weight`, options.weight, 'VariantWeight');
    const names = [props.pointer, options.pointer, options.weight].map((p) => p?.parameterName);
    if (!names.some((n) => n === undefined || Token.isUnresolved(n)) && new Set(names).size < names.length) {
      problems.add(
        `${key}.pointer`,
        options.pointer?.parameterName,
        "the champion's pointer, the variant's pointer and its weight must be three parameters: give the variant " +
          "its own, e.g. new ReleasePointer(scope, id, { ..., variant: '" +
          key +
          "' }) and new VariantWeight(scope, id, { ..., variant: '" +
          key +
          "' })",
      );
    }
    problems.checkPattern(
      `${key}.instanceType`,
      options.instanceType,
      SAGEMAKER_INSTANCE_TYPE,
      "use an instance type such as 'ml.m5.large'",
    );
    const count = options.instanceCount;
    if (
      count !== undefined &&
      !Token.isUnresolved(count) &&
      !(Number.isInteger(count) && count >= 1 && count <= 1000)
    ) {
      problems.add(`${key}.instanceCount`, count, 'use a whole number from 1 to 1000');
    } else if (
      shifting?._size?._type === 'INSTANCE_COUNT' &&
      !Token.isUnresolved(shifting._size._value) &&
      !Token.isUnresolved(count) &&
      shifting._size._value * 2 > (count ?? 1)
    ) {
      // A canary, or a linear step, is at most half of each variant's instances.
      problems.add(
        `${key}.instanceCount`,
        count ?? 1,
        `${shifting} turns on ${shifting._size._value} instance(s) of each variant at a time, and SageMaker allows at ` +
          `most half of a variant's instances: give the ${key} at least ${shifting._size._value * 2} instances, or ` +
          'shift traffic by CapacitySize.percent(n)',
      );
    }
  }
}

function describeVariant(options: ServingVariantOptions): string {
  const name = (p: IReleasePointer | undefined) =>
    p === undefined ? 'undefined' : Token.isUnresolved(p.parameterName) ? '(token)' : p.parameterName;
  return `{ pointer: ${name(options.pointer)}, weight: ${name(options.weight)} }`;
}
