import { CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';
import { ModelRegistry } from '../registry/model-registry';
import { ReleaseRole } from '../release/release-role';
import { ReleaseWorkflow, ReleaseWorkflowTarget } from '../release/release-workflow';
import { ServingDeployRole } from '../release/serving-deploy-role';
import { releasePointerParameterName, SERVING_STACK_ID } from '../serving/naming';
import { ReleasePointer } from '../serving/release-pointer';
import { ArtifactStore, ArtifactStorePrefix } from '../storage/artifact-store';
import { PlatformModel } from '../tiers/platform-model';

/** The environment whose approved model versions are released to this one (level 3). */
export interface EnvironmentReleaseSource {
  /** The source environment's name: only its release workflows may release here. */
  readonly environmentName: string;
  /**
   * The source environment's account.
   *
   * @default - this environment's account
   */
  readonly account?: string;
  /**
   * The source environment's region.
   *
   * @default - this environment's region
   */
  readonly region?: string;
  /**
   * The source's model package group of each model released here, by model name; each must name
   * one of this environment's models.
   */
  readonly modelPackageGroupNames: { readonly [modelName: string]: string };
}

/** How a release workflow checks one model in a target environment after releasing it. */
export interface EnvironmentReleaseTargetModel {
  /** The endpoint of the model's serving slot in the target environment. */
  readonly endpointName: string;
  /**
   * Alarms of that slot that must not be in ALARM at the end of the soak time.
   *
   * @default - none
   */
  readonly alarmNames?: string[];
  /**
   * Whether the online gate's trials of the model (its challenger as the shadow) release here:
   * false for an environment whose slot has no shadow variant, or whose releases wait for a person.
   *
   * @default true
   */
  readonly onlineTrials?: boolean;
}

/** One environment this environment's approved versions are released to, in promotion order. */
export interface EnvironmentReleaseTarget {
  /** The target environment's name (its EnvironmentStage's `environmentName`). */
  readonly environmentName: string;
  /**
   * The target's account: its release role and serving stack are there.
   *
   * @default - this environment's account
   */
  readonly account?: string;
  /**
   * The target's region.
   *
   * @default - this environment's region
   */
  readonly region?: string;
  /**
   * The name of the target's serving stack.
   *
   * @default `<environmentName>-Serving`, the serving stack of an EnvironmentStage whose id is the
   * environment's name
   */
  readonly servingStackName?: string;
  /**
   * Wait for a person to approve each release to this environment (a task token on this
   * environment's alarm topic).
   *
   * @default false
   */
  readonly manualApproval?: boolean;
  /** The models released to this environment, by name, with their health checks there. */
  readonly models: { readonly [modelName: string]: EnvironmentReleaseTargetModel };
}

/** The release automation of an environment whose registry approvals are released elsewhere (level 3). */
export interface EnvironmentReleaseAutomation {
  /** The environments to release to, in promotion order. At least one. */
  readonly targets: EnvironmentReleaseTarget[];
  /**
   * How long a released environment serves before its health gate.
   *
   * @default Duration.minutes(10)
   */
  readonly soakTime?: Duration;
  /**
   * How long a manual approval may wait.
   *
   * @default Duration.days(3)
   */
  readonly approvalTimeout?: Duration;
  /**
   * Per model, one request the released model must answer in every target.
   *
   * @default - no smoke invocation
   */
  readonly smokeTests?: {
    readonly [modelName: string]: { readonly contentType: string; readonly body: string };
  };
}

/**
 * Makes `models` releasable by `source`'s workflows: a serving-only CloudFormation role for the
 * serving stack and a release role trusted only by the source's orchestrator (docs/adr/0006), and
 * read access for the model roles to the source's packages and their artifacts.
 */
export function acceptReleases(
  scope: Construct,
  source: EnvironmentReleaseSource,
  options: {
    readonly environmentName: string;
    readonly models: PlatformModel[];
    readonly artifactStore: ArtifactStore;
    readonly servingStack: Stack;
  },
): ReleaseRole {
  const stack = Stack.of(scope);
  const sourceAccount = source.account ?? stack.account;
  const sourceRegion = source.region ?? stack.region;
  const released = options.models.filter((m) => source.modelPackageGroupNames[m.modelName] !== undefined);
  const registries = released.map((model) =>
    ModelRegistry.fromModelPackageGroupAttributes(scope, `SourceRegistry-${model.modelName}`, {
      modelPackageGroupName: source.modelPackageGroupNames[model.modelName],
      account: source.account,
      region: source.region,
    }),
  );
  const endpointNames = options.models.map((m) => m.servingSlot.endpointName);

  const servingDeploy = new ServingDeployRole(scope, 'ServingDeployRole', {
    environmentName: options.environmentName,
    endpointNames,
    modelRoles: options.models.map((m) => m.servingSlot.role),
    dataCaptureKey: options.artifactStore.encryptionKey,
  });
  // The serving stack reads the model roles' ARNs and the alarm topic from this stack's outputs
  // (Fn::GetStackOutput), with the role it is deployed with.
  const outputs = new iam.PolicyStatement({
    sid: 'ReadThePlatformStackOutputs',
    actions: ['cloudformation:DescribeStacks'],
    resources: [
      stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` }),
    ],
  });
  servingDeploy.role.addToPrincipalPolicy(outputs);
  acknowledgeWildcards(
    servingDeploy.role,
    [outputs],
    "A stack's ARN ends in an id CloudFormation assigns; the wildcard covers that id of this one stack only.",
  );

  const releaseRole = new ReleaseRole(scope, 'ReleaseRole', {
    environmentName: options.environmentName,
    sourceAccount,
    sourceEnvironmentName: source.environmentName,
    servingDeployRole: servingDeploy.role,
    servingStackName: options.servingStack.stackName,
    modelRegistries: registries,
    endpointNames,
  });

  released.forEach((model, index) => {
    const role = model.servingSlot.role;
    // Creating a model from a package of the source's group: CloudFormation (through the serving
    // role) and SageMaker (as the model role) read the package.
    registries[index].grantRead(servingDeploy.role);
    registries[index].grantRead(role);
    const folder = model.artifactFolder;
    const reads = [
      new iam.PolicyStatement({
        sid: 'ReadTheSourceModelArtifacts',
        actions: ['s3:GetObject'],
        // The source's bucket is named by CloudFormation in another stage (and maybe account), so
        // it cannot be named here: any bucket of the source account, only under the model's folder.
        resources: [`arn:${stack.partition}:s3:::*/${ArtifactStorePrefix.MODELS}${folder}/*`],
        conditions: { StringEquals: { 's3:ResourceAccount': sourceAccount } },
      }),
      new iam.PolicyStatement({
        sid: 'DecryptTheSourceModelArtifacts',
        actions: ['kms:Decrypt'],
        resources: [`arn:${stack.partition}:kms:${sourceRegion}:${sourceAccount}:key/*`],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${sourceRegion}.amazonaws.com` } },
      }),
    ];
    reads.forEach((s) => role.addToPrincipalPolicy(s));
    acknowledgeWildcards(
      role,
      reads,
      "The source environment's bucket and key are created in another stage, so their names are unknown here: " +
        "reads are limited to the source account's buckets under this model's folder, and decryption to its " +
        'keys used through S3.',
    );
  });
  MaturityContract.provide(releaseRole, Capability.RELEASE_ON_APPROVAL, Capability.STAGED_PROMOTION);
  return releaseRole;
}

/**
 * One release workflow per model of `models` that some target runs: each approval in the model's
 * registry is released to those targets in order, through their release roles.
 */
export function automateReleases(
  scope: Construct,
  automation: EnvironmentReleaseAutomation,
  options: {
    readonly environmentName: string;
    readonly models: PlatformModel[];
    readonly artifactStore: ArtifactStore;
    readonly notificationTopic: sns.ITopic;
    readonly removalPolicy: RemovalPolicy;
  },
): ReleaseWorkflow[] {
  const stack = Stack.of(scope);
  const otherAccounts = [
    ...new Set(
      automation.targets
        .map((t) => t.account)
        .filter((a): a is string => a !== undefined && !Token.isUnresolved(a) && a !== stack.account),
    ),
  ];
  return options.models
    .filter((model) => automation.targets.some((t) => t.models[model.modelName]))
    .map((model) => {
      const targets = automation.targets.filter((t) => t.models[model.modelName]);
      grantArtifactsToAccounts(
        options.artifactStore,
        model,
        otherAccounts.filter((a) => targets.some((t) => t.account === a)),
      );
      const workflowScope = new Construct(scope, `Release-${model.modelName}`);
      const workflow = new ReleaseWorkflow(workflowScope, 'Workflow', {
        modelName: model.modelName,
        modelRegistry: model.modelRegistry,
        sourceEnvironmentName: options.environmentName,
        notificationTopic: options.notificationTopic,
        soakTime: automation.soakTime,
        approvalTimeout: automation.approvalTimeout,
        removalPolicy: options.removalPolicy,
        targets: targets.map((target): ReleaseWorkflowTarget => {
          const account = target.account ?? stack.account;
          const env = target.environmentName;
          const check = target.models[model.modelName];
          const smokeTest = automation.smokeTests?.[model.modelName];
          return {
            environmentName: env,
            stackName: target.servingStackName ?? `${env}-${SERVING_STACK_ID}`,
            pointer: ReleasePointer.fromParameterName(
              workflowScope,
              `Pointer-${env}`,
              releasePointerParameterName(env, model.modelName),
            ),
            account: target.account,
            region: target.region,
            manualApproval: target.manualApproval,
            cloudFormationRoleArn: `arn:${stack.partition}:iam::${account}:role/${ServingDeployRole.roleNameFor(env)}`,
            releaseRole: iam.Role.fromRoleArn(
              workflowScope,
              `ReleaseRole-${env}`,
              `arn:${stack.partition}:iam::${account}:role/${ReleaseRole.roleNameFor(env)}`,
              { mutable: false },
            ),
            ...(check.onlineTrials === false ? { onlineTrials: false } : {}),
            healthCheck: {
              endpointName: check.endpointName,
              alarmNames: check.alarmNames,
              smokeTest,
            },
          };
        }),
      });
      const order = targets.map((t) => t.environmentName).join(', then ');
      new CfnOutput(workflowScope, 'StateMachineArn', {
        description: `Model ${model.modelName}: the release workflow to ${order}; start one by hand with aws stepfunctions start-execution --input '{"modelPackageArn": "<ARN>"}'`,
        value: workflow.stateMachine.stateMachineArn,
      });
      new CfnOutput(workflowScope, 'ApprovalRuleName', {
        description: `Model ${model.modelName}: pause its release automation with aws events disable-rule --name <this>`,
        value: workflow.approvalRule.ruleName,
      });
      return workflow;
    });
}

/** Lets the target accounts read the model's artifacts and drift baselines in this environment's store. */
function grantArtifactsToAccounts(store: ArtifactStore, model: PlatformModel, accounts: string[]): void {
  if (accounts.length === 0) {
    return;
  }
  const principals = accounts.map((a) => new iam.AccountPrincipal(a));
  store.bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `ReleaseTargetsRead${model.node.id.replace(/[^A-Za-z0-9]/g, '')}Artifacts`,
      principals,
      actions: ['s3:GetObject'],
      resources: [
        store.bucket.arnForObjects(`${ArtifactStorePrefix.MODELS}${model.artifactFolder}/*`),
        // The drift baselines of the packages, which the targets' model monitoring reads.
        store.bucket.arnForObjects(
          `${ArtifactStorePrefix.PIPELINES}${model.artifactFolder}/*/preprocess/baseline/baseline.json`,
        ),
      ],
    }),
  );
  store.encryptionKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `ReleaseTargetsDecrypt${model.node.id.replace(/[^A-Za-z0-9]/g, '')}Artifacts`,
      principals,
      actions: ['kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(store).region}.amazonaws.com` } },
    }),
  );
}
