import { CfnOutput, Fn, RemovalPolicy, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GitHubOidcDeployRoleProps } from '../delivery/github-oidc-deploy-role';
import { isMaturityLevel, MaturityLevel } from '../maturity/maturity-level';
import { ProblemCollector } from '../private/errors';
import { ENVIRONMENT_NAME, GITHUB_OIDC_PROVIDER_ARN, SUBNET_ID, VPC_ID } from '../private/patterns';
import { ReleaseRole } from '../release/release-role';
import { ReleaseWorkflow } from '../release/release-workflow';
import { IReleasePointer } from '../serving/release-pointer';
import {
  acceptReleases,
  automateReleases,
  EnvironmentReleaseAutomation,
  EnvironmentReleaseSource,
} from './release-automation';
import { ReferenceTarget } from '../training/reference-workload';
import { ModelMonitoring } from '../monitoring/model-monitoring';
import { AutomationTarget } from '../automation/automation-target';
import { ModelAutomation } from '../automation/model-automation';
import {
  automateModels,
  checkRetrainingLoop,
  driveAutomation,
  EnvironmentAutomationSource,
  EnvironmentModelAutomation,
  loopProductionData,
} from './retraining-loop';
import { monitorModels } from '../private/environment-monitoring';
import { ServingMode } from '../serving/serving-slot';
import { Level0Tier } from '../tiers/level0-tier';
import { Level1Tier } from '../tiers/level1-tier';
import { Level2Tier } from '../tiers/level2-tier';
import { checkModelNames } from '../tiers/platform-model';
import { WorkspaceProps } from '../workspace/workspace';

/**
 * One model of an environment (level 2 and up), as PlatformStack and EnvironmentStage take it: the
 * reference workload's target and gate, how its slot serves and when its pipeline runs.
 */
export interface EnvironmentModelOptions {
  /**
   * The model's name: 1-32 lower-case letters, digits and single hyphens, starting with a letter.
   * Its resources' logical ids and names, its artifact-store folder, its MLflow experiment and
   * its release pointer derive from it (see PlatformModel).
   */
  readonly modelName: string;

  /**
   * What the model predicts.
   *
   * @default ReferenceTarget.TRIP_DURATION
   */
  readonly target?: ReferenceTarget;

  /**
   * The largest test RMSE, in the target's unit, for a model to be registered.
   *
   * @default - the target's `defaultMaxRmse`
   */
  readonly maxRmse?: number;

  /**
   * The fare target only: fares above this many dollars are dropped in preprocessing.
   *
   * @default 500
   */
  readonly maxFare?: number;

  /**
   * How the model's serving slot serves.
   *
   * @default ServingMode.serverless()
   */
  readonly servingMode?: ServingMode;

  /**
   * The endpoint's name. Setting one means a change that replaces the endpoint fails until the
   * name changes too.
   *
   * @default - derived from the construct path, stable across deployments
   */
  readonly endpointName?: string;

  /**
   * A challenger variant of the model's real-time slot (an A/B test, `variant-testing`): it answers
   * its weight's share of the requests once its pointer names a package. Not with `shadow`.
   *
   * @default - no challenger
   */
  readonly challenger?: EnvironmentVariantOptions;

  /**
   * A shadow variant of the model's real-time slot (a shadow test, `variant-testing`): it gets a
   * copy of its weight's share of the requests once its pointer names a package. Not with
   * `challenger`.
   *
   * @default - no shadow
   */
  readonly shadow?: EnvironmentVariantOptions;

  /**
   * Run the model's training pipeline on this schedule.
   *
   * @default - no schedule; runs start by hand or on new data
   */
  readonly trainingSchedule?: events.Schedule;

  /**
   * Run the model's training pipeline when new objects arrive under the artifact store's `data/`
   * prefix.
   *
   * @default false
   */
  readonly triggerTrainingOnNewData?: boolean;
}

/** An environment's model monitoring settings, shared by every monitored model. */
export interface EnvironmentModelMonitoringOptions {
  /**
   * When each slot's drift workflow runs.
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly driftSchedule?: events.Schedule;
  /**
   * When each slot's model quality job runs.
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly qualitySchedule?: events.Schedule;
  /**
   * PSI at or above this marks a feature drifted.
   *
   * @default 0.2
   */
  readonly psiThreshold?: number;
  /**
   * The drift alarm fires when the share of drifted features is above this.
   *
   * @default 0.3
   */
  readonly driftedFeatureShareThreshold?: number;
}

/** The fleet of a model's test variant; its pointer and weight are the environment's (see EnvironmentStage). */
export interface EnvironmentVariantOptions {
  /**
   * The variant's instance type.
   *
   * @default - the champion's
   */
  readonly instanceType?: string;
  /**
   * The variant's instances, a fixed fleet.
   *
   * @default 1
   */
  readonly instanceCount?: number;
}

/** The parameters a model's test variant serves from: its pointer and its traffic share. */
export interface VariantPointers {
  readonly pointer: IReleasePointer;
  readonly weight: IReleasePointer;
}

/** The model an environment at level 2 and up runs when it names none. */
export const DEFAULT_MODEL_NAME = 'trip-duration';

/**
 * The notebook workspace of a PlatformStack: Workspace's props, with an existing VPC given by ids.
 * Ids are all a Studio domain needs, so the stack imports them without a lookup and synth needs
 * no credentials.
 */
export interface PlatformWorkspaceOptions extends Omit<WorkspaceProps, 'vpc' | 'vpcSubnets'> {
  /**
   * An existing VPC for the Studio domain. Give it with `subnetIds`.
   *
   * @default - the workspace creates a VPC without NAT gateways
   */
  readonly vpcId?: string;

  /**
   * The subnets of `vpcId` where the domain's network interfaces go.
   *
   * @default - none; required with `vpcId`
   */
  readonly subnetIds?: string[];
}

/**
 * A role for deploying the environment from GitHub Actions: GitHubOidcDeployRole's props, with an
 * existing OIDC provider given by ARN, which the stack imports.
 */
export interface PlatformGitHubDeployRoleOptions extends Omit<GitHubOidcDeployRoleProps, 'provider'> {
  /**
   * The ARN of GitHub's OIDC provider in the account. IAM allows one per account: give it when
   * another stack already created it.
   *
   * @default - the role creates the provider
   */
  readonly providerArn?: string;
}

/** What defines one environment of the platform: shared by PlatformStack and EnvironmentStage. */
export interface PlatformEnvironmentOptions {
  /**
   * The environment's name, in resource descriptions, outputs, dashboards and the release
   * pointer's parameter name: 1-20 lower-case letters, digits and hyphens, starting with a letter.
   */
  readonly environmentName: string;

  /** The maturity level the environment declares; synth fails when its tiers do not reach it. */
  readonly level: MaturityLevel;

  /**
   * What happens to data-bearing resources when they leave the stack. DESTROY also empties the
   * artifact store's buckets on deletion, so choose it only for disposable environments.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The environment's own notebook workspace (SageMaker Studio domain), or `false` for none, e.g.
   * where nobody experiments; share the capability from an environment that has one.
   *
   * @default - a workspace with Workspace's defaults
   */
  readonly workspace?: PlatformWorkspaceOptions | false;

  /**
   * A role for deploying the environment from GitHub Actions (level 1 and up). With it, the
   * environment counts as delivered without the delivery pipeline.
   *
   * @default - no role; a DeliveryPipeline delivers the environment
   */
  readonly gitHubDeployRole?: PlatformGitHubDeployRoleOptions;

  /**
   * The models the environment runs (level 2 and up), each with its own training pipeline, model
   * package group, serving slot and release pointer, sharing the environment's artifact store,
   * MLflow and monitoring. Names are unique, also once hyphens are removed.
   *
   * @default - at level 2 and up, one model named `trip-duration` with the reference workload's defaults
   */
  readonly models?: EnvironmentModelOptions[];

  /**
   * The environment whose approved model versions are released to this one by its release
   * automation (level 2 and up, with a serving stack of its own): the environment gets a release
   * role trusted only by that environment's release workflows, and a serving-only CloudFormation
   * role they update its serving stack through (docs/adr/0006). Registers `release-on-approval`
   * and `staged-promotion`.
   *
   * @default - no release automation releases here
   */
  readonly releaseSource?: EnvironmentReleaseSource;

  /**
   * Release this environment's approved model versions to other environments, in order (level 2
   * and up): one release workflow per model that a target runs, started by the model's registry
   * approvals, notifying this environment's alarm topic. The targets' account ids also get read
   * access to the models' registry groups and artifacts.
   *
   * @default - no release automation
   */
  readonly releaseAutomation?: EnvironmentReleaseAutomation;

  /**
   * Model monitoring (level 3: `model-monitoring`, `drift-detection`, `model-quality`) of every
   * model whose real-time slot captures data (`ServingMode.realTime({ dataCapture })`): a
   * ModelMonitoring per model in this stack, measuring the drift of the model its pointer names
   * from that model's training baseline (the `releaseSource`'s, for a model released from there),
   * its quality against the ground truth, alarmed at the model's `maxRmse` on the alarm topic.
   * `false` for none.
   *
   * @default - ModelMonitoring's defaults for every model that captures data
   */
  readonly modelMonitoring?: EnvironmentModelMonitoringOptions | false;

  /**
   * The level-4 loop of this environment's models, when it is the release source (level 2 and
   * up): a ModelAutomation per model (pause switch, retrain trigger, approval gate, notifications
   * on this environment's alarm topic), driven by `environmentName`'s drift and quality alarms and
   * judged against the package it serves. Same account and region only.
   *
   * @default - no retraining loop
   */
  readonly modelAutomation?: EnvironmentModelAutomation;

  /**
   * The release source whose level-4 loop this environment drives (level 2 and up, with
   * `releaseSource` naming the same environment): per monitored model, a rule sending its drift
   * and quality alarms to the source's retrain trigger, the location of its production data, and
   * read access to it for the source's production-data role. Registers `automated-retraining`,
   * `approval-gate`, `automation-guardrails` and, without `manualApproval`, `automatic-release`.
   *
   * @default - this environment drives no loop
   */
  readonly automationSource?: EnvironmentAutomationSource;
}

/** Props of a PlatformStack. */
export interface PlatformStackProps extends StackProps, PlatformEnvironmentOptions {
  /**
   * Each model's release pointer, by model name, in a stack deployed before this one.
   *
   * @default - none; required from level 2, one per model (EnvironmentStage creates them)
   */
  readonly releasePointers?: { [modelName: string]: IReleasePointer };
  /**
   * Each model's variant pointers and weights, by model name, in a stack deployed before the
   * serving stack: one entry per model with `challenger` or `shadow`.
   *
   * @default - none; required for each model with a variant (EnvironmentStage creates them)
   */
  readonly variantPointers?: {
    readonly [modelName: string]: {
      readonly challenger?: VariantPointers;
      readonly shadow?: VariantPointers;
    };
  };
  /**
   * Where the models' serving slots go: a stack deployed after this one that holds serving and
   * nothing else, so that a release can update it through a role that may change only serving
   * (docs/adr/0006). Each slot's model role stays in this stack, and this stack's monitoring
   * watches the slots.
   *
   * @default - the slots are in this stack (EnvironmentStage gives its serving stack)
   */
  readonly servingScope?: Construct;
}

/**
 * The platform's resources for one environment: the tiers up to the environment's level.
 */
export class PlatformStack extends Stack {
  public readonly level0: Level0Tier;
  /** The Level 1 tier, when the environment's level is 1 or more. */
  public readonly level1?: Level1Tier;
  /** The Level 2 tier, when the environment's level is 2 or more. */
  public readonly level2?: Level2Tier;
  /** The environment whose approved versions are released here, when given. */
  public readonly releaseSource?: EnvironmentReleaseSource;
  /** The release role the source's workflows release through, with `releaseSource`. */
  public readonly releaseRole?: ReleaseRole;
  /** The release workflows, one per model released elsewhere, with `releaseAutomation`. */
  public readonly releaseWorkflows: ReleaseWorkflow[] = [];
  /** The model monitoring, one per model whose slot captures data. */
  public readonly modelMonitoring: ModelMonitoring[] = [];
  /** The retraining loops, one per model, with `modelAutomation`. */
  public readonly modelAutomation: ModelAutomation[] = [];
  /** This environment's side of the loops, one per monitored model, with `automationSource`. */
  public readonly automationTargets: AutomationTarget[] = [];

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const removalPolicy = validateProps(this, props);
    const models = modelsOf(props);
    const name = props.environmentName;

    this.level0 = new Level0Tier(this, 'Level0', {
      removalPolicy,
      enableWorkspace: props.workspace !== false,
      workspaceOptions: props.workspace ? this.workspaceOptions(props.workspace, removalPolicy) : undefined,
    });

    if (props.level >= MaturityLevel.DEVOPS) {
      this.level1 = new Level1Tier(this, 'Level1', {
        environmentName: name,
        monitoringOptions: { removalPolicy },
        gitHubDeployRole: props.gitHubDeployRole && this.gitHubDeployRoleProps(props.gitHubDeployRole),
      });
      new CfnOutput(this, 'AlarmTopicArn', {
        description: `Subscribe to receive the alarms of environment ${name}`,
        value: this.level1.monitoring.alarmTopic.topicArn,
      });
    }

    if (props.level >= MaturityLevel.AUTOMATED_TRAINING) {
      const level2 = new Level2Tier(this, 'Level2', {
        artifactStore: this.level0.artifactStore,
        removalPolicy,
        // Every pointer is checked by validateProps.
        models: models.map((model) => ({
          modelName: model.modelName,
          releasePointer: props.releasePointers![model.modelName],
          modelRegistryOptions: {
            crossAccountReadAccounts: targetAccounts(this, props.releaseAutomation, model.modelName),
          },
          workloadOptions: {
            target: model.target,
            maxRmse: model.maxRmse,
            maxFare: model.maxFare,
            schedule: model.trainingSchedule,
            triggerOnNewData: model.triggerTrainingOnNewData,
            productionData: loopProductionData(name, props.modelAutomation, model.modelName),
          },
          servingOptions: {
            endpointName: model.endpointName,
            mode: model.servingMode,
            ...variantOptions(props, model),
          },
        })),
        servingScope: props.servingScope,
      });
      this.level2 = level2;
      // Discovery watches this stack only; slots of the serving stack get their alarms there.
      for (const model of level2.models.filter((m) => Stack.of(m.servingSlot) !== this)) {
        this.level1?.monitoring.monitorServingSlot(model.servingSlot);
      }
      new CfnOutput(this, 'MlflowTrackingArn', {
        description: 'MLFLOW_TRACKING_URI for notebooks (with the sagemaker-mlflow plugin)',
        value: level2.experimentTracking.trackingArn,
      });
      if (props.releaseSource) {
        this.releaseSource = props.releaseSource;
        this.releaseRole = acceptReleases(new Construct(this, 'ReleaseAccess'), props.releaseSource, {
          environmentName: name,
          models: level2.models,
          artifactStore: this.level0.artifactStore,
          servingStack: Stack.of(props.servingScope!),
        });
      }
      if (props.modelMonitoring !== false) {
        this.modelMonitoring = monitorModels(
          this,
          level2.models.map((model) => {
            const options = models.find((m) => m.modelName === model.modelName)!;
            return {
              model,
              mode: options.servingMode ?? ServingMode.serverless(),
              target: options.target ?? ReferenceTarget.TRIP_DURATION,
              maxRmse: options.maxRmse,
              pointer: props.releasePointers![model.modelName],
            };
          }),
          {
            environmentName: name,
            artifactStore: this.level0.artifactStore,
            alarmTopic: this.level1!.monitoring.alarmTopic,
            source: props.releaseSource,
            settings: props.modelMonitoring ?? {},
          },
        );
      }
      if (props.automationSource) {
        this.automationTargets = driveAutomation(this, props.automationSource, {
          environmentName: name,
          monitoring: this.modelMonitoring,
          models: level2.models,
          artifactStore: this.level0.artifactStore,
          removalPolicy,
        });
      }
      if (props.releaseAutomation) {
        this.releaseWorkflows = automateReleases(this, props.releaseAutomation, {
          environmentName: name,
          models: level2.models,
          artifactStore: this.level0.artifactStore,
          notificationTopic: this.level1!.monitoring.alarmTopic,
          removalPolicy,
        });
      }
      if (props.modelAutomation) {
        this.modelAutomation = automateModels(this, props.modelAutomation, {
          environmentName: name,
          models: level2.models,
          notificationTopic: this.level1!.monitoring.alarmTopic,
          artifactStore: this.level0.artifactStore,
          removalPolicy,
          releaseWorkflows: this.releaseWorkflows,
          endpointNames: Object.fromEntries(
            Object.entries(
              props.releaseAutomation?.targets.find(
                (t) => t.environmentName === props.modelAutomation!.environmentName,
              )?.models ?? {},
            ).map(([model, target]) => [model, target.endpointName]),
          ),
        });
      }
      for (const model of level2.models) {
        // Output ids derive from the model's name, like its resources'.
        const scope = new Construct(this, `Outputs-${model.modelName}`);
        new CfnOutput(scope, 'TrainingPipelineName', {
          description: `Model ${model.modelName}: start a training run with aws sagemaker start-pipeline-execution --pipeline-name <this>`,
          value: model.workload.pipeline.pipelineName,
        });
        new CfnOutput(scope, 'ModelPackageGroupName', {
          description: `Model ${model.modelName}: approve a version here, then release it with npm run release -- --model ${model.modelName}`,
          value: model.modelRegistry.modelPackageGroupName,
        });
        new CfnOutput(scope, 'ServingEndpointName', {
          description: `Model ${model.modelName}: the endpoint serving its released version (exists once one is released to ${name})`,
          value: model.servingSlot.endpointName,
        });
      }
    }
  }

  private gitHubDeployRoleProps(options: PlatformGitHubDeployRoleOptions): GitHubOidcDeployRoleProps {
    const { providerArn, ...role } = options;
    return {
      ...role,
      provider: providerArn
        ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidcProvider', providerArn)
        : undefined,
    };
  }

  private workspaceOptions(options: PlatformWorkspaceOptions, removalPolicy: RemovalPolicy): WorkspaceProps {
    const { vpcId, subnetIds, ...workspace } = options;
    if (vpcId === undefined || subnetIds === undefined) {
      return { removalPolicy, ...workspace };
    }
    return {
      removalPolicy,
      ...workspace,
      vpc: ec2.Vpc.fromVpcAttributes(this, 'WorkspaceVpc', {
        vpcId,
        // Unused: the subnets below are given explicitly. A token keeps synth free of lookups.
        availabilityZones: Fn.getAzs(),
      }),
      vpcSubnets: {
        subnets: subnetIds.map((id) => ec2.Subnet.fromSubnetId(this, `WorkspaceSubnet-${id}`, id)),
      },
    };
  }
}

/** A model's challenger and shadow options of its slot, from its fleet and its pointers. */
function variantOptions(props: PlatformStackProps, model: EnvironmentModelOptions) {
  const pointers = props.variantPointers?.[model.modelName];
  return {
    challenger: model.challenger && pointers?.challenger && { ...model.challenger, ...pointers.challenger },
    shadow: model.shadow && pointers?.shadow && { ...model.shadow, ...pointers.shadow },
  };
}

/** The accounts, other than this stack's, that `automation` releases the model to. */
function targetAccounts(
  stack: Stack,
  automation: EnvironmentReleaseAutomation | undefined,
  modelName: string,
): string[] | undefined {
  const accounts = [
    ...new Set(
      (automation?.targets ?? [])
        .filter((t) => t.models[modelName] && t.account !== undefined && !Token.isUnresolved(t.account))
        .map((t) => t.account!)
        .filter((a) => a !== stack.account),
    ),
  ];
  return accounts.length > 0 ? accounts : undefined;
}

/** The environment's models: those given, or the default one. */
function modelsOf(props: PlatformEnvironmentOptions): EnvironmentModelOptions[] {
  return props.models ?? [{ modelName: DEFAULT_MODEL_NAME }];
}

/** Checks the release automation props against the environment's models and stacks. */
function checkRelease(problems: ProblemCollector, props: PlatformStackProps, models: string[]): void {
  const source = props.releaseSource;
  if (source) {
    problems.checkPattern(
      'releaseSource.environmentName',
      source.environmentName ?? '',
      ENVIRONMENT_NAME,
      'name the environment whose release workflows release here',
    );
    if (source.environmentName === props.environmentName) {
      problems.add(
        'releaseSource.environmentName',
        source.environmentName,
        'an environment does not release to itself: name the environment whose approvals are released here',
      );
    }
    if (!props.servingScope) {
      problems.add(
        'releaseSource',
        source.environmentName,
        'the release role may update only a stack that holds serving alone: give servingScope, a stack of its own ' +
          '(EnvironmentStage does this)',
      );
    }
    const groups = Object.keys(source.modelPackageGroupNames ?? {});
    if (groups.length === 0) {
      problems.add(
        'releaseSource.modelPackageGroupNames',
        source.modelPackageGroupNames,
        "name the source's model package group of each model released here, by model name",
      );
    }
    for (const model of groups.filter((m) => !models.includes(m))) {
      problems.add(
        `releaseSource.modelPackageGroupNames['${model}']`,
        source.modelPackageGroupNames[model],
        `this environment has no model '${model}': use one of ${models.map((m) => `'${m}'`).join(', ')}`,
      );
    }
  }
  const automation = props.releaseAutomation;
  if (automation) {
    if (!Array.isArray(automation.targets) || automation.targets.length === 0) {
      problems.add(
        'releaseAutomation.targets',
        automation.targets,
        'name at least one environment to release to',
      );
      return;
    }
    automation.targets.forEach((target, index) => {
      const at = `releaseAutomation.targets[${index}]`;
      problems.checkPattern(
        `${at}.environmentName`,
        target.environmentName ?? '',
        ENVIRONMENT_NAME,
        'name an environment',
      );
      if (target.environmentName === props.environmentName) {
        problems.add(
          `${at}.environmentName`,
          target.environmentName,
          'an environment does not release to itself: remove it',
        );
      }
      const released = Object.keys(target.models ?? {});
      if (released.length === 0) {
        problems.add(`${at}.models`, target.models, 'name the models released there, with their endpoints');
      }
      for (const model of released.filter((m) => !models.includes(m))) {
        problems.add(
          `${at}.models['${model}']`,
          target.models[model],
          `this environment has no model '${model}' to release: use one of ${models.map((m) => `'${m}'`).join(', ')}`,
        );
      }
    });
    const names = automation.targets.map((t) => t.environmentName);
    for (const repeated of names.filter((n, i) => names.indexOf(n) !== i)) {
      problems.add('releaseAutomation.targets', repeated, 'name each environment once');
    }
  }
}

/** Checks the props together and returns the removal policy to apply. */
function validateProps(stack: PlatformStack, props: PlatformStackProps): RemovalPolicy {
  const problems = new ProblemCollector(`PlatformStack '${stack.node.path}'`);
  problems.checkPattern(
    'environmentName',
    props.environmentName ?? '',
    ENVIRONMENT_NAME,
    'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
  );
  if (!isMaturityLevel(props.level)) {
    problems.add('level', props.level, 'use a MaturityLevel, an integer from 0 to 4');
  }
  const removalPolicy = problems.checkRetainOrDestroy(props.removalPolicy);

  // Props of tiers above the level would be ignored: say so rather than deploy less than asked.
  const level = isMaturityLevel(props.level) ? props.level : MaturityLevel.AUTOMATED_TRAINING;
  if (level < MaturityLevel.DEVOPS && props.gitHubDeployRole !== undefined) {
    problems.add(
      'gitHubDeployRole',
      props.gitHubDeployRole,
      `it applies from level 1 (DevOps) and the level is ${level}: raise level or remove it`,
    );
  }
  if (level < MaturityLevel.AUTOMATED_TRAINING) {
    for (const key of [
      'models',
      'releasePointers',
      'variantPointers',
      'releaseSource',
      'releaseAutomation',
      'modelMonitoring',
      'modelAutomation',
      'automationSource',
    ] as const) {
      if (props[key] !== undefined) {
        problems.add(
          key,
          props[key],
          `it applies from level 2 (Automated training) and the level is ${level}: raise level or remove it`,
        );
      }
    }
  } else {
    const models = modelsOf(props);
    if (models.length === 0) {
      problems.add(
        'models',
        [],
        `give at least one model, or leave models out for one named '${DEFAULT_MODEL_NAME}'`,
      );
    }
    const names = checkModelNames(
      problems,
      models.map((m) => m.modelName),
    );
    const pointers = props.releasePointers ?? {};
    for (const model of models.filter((m) => names.includes(m.modelName))) {
      if (!pointers[model.modelName]) {
        problems.add(
          `releasePointers['${model.modelName}']`,
          undefined,
          `environment '${props.environmentName}' is at level ${level}: create a ReleasePointer for model ` +
            `'${model.modelName}' in a stack deployed before this one and pass it (EnvironmentStage does this)`,
        );
      }
    }
    checkRelease(problems, props, names);
    checkRetrainingLoop(problems, stack, props, names, (modelName) => {
      const model = models.find((m) => m.modelName === modelName);
      const mode = model?.servingMode ?? ServingMode.serverless();
      return (
        props.modelMonitoring !== false &&
        mode._kind === 'realTime' &&
        mode._realTime.dataCapture !== undefined
      );
    });
    for (const model of models.filter((m) => names.includes(m.modelName))) {
      for (const kind of ['challenger', 'shadow'] as const) {
        if (model[kind] && !props.variantPointers?.[model.modelName]?.[kind]) {
          problems.add(
            `variantPointers['${model.modelName}'].${kind}`,
            undefined,
            `model '${model.modelName}' has a ${kind}: create its ReleasePointer and VariantWeight (variant '${kind}') ` +
              'in a stack deployed before the serving stack and pass them (EnvironmentStage does this)',
          );
        }
      }
    }
    for (const extra of Object.keys(pointers).filter((n) => !models.some((m) => m.modelName === n))) {
      problems.add(
        `releasePointers['${extra}']`,
        pointers[extra].parameterName,
        `no model is named '${extra}': remove the pointer or add the model to models`,
      );
    }
  }

  const workspace = props.workspace || {};
  problems.checkPattern(
    'workspace.vpcId',
    workspace.vpcId,
    VPC_ID,
    'use a VPC id such as "vpc-0123456789abcdef0"',
  );
  for (const id of workspace.subnetIds ?? []) {
    problems.checkPattern(
      'workspace.subnetIds',
      id,
      SUBNET_ID,
      'use subnet ids such as "subnet-0123456789abcdef0"',
    );
  }
  if ((workspace.vpcId === undefined) !== (workspace.subnetIds === undefined)) {
    problems.add(
      workspace.vpcId === undefined ? 'workspace.subnetIds' : 'workspace.vpcId',
      workspace.vpcId ?? workspace.subnetIds,
      'give vpcId and subnetIds together, or neither',
    );
  } else if (workspace.subnetIds?.length === 0) {
    problems.add('workspace.subnetIds', [], 'name at least one subnet of vpcId');
  }
  problems.checkPattern(
    'gitHubDeployRole.providerArn',
    props.gitHubDeployRole?.providerArn,
    GITHUB_OIDC_PROVIDER_ARN,
    'use arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com',
  );
  problems.throwIfAny();
  return removalPolicy;
}
