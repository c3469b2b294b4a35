import { RemovalPolicy, Stage, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { createEncryptedTopic } from '../private/encrypted-topic';
import { ProblemCollector } from '../private/errors';
import { CONNECTION_ARN, REPOSITORY } from '../private/patterns';
import { acknowledgeGeneratedPolicyWildcards, acknowledgeNagFindings } from '../private/nag-acknowledgements';

/** Where the pipeline gets the repository from. */
export class DeliverySource {
  /**
   * A repository on GitHub, GitLab or Bitbucket through an AWS CodeConnections connection.
   *
   * @param repository `owner/name`
   * @param connectionArn the connection's ARN (codeconnections or codestar-connections)
   * @param branch the branch to release; default `main`
   */
  public static connection(
    repository: string,
    connectionArn: string,
    branch: string = 'main',
  ): DeliverySource {
    return new DeliverySource({ kind: 'connection', repository, connectionArn, branch });
  }

  /**
   * A zip of the repository uploaded to an S3 bucket; every new version of the object releases.
   *
   * @param bucket the versioned source bucket
   * @param objectKey default `source.zip`
   */
  public static s3(bucket: s3.IBucket, objectKey: string = 'source.zip'): DeliverySource {
    return new DeliverySource({ kind: 's3', bucket, objectKey });
  }

  private constructor(
    /** @internal */
    public readonly _config:
      | { kind: 'connection'; repository: string; connectionArn: string; branch: string }
      | { kind: 's3'; bucket: s3.IBucket; objectKey: string },
  ) {}
}

/** One environment the pipeline deploys, in order. */
export interface DeliveryEnvironment {
  /** The environment's stage. */
  readonly stage: Stage;
  /**
   * Whether a person approves before this environment deploys.
   *
   * @default false
   */
  readonly manualApproval?: boolean;
}

/** Props of a DeliveryPipeline. */
export interface DeliveryPipelineProps {
  /** The repository to release. */
  readonly source: DeliverySource;
  /** The environments to deploy, in promotion order (e.g. dev, staging, prod). */
  readonly environments: DeliveryEnvironment[];
  /**
   * Commands that install, test and synthesize; the last must leave the cloud assembly in `cdk.out`.
   * Any failing command stops the release.
   *
   * @default ['npm ci', 'npm test', 'npx cdk synth']
   */
  readonly synthCommands?: string[];
  /**
   * The topic that pipeline failures and pending approvals notify.
   *
   * @default - a new topic encrypted with a new rotating key, TLS-only
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * What happens to the created keys when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The release command the build runs: the README's install, test and synth steps. */
export const DEFAULT_SYNTH_COMMANDS = ['npm ci', 'npm test', 'npx cdk synth'];

/**
 * The platform's delivery pipeline (maturity level 1, capabilities `ci-cd` and `automated-tests`):
 * CDK Pipelines on CodePipeline V2 that installs, runs every test (unit, snapshot, cdk-nag,
 * cfn-lint), synthesizes, updates itself, and deploys the environments in order, with manual
 * approvals where asked. Artifacts are KMS-encrypted (which also allows cross-account deploys);
 * failures and pending approvals notify an encrypted SNS topic through EventBridge.
 *
 * Registers `ci-cd` and `automated-tests` on each deployed environment's maturity contract.
 * Create it after everything else in the environments' stages: CDK Pipelines synthesizes each
 * stage when it is added, so later changes to a stage would not reach the pipeline.
 */
export class DeliveryPipeline extends Construct {
  public readonly pipeline: pipelines.CodePipeline;
  public readonly notificationTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: DeliveryPipelineProps) {
    super(scope, id);
    validateProps(this, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      // A KMS key for the artifact bucket: encrypted artifacts, and deploys into other accounts.
      crossAccountKeys: true,
      enableKeyRotation: true,
      selfMutation: true,
      synth: new pipelines.ShellStep('Synth', {
        input: this.sourceInput(props.source),
        commands: props.synthCommands ?? DEFAULT_SYNTH_COMMANDS,
      }),
      codeBuildDefaults: {
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
        // The test command needs Node 20+ and python3 (cfn-lint runs in a project-local virtualenv).
        partialBuildSpec: codebuild.BuildSpec.fromObject({
          phases: { install: { 'runtime-versions': { nodejs: '20', python: '3.12' } } },
        }),
      },
    });

    for (const env of props.environments) {
      // Before addStage: CDK Pipelines synthesizes the stage there, which runs its contract check.
      const contract = MaturityContract.of(env.stage);
      contract?.shareCapability(Capability.CI_CD, 'delivery-pipeline');
      contract?.shareCapability(Capability.AUTOMATED_TESTS, 'delivery-pipeline');
      this.pipeline.addStage(env.stage, {
        pre: env.manualApproval ? [new pipelines.ManualApprovalStep(`Approve-${env.stage.stageName}`)] : [],
      });
    }
    // Built now, not at synth, so its generated roles exist for the notifications and acknowledgements.
    this.pipeline.buildPipeline();

    this.notificationTopic =
      props.notificationTopic ??
      createEncryptedTopic(this, 'NotificationTopic', {
        description: `Encrypts the notifications of the delivery pipeline ${this.node.path}`,
        publishers: ['events.amazonaws.com'],
        removalPolicy,
      });
    this.notify();

    acknowledgeGeneratedPolicyWildcards(
      this.pipeline,
      'Generated by aws-cdk-lib CDK Pipelines: the wildcards are limited to this pipeline artifact bucket and key, ' +
        'its own CodeBuild log and report groups, and, for self-mutation and asset publishing, the CDK bootstrap ' +
        'roles, which CDK selects by their aws-cdk:bootstrap-role tag.',
    );
    acknowledgeNagFindings(this.pipeline.pipeline.artifactBucket, {
      id: 'AwsSolutions-S1',
      reason:
        'The pipeline artifact bucket holds short-lived, KMS-encrypted build artifacts read only by the ' +
        'pipeline roles; CodePipeline and CloudTrail record every access to them.',
    });
  }

  private sourceInput(source: DeliverySource): pipelines.IFileSetProducer {
    const config = source._config;
    if (config.kind === 'connection') {
      return pipelines.CodePipelineSource.connection(config.repository, config.branch, {
        connectionArn: config.connectionArn,
      });
    }
    return pipelines.CodePipelineSource.s3(config.bucket, config.objectKey);
  }

  private notify(): void {
    const pipeline = this.pipeline.pipeline;
    const target = (text: string) =>
      new targets.SnsTopic(this.notificationTopic, {
        message: events.RuleTargetInput.fromText(
          `${text}: pipeline ${events.EventField.fromPath('$.detail.pipeline')}, ` +
            `execution ${events.EventField.fromPath('$.detail.execution-id')}`,
        ),
      });
    pipeline.onStateChange('Failed', {
      description: 'Notifies when a release fails',
      eventPattern: { detail: { state: ['FAILED'] } },
      target: target('Release failed'),
    });
    new events.Rule(this, 'WaitingForApproval', {
      description: 'Notifies when a release waits for a manual approval',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Action Execution State Change'],
        detail: { pipeline: [pipeline.pipelineName], type: { category: ['Approval'] }, state: ['STARTED'] },
      },
      targets: [target('Release waits for approval')],
    });
  }
}

function validateProps(scope: Construct, props: DeliveryPipelineProps): void {
  const problems = new ProblemCollector(`DeliveryPipeline '${scope.node.path}'`);
  const config = props.source._config;
  if (config.kind === 'connection') {
    if (!Token.isUnresolved(config.repository) && !REPOSITORY.test(config.repository)) {
      problems.add(
        'source repository',
        config.repository,
        'use "owner/name" as on the hosting service, e.g. "octo-org/ml-platform"',
      );
    }
    if (!Token.isUnresolved(config.connectionArn) && !CONNECTION_ARN.test(config.connectionArn)) {
      problems.add(
        'source connectionArn',
        config.connectionArn,
        'use the ARN of an AWS CodeConnections connection, arn:aws:codeconnections:<region>:<account>:connection/<id>',
      );
    }
  }
  if (props.environments.length === 0) {
    problems.add('environments', [], 'name at least one environment stage to deploy');
  }
  const names = props.environments.map((e) => e.stage.stageName);
  const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
  if (duplicates.length > 0) {
    problems.add('environments', duplicates, 'each environment may be deployed once; remove the duplicates');
  }
  if (props.synthCommands !== undefined && props.synthCommands.length === 0) {
    problems.add(
      'synthCommands',
      [],
      'give the install, test and synth commands, or leave synthCommands out',
    );
  }
  problems.throwIfAny();
}
