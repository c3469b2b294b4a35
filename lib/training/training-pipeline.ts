import { createHash } from 'crypto';
import { ArnFormat, Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { ARTIFACT_FOLDER } from '../private/patterns';
import { SAGEMAKER_LONG_NAME } from '../private/sagemaker-names';
import {
  acknowledgeGeneratedPolicyWildcards,
  acknowledgeNagFindings,
  acknowledgeWildcards,
} from '../private/nag-acknowledgements';
import { IModelRegistry } from '../registry/model-registry';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';
import { MAX_DEFINITION_BYTES, PipelineDefinition } from './pipeline-definition';

/** The id prefix aws-cdk-lib gives the singleton provider function of BucketDeployment in a stack. */
const BUCKET_DEPLOYMENT_HANDLER_PREFIX = 'Custom::CDKBucketDeployment';

/** Props of a TrainingPipeline. */
export interface TrainingPipelineProps {
  /** Builds the definition; it receives the execution role that its jobs run as. */
  readonly definition: (context: { readonly role: iam.IRole }) => PipelineDefinition;
  /** The artifact store: the pipeline reads `data/` and writes `pipelines/`, `models/` and `reports/`. */
  readonly artifactStore: IArtifactStore;
  /**
   * The model registry the pipeline registers versions in.
   *
   * @default - no registry access
   */
  readonly modelRegistry?: IModelRegistry;
  /**
   * Run on a schedule, with the definition's default parameters.
   *
   * @default - no schedule
   */
  readonly schedule?: events.Schedule;
  /**
   * Run when new objects arrive under the artifact store's `data/` prefix. Turns on S3's
   * EventBridge notifications for a store created in the same app.
   *
   * @default false
   */
  readonly triggerOnNewData?: boolean;
  /**
   * Store the definition in the artifact store (under `pipelines/definitions/`) and point the
   * pipeline at it, instead of inline in the template. Each version gets its own object key (a hash
   * of the definition), so CloudFormation updates the pipeline whenever the definition changes.
   *
   * @default - only when the definition is larger than SageMaker's 1 MB inline limit
   */
  readonly storeDefinitionInS3?: boolean;
  /**
   * A folder of the store's `pipelines/`, `models/` and `reports/` prefixes: the jobs may write only
   * under it, e.g. the model's name when several models share one store. One path segment of
   * letters, digits, dots, hyphens and underscores.
   *
   * @default - the whole prefixes
   */
  readonly artifactFolder?: string;
  /**
   * The pipeline's name (required by SageMaker; changing it replaces the pipeline).
   *
   * @default - derived from the construct path, stable across deployments
   */
  readonly pipelineName?: string;
}

/**
 * The platform's training pipeline (maturity level 2, capability `training-pipeline`): a SageMaker
 * pipeline from a validated `PipelineDefinition`, run by a least-privilege role, optionally on a
 * schedule and on new data.
 */
export class TrainingPipeline extends Construct {
  public readonly role: iam.Role;
  public readonly pipeline: sagemaker.CfnPipeline;
  public readonly definition: PipelineDefinition;
  /** @attribute */
  public readonly pipelineName: string;
  /** @attribute */
  public readonly pipelineArn: string;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const problems = new ProblemCollector(`TrainingPipeline '${this.node.path}'`);
    problems.checkPattern(
      'pipelineName',
      props.pipelineName,
      SAGEMAKER_LONG_NAME,
      'use letters, digits and hyphens, starting with a letter or digit',
    );
    problems.checkPattern(
      'artifactFolder',
      props.artifactFolder,
      ARTIFACT_FOLDER,
      "use one folder name of letters, digits, '.', '-' and '_', without slashes, e.g. the model's name",
    );
    if (props.triggerOnNewData && !(props.artifactStore.bucket.node.defaultChild instanceof s3.CfnBucket)) {
      problems.add(
        'triggerOnNewData',
        true,
        'it needs S3 EventBridge notifications on the bucket, which only a store created in this app can turn on; ' +
          'enable them on the imported bucket and use a schedule or your own rule instead',
      );
    }
    problems.throwIfAny();

    const stack = Stack.of(this);
    this.pipelineName =
      props.pipelineName ??
      Names.uniqueResourceName(this, { maxLength: 80, separator: '-', allowedSpecialCharacters: '-' });
    this.pipelineArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'pipeline',
      resourceName: this.pipelineName.toLowerCase(),
    });

    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs the jobs of the SageMaker pipeline ${this.pipelineName}`,
    });
    this.grantJobPermissions(props);

    this.definition = props.definition({ role: this.role });
    const inS3 = props.storeDefinitionInS3 ?? this.definition.byteSize() > MAX_DEFINITION_BYTES;
    const location = inS3 ? this.storeDefinition(props.artifactStore) : undefined;
    this.pipeline = new sagemaker.CfnPipeline(this, 'Resource', {
      pipelineName: this.pipelineName,
      roleArn: this.role.roleArn,
      pipelineDefinition: location
        ? {
            PipelineDefinitionS3Location: { Bucket: props.artifactStore.bucketName, ObjectKey: location.key },
          }
        : { PipelineDefinitionBody: this.definition.toJsonString(this) },
    });
    if (location) {
      this.pipeline.node.addDependency(location.deployment);
    }
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      this.pipeline.node.addDependency(policy);
    }

    if (props.schedule) {
      this.startOn('Schedule', {
        schedule: props.schedule,
        description: `Runs ${this.pipelineName} on a schedule`,
      });
    }
    if (props.triggerOnNewData) {
      const cfnBucket = props.artifactStore.bucket.node.defaultChild as s3.CfnBucket;
      cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
      this.startOn('NewData', {
        description: `Runs ${this.pipelineName} when new data arrives under ${ArtifactStorePrefix.DATA.prefix}`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [props.artifactStore.bucketName] },
            object: { key: [{ prefix: ArtifactStorePrefix.DATA.prefix }] },
          },
        },
      });
    }
  }

  /**
   * Uploads the definition, with its CDK tokens resolved at deploy time, to a key named after its
   * content. aws-cdk-lib's BucketDeployment does the upload: a template cannot hold a file with
   * deploy-time values, and BucketDeployment substitutes them (Source.jsonData).
   */
  private storeDefinition(store: IArtifactStore): { key: string; deployment: s3deploy.BucketDeployment } {
    const stack = Stack.of(this);
    const body = this.definition.render();
    const hash = createHash('sha256')
      .update(JSON.stringify(stack.resolve(body)))
      .digest('hex')
      .slice(0, 16);
    const key = `${ArtifactStorePrefix.PIPELINES.prefix}definitions/${this.pipelineName}-${hash}.json`;
    const deployment = new s3deploy.BucketDeployment(this, 'Definition', {
      destinationBucket: store.bucket,
      sources: [s3deploy.Source.jsonData(key, body)],
      // Keep earlier versions: a pipeline update that rolls back points at the previous key again.
      prune: false,
      retainOnDelete: true,
    });
    // The provider function is a stack-wide singleton that aws-cdk-lib creates next to the stack's root.
    const handler = stack.node.children.find((c) => c.node.id.startsWith(BUCKET_DEPLOYMENT_HANDLER_PREFIX));
    if (handler) {
      const reason =
        "aws-cdk-lib's BucketDeployment provider function, which only copies the pipeline definition into the " +
        'artifact store at deploy time: ';
      acknowledgeNagFindings(
        handler,
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: reason + 'the AWS managed basic execution policy only lets it write its own logs.',
        },
        {
          id: 'AwsSolutions-L1',
          reason: reason + 'aws-cdk-lib pins its runtime together with the handler code it ships.',
        },
      );
      acknowledgeGeneratedPolicyWildcards(
        handler,
        reason +
          "aws-cdk-lib grants it CDK's standard read on the assets bucket and read-write on the store.",
      );
    }
    return { key, deployment };
  }

  /** Grants starting executions of this pipeline. */
  public grantStart(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:StartPipelineExecution'],
      resourceArns: [this.pipelineArn],
    });
  }

  /**
   * A rule that starts the pipeline. aws-events-targets has no SageMaker pipeline target, so the
   * target is written on the L1 rule with SageMakerPipelineParameters.
   */
  private startOn(id: string, props: events.RuleProps): events.Rule {
    const rule = new events.Rule(this, id, props);
    const invoke = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `Lets EventBridge start the pipeline ${this.pipelineName}`,
    });
    this.grantStart(invoke);
    (rule.node.defaultChild as events.CfnRule).targets = [
      { id: 'Pipeline', arn: this.pipelineArn, roleArn: invoke.roleArn, sageMakerPipelineParameters: {} },
    ];
    return rule;
  }

  private grantJobPermissions(props: TrainingPipelineProps): void {
    const store = props.artifactStore;
    store.grantRead(this.role, ArtifactStorePrefix.DATA.keyPattern);
    for (const prefix of [
      ArtifactStorePrefix.PIPELINES,
      ArtifactStorePrefix.MODELS,
      ArtifactStorePrefix.REPORTS,
    ]) {
      store.grantReadWrite(
        this.role,
        props.artifactFolder ? `${prefix}${props.artifactFolder}/*` : prefix.keyPattern,
      );
    }
    props.modelRegistry?.grantRegister(this.role);

    const stack = Stack.of(this);
    // SageMaker names a pipeline's jobs "pipelines-<execution>-<step>-<hash>".
    const jobs = [
      'processing-job',
      'training-job',
      'hyper-parameter-tuning-job',
      'transform-job',
      'model',
    ].map((r) => stack.formatArn({ service: 'sagemaker', resource: r, resourceName: 'pipelines-*' }));
    const statements = [
      new iam.PolicyStatement({
        sid: 'RunThisPipelinesJobs',
        actions: [
          'sagemaker:CreateProcessingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopProcessingJob',
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:CreateHyperParameterTuningJob',
          'sagemaker:DescribeHyperParameterTuningJob',
          'sagemaker:StopHyperParameterTuningJob',
          'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
          'sagemaker:CreateModel',
          'sagemaker:DescribeModel',
          'sagemaker:AddTags',
        ],
        resources: jobs,
      }),
      new iam.PolicyStatement({
        sid: 'JobLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ];
    statements.forEach((s) => this.role.addToPolicy(s));
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PassSelfToJobs',
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    acknowledgeWildcards(
      this.role,
      statements,
      'SageMaker names pipeline jobs at run time (pipelines-<execution>-<step>-<hash>) and logs under /aws/sagemaker/; ' +
        'the grants are limited to those names in this account and region.',
    );
  }
}
