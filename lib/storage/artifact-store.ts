import { Duration, IResource, RemovalPolicy, Resource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { acknowledgeGrantWildcards, acknowledgeWildcards } from '../private/nag-acknowledgements';

/**
 * The documented top-level prefixes of an artifact store. Every tier reads and writes under these,
 * so grants and triggers can be scoped to one of them.
 */
export class ArtifactStorePrefix {
  /** Raw and prepared training data; new objects here may trigger training. */
  public static readonly DATA = new ArtifactStorePrefix('data/');
  /** Model artifacts written by training jobs. */
  public static readonly MODELS = new ArtifactStorePrefix('models/');
  /** Pipeline definitions and step outputs. */
  public static readonly PIPELINES = new ArtifactStorePrefix('pipelines/');
  /** Endpoint data capture (JSON Lines). */
  public static readonly CAPTURE = new ArtifactStorePrefix('capture/');
  /** Evaluation, baseline and monitoring reports. */
  public static readonly REPORTS = new ArtifactStorePrefix('reports/');
  /** Experiment tracking (MLflow) artifacts. */
  public static readonly EXPERIMENTS = new ArtifactStorePrefix('experiments/');

  /** Every documented prefix. */
  public static all(): ArtifactStorePrefix[] {
    return [this.DATA, this.MODELS, this.PIPELINES, this.CAPTURE, this.REPORTS, this.EXPERIMENTS];
  }

  private constructor(
    /** The key prefix, ending in a slash. */
    public readonly prefix: string,
  ) {}

  /** The key pattern matching every object under this prefix, for grants. */
  public get keyPattern(): string {
    return `${this.prefix}*`;
  }

  public toString(): string {
    return this.prefix;
  }
}

/** An artifact store, created here or imported. */
export interface IArtifactStore extends IResource {
  /** The bucket holding the artifacts. */
  readonly bucket: s3.IBucket;
  /** The key encrypting the bucket, when it uses a customer-managed key. */
  readonly encryptionKey?: kms.IKey;
  /** @attribute */
  readonly bucketName: string;
  /** @attribute */
  readonly bucketArn: string;

  /** Grants reading objects (and decrypting them) under `objectsKeyPattern`. */
  grantRead(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;
  /** Grants writing objects (and encrypting them) under `objectsKeyPattern`. */
  grantWrite(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;
  /** Grants reading and writing objects under `objectsKeyPattern`, with the key permissions. */
  grantReadWrite(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;
  /** `s3://bucket/prefix[key]`. */
  s3UrlFor(prefix: ArtifactStorePrefix | string, key?: string): string;
  /** The ARN of the objects matching `prefix` followed by `pattern`. */
  arnForObjects(prefix: ArtifactStorePrefix | string, pattern?: string): string;
}

/** Attributes of an existing artifact store. */
export interface ArtifactStoreAttributes {
  /** The existing bucket. */
  readonly bucket: s3.IBucket;
  /**
   * The key that encrypts the bucket, so that grants include it.
   *
   * @default - the bucket's own key, if it has one
   */
  readonly encryptionKey?: kms.IKey;
}

/** Props of an ArtifactStore. */
export interface ArtifactStoreProps {
  /**
   * The key that encrypts the bucket.
   *
   * @default - a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the buckets and the created key when they leave the stack.
   * Only RETAIN and DESTROY apply to buckets.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Empty the buckets when the stack deletes them. Requires `removalPolicy: RemovalPolicy.DESTROY`,
   * and deploys a custom resource that deletes every object version.
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;

  /**
   * How long a noncurrent object version is kept before it expires.
   *
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * How long an incomplete multipart upload may linger before it is aborted.
   *
   * @default Duration.days(7)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;

  /**
   * The bucket that receives the server access logs.
   *
   * @default - a new bucket with S3-managed encryption, TLS-only, expiring logs after `accessLogsRetention`
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * How long server access logs are kept in the created log bucket. Not allowed with
   * `serverAccessLogsBucket`, whose lifecycle this construct does not manage.
   *
   * @default Duration.days(365)
   */
  readonly accessLogsRetention?: Duration;
}

abstract class ArtifactStoreBase extends Resource implements IArtifactStore {
  public abstract readonly bucket: s3.IBucket;
  public abstract readonly encryptionKey?: kms.IKey;

  public get bucketName(): string {
    return this.bucket.bucketName;
  }

  public get bucketArn(): string {
    return this.bucket.bucketArn;
  }

  // The bucket's grants include the KMS permissions whenever the bucket knows its key, which both
  // the created store and `fromArtifactStoreAttributes` ensure.
  public grantRead(grantee: iam.IGrantable, objectsKeyPattern: string = '*'): iam.Grant {
    return acknowledged(this, grantee, this.bucket.grantRead(grantee, objectsKeyPattern));
  }

  public grantWrite(grantee: iam.IGrantable, objectsKeyPattern: string = '*'): iam.Grant {
    return acknowledged(this, grantee, this.bucket.grantWrite(grantee, objectsKeyPattern));
  }

  public grantReadWrite(grantee: iam.IGrantable, objectsKeyPattern: string = '*'): iam.Grant {
    return acknowledged(this, grantee, this.bucket.grantReadWrite(grantee, objectsKeyPattern));
  }

  public s3UrlFor(prefix: ArtifactStorePrefix | string, key: string = ''): string {
    return this.bucket.s3UrlForObject(`${prefix}${key}`);
  }

  public arnForObjects(prefix: ArtifactStorePrefix | string, pattern: string = '*'): string {
    return this.bucket.arnForObjects(`${prefix}${pattern}`);
  }
}

/**
 * The platform's artifact store (maturity level 0): an encrypted, versioned S3 bucket for data,
 * models, pipeline outputs, endpoint capture and reports.
 *
 * The bucket is KMS-encrypted (bucket keys on), versioned, private, TLS-only, logs server access to
 * a separate bucket, and expires noncurrent versions and incomplete uploads. It is retained when
 * removed from the stack unless `removalPolicy` is DESTROY.
 */
export class ArtifactStore extends ArtifactStoreBase {
  /** Imports a store by bucket name. Its grants carry no KMS permissions: use the attributes importer for a KMS-encrypted bucket. */
  public static fromBucketName(scope: Construct, id: string, bucketName: string): IArtifactStore {
    return ArtifactStore.fromArtifactStoreAttributes(scope, id, {
      bucket: s3.Bucket.fromBucketName(scope, `${id}Bucket`, bucketName),
    });
  }

  /** Imports an existing store; pass its key so that grants include the KMS permissions. */
  public static fromArtifactStoreAttributes(
    scope: Construct,
    id: string,
    attrs: ArtifactStoreAttributes,
  ): IArtifactStore {
    const key = attrs.encryptionKey ?? attrs.bucket.encryptionKey;
    // Re-import when a key is given: an imported IBucket's grants only include the key it was built with.
    const bucket =
      attrs.encryptionKey && attrs.bucket.encryptionKey !== attrs.encryptionKey
        ? s3.Bucket.fromBucketAttributes(scope, `${id}Bucket`, {
            bucketArn: attrs.bucket.bucketArn,
            bucketName: attrs.bucket.bucketName,
            encryptionKey: attrs.encryptionKey,
          })
        : attrs.bucket;
    class Import extends ArtifactStoreBase {
      public readonly bucket = bucket;
      public readonly encryptionKey = key;
    }
    return new Import(scope, id);
  }

  public readonly bucket: s3.IBucket;
  public readonly encryptionKey: kms.IKey;
  /** The bucket receiving server access logs. */
  public readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    validateProps(this, props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const autoDeleteObjects = props.autoDeleteObjects ?? false;

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `Encrypts the MLOps artifact store ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy,
      });

    this.accessLogsBucket = props.serverAccessLogsBucket ?? this.createAccessLogsBucket(props, removalPolicy);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifact-store/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(90),
        },
        {
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: props.abortIncompleteMultipartUploadAfter ?? Duration.days(7),
        },
      ],
      removalPolicy,
      autoDeleteObjects,
    });

    if (autoDeleteObjects) {
      acknowledgeAutoDeleteProvider(this);
    }
  }

  /**
   * The size of the bucket's Standard storage, from S3's free daily storage metrics.
   *
   * @default - average over 1 day
   */
  public metricBucketSizeBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storageMetric('BucketSizeBytes', 'StandardStorage', props);
  }

  /**
   * The number of objects (all versions, all storage classes), from S3's free daily storage metrics.
   *
   * @default - average over 1 day
   */
  public metricNumberOfObjects(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storageMetric('NumberOfObjects', 'AllStorageTypes', props);
  }

  private storageMetric(
    metricName: string,
    storageType: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName,
      dimensionsMap: { BucketName: this.bucket.bucketName, StorageType: storageType },
      // S3 publishes storage metrics once a day; a shorter period would show gaps.
      period: Duration.days(1),
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
    });
  }

  private createAccessLogsBucket(props: ArtifactStoreProps, removalPolicy: RemovalPolicy): s3.Bucket {
    const logs = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logging cannot deliver to buckets encrypted with SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Object ownership is left to aws-cdk-lib: it follows the app's log-delivery feature flag
      // (bucket policy and owner-enforced, or the legacy ACL that needs ObjectWriter).
      enforceSSL: true,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: props.accessLogsRetention ?? Duration.days(365) },
      ],
      removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects ?? false,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the destination of the artifact store access logs; logging it to itself would ' +
        'loop and logging it elsewhere would only move the question.',
    });
    return logs;
  }
}

/**
 * The grants' wildcards are aws-cdk-lib's action groups (s3:GetObject*, kms:GenerateDataKey*) on
 * objects of this one bucket under the requested key pattern: the narrowest form of the grant.
 */
function acknowledged(store: ArtifactStoreBase, grantee: iam.IGrantable, grant: iam.Grant): iam.Grant {
  const reason =
    'Artifact store grant: the wildcards are the standard S3 and KMS action groups, limited to the ' +
    'objects of this one bucket under the granted key pattern and to its key.';
  acknowledgeGrantWildcards(grantee, grant, reason);
  // The key's part of the grant is added by the bucket through the key's own grant methods, so it
  // is not among the bucket grant's statements: acknowledge aws-cdk-lib's KMS action groups here.
  if (store.encryptionKey) {
    acknowledgeWildcards(
      grantee.grantPrincipal as unknown as Construct,
      [
        new iam.PolicyStatement({
          actions: ['kms:ReEncrypt*', 'kms:GenerateDataKey*'],
          resources: [store.encryptionKey.keyArn],
        }),
      ],
      reason,
    );
  }
  return grant;
}

function validateProps(scope: Construct, props: ArtifactStoreProps): void {
  const problems = new ProblemCollector(`ArtifactStore '${scope.node.path}'`);
  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
    problems.add(
      'removalPolicy',
      removalPolicy,
      'S3 buckets support only RemovalPolicy.RETAIN or RemovalPolicy.DESTROY',
    );
  }
  if (props.autoDeleteObjects && removalPolicy !== RemovalPolicy.DESTROY) {
    problems.add(
      'autoDeleteObjects',
      true,
      `it deletes every object and requires removalPolicy: RemovalPolicy.DESTROY (got ${removalPolicy}); ` +
        'set both, or leave autoDeleteObjects unset',
    );
  }
  checkAtLeastOneDay(problems, 'noncurrentVersionExpiration', props.noncurrentVersionExpiration);
  checkAtLeastOneDay(
    problems,
    'abortIncompleteMultipartUploadAfter',
    props.abortIncompleteMultipartUploadAfter,
  );
  checkAtLeastOneDay(problems, 'accessLogsRetention', props.accessLogsRetention);
  if (props.accessLogsRetention && props.serverAccessLogsBucket) {
    problems.add(
      'accessLogsRetention',
      props.accessLogsRetention.toHumanString(),
      'it applies only to the log bucket the store creates; set the lifecycle on your serverAccessLogsBucket instead',
    );
  }
  problems.throwIfAny();
}

function checkAtLeastOneDay(problems: ProblemCollector, prop: string, value: Duration | undefined): void {
  if (value === undefined || Token.isUnresolved(value.toSeconds())) {
    return;
  }
  // S3 lifecycle rules count whole days.
  if (
    value.toSeconds() < Duration.days(1).toSeconds() ||
    value.toSeconds() % Duration.days(1).toSeconds() !== 0
  ) {
    problems.add(prop, value.toHumanString(), 'use a whole number of days, at least Duration.days(1)');
  }
}

/**
 * Acknowledges the findings on the auto-delete provider that aws-cdk-lib adds once per stack.
 * It is CDK's own singleton Lambda, so its role and runtime are not ours to change.
 */
function acknowledgeAutoDeleteProvider(scope: Construct): void {
  const stack = Stack.of(scope);
  const provider = stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
  if (!provider) {
    return;
  }
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's auto-delete provider only writes its own logs with the basic execution policy; it runs when a " +
      'bucket is deleted and is defined by aws-cdk-lib, not this project.',
  });
}
