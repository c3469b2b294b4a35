import { Duration, IResource, RemovalPolicy, Resource, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { acknowledgeGrantWildcards, acknowledgeNagFindings } from '../private/nag-acknowledgements';

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
  /** Ground-truth labels keyed by inference id (JSON Lines), joined with the capture for model quality. */
  public static readonly GROUND_TRUTH = new ArtifactStorePrefix('ground-truth/');
  /** Evaluation, baseline and monitoring reports. */
  public static readonly REPORTS = new ArtifactStorePrefix('reports/');
  /** Experiment tracking (MLflow) artifacts. */
  public static readonly EXPERIMENTS = new ArtifactStorePrefix('experiments/');

  /** Every documented prefix. */
  public static all(): ArtifactStorePrefix[] {
    return [
      this.DATA,
      this.MODELS,
      this.PIPELINES,
      this.CAPTURE,
      this.GROUND_TRUTH,
      this.REPORTS,
      this.EXPERIMENTS,
    ];
  }

  private constructor(
    /** The key prefix, ending in a slash. */
    public readonly prefix: string,
  ) {}

  /** The key pattern matching every object under this prefix, for grants: e.g. `data/*`. */
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
  /** The key encrypting the bucket, when it uses a customer-managed key that is known here. */
  readonly encryptionKey?: kms.IKey;
  /** The bucket receiving the store's server access logs, when known here. */
  readonly accessLogsBucket?: s3.IBucket;
  /** @attribute */
  readonly bucketName: string;
  /** @attribute */
  readonly bucketArn: string;

  /** Grants reading objects under `objectsKeyPattern`, and decrypting them with the store's key. */
  grantRead(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;
  /** Grants writing and deleting objects under `objectsKeyPattern`, and encrypting with the store's key. */
  grantWrite(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;
  /** Grants reading, writing and deleting objects under `objectsKeyPattern`, with the key permissions. */
  grantReadWrite(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;
  /** `s3://bucket/prefix/key`; `prefix` is a folder (a missing trailing slash is added). */
  s3UrlFor(prefix: ArtifactStorePrefix | string, key?: string): string;
  /** The ARN of the objects matching `pattern` inside the folder `prefix`. */
  arnForObjects(prefix: ArtifactStorePrefix | string, pattern?: string): string;
  /** The size of the bucket's Standard storage, from S3's daily storage metrics. */
  metricBucketSizeBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** The number of objects in the bucket, from S3's daily storage metrics. */
  metricNumberOfObjects(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/**
 * Attributes of an existing artifact store: its bucket as an `IBucket` or by name (exactly one),
 * and its key as an `IKey` or by ARN (at most one).
 */
export interface ArtifactStoreAttributes {
  /**
   * The existing bucket. Exactly one of `bucket` and `bucketName`.
   *
   * @default - the bucket named `bucketName`
   */
  readonly bucket?: s3.IBucket;

  /**
   * The existing bucket's name, e.g. from another app's outputs. Exactly one of `bucket` and
   * `bucketName`.
   *
   * @default - `bucket`
   */
  readonly bucketName?: string;

  /**
   * The key that encrypts the bucket, so that grants include it. At most one of `encryptionKey`
   * and `encryptionKeyArn`.
   *
   * @default - the key `encryptionKeyArn` names; else the bucket's own key, if it has one; otherwise
   * grants carry no KMS permissions
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The ARN of the key that encrypts the bucket (`arn:<partition>:kms:<region>:<account>:key/<id>`,
   * not an alias: IAM grants on a key name the key's ARN). At most one of `encryptionKey` and
   * `encryptionKeyArn`.
   *
   * @default - `encryptionKey`
   */
  readonly encryptionKeyArn?: string;
}

/** A key ARN; an alias ARN would match no KMS request in a grant. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/;
/** S3's general-purpose bucket names: 3-63 lower-case letters, digits, dots and hyphens. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Props of an ArtifactStore. */
export interface ArtifactStoreProps {
  /**
   * The key that encrypts the bucket. A given key is used as is: the store neither rotates it nor
   * applies `removalPolicy` to it.
   *
   * @default - a new customer-managed key with automatic yearly rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * An alias for the key the store creates, e.g. `alias/mlops-artifacts`. Not allowed with
   * `encryptionKey`. An alias is a physical name, unique per account and region.
   *
   * @default - no alias
   */
  readonly encryptionKeyAlias?: string;

  /**
   * What happens to both buckets and the created key when they leave the stack or the stack is
   * deleted. Only RETAIN and DESTROY apply to buckets.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Empty the buckets when the stack deletes them. Requires `removalPolicy: RemovalPolicy.DESTROY`,
   * and deploys aws-cdk-lib's custom resource that deletes every object version.
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;

  /**
   * How long a noncurrent (overwritten or deleted) object version is kept before it expires.
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
   * The bucket that receives the server access logs. It must not use SSE-KMS: S3 server access
   * logging cannot deliver to such buckets.
   *
   * @default - a new bucket with S3-managed encryption, TLS-only, expiring logs after `accessLogsRetention`
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * The key prefix of the server access logs in the log bucket.
   *
   * @default 'artifact-store/'
   */
  readonly serverAccessLogsPrefix?: string;

  /**
   * How long server access logs are kept in the created log bucket. Not allowed with
   * `serverAccessLogsBucket`, whose lifecycle this construct does not manage.
   *
   * @default Duration.days(365)
   */
  readonly accessLogsRetention?: Duration;
}

/**
 * The KMS actions aws-cdk-lib's bucket grants add on the bucket's key, in the same order, so that
 * repeating them through the key yields the identical statement (which IAM rendering deduplicates)
 * and the returned Grant reports them.
 */
const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Decrypt'];
const KEY_READ_WRITE_ACTIONS = [...new Set([...KEY_READ_ACTIONS, ...KEY_WRITE_ACTIONS])];

const GRANT_REASON =
  'Artifact store grant: the wildcards are the standard aws-cdk-lib S3 and KMS action groups, limited ' +
  'to the objects of this one bucket under the granted key pattern and to the store key.';

abstract class ArtifactStoreBase extends Resource implements IArtifactStore {
  public abstract readonly bucket: s3.IBucket;
  public abstract readonly encryptionKey?: kms.IKey;
  public abstract readonly accessLogsBucket?: s3.IBucket;

  public get bucketName(): string {
    return this.bucket.bucketName;
  }

  public get bucketArn(): string {
    return this.bucket.bucketArn;
  }

  public grantRead(grantee: iam.IGrantable, objectsKeyPattern: string = '*'): iam.Grant {
    return this.withKey(grantee, this.bucket.grantRead(grantee, objectsKeyPattern), KEY_READ_ACTIONS);
  }

  public grantWrite(grantee: iam.IGrantable, objectsKeyPattern: string = '*'): iam.Grant {
    return this.withKey(grantee, this.bucket.grantWrite(grantee, objectsKeyPattern), KEY_WRITE_ACTIONS);
  }

  public grantReadWrite(grantee: iam.IGrantable, objectsKeyPattern: string = '*'): iam.Grant {
    return this.withKey(
      grantee,
      this.bucket.grantReadWrite(grantee, objectsKeyPattern),
      KEY_READ_WRITE_ACTIONS,
    );
  }

  public s3UrlFor(prefix: ArtifactStorePrefix | string, key: string = ''): string {
    return this.bucket.s3UrlForObject(`${asFolder(prefix)}${key}`);
  }

  public arnForObjects(prefix: ArtifactStorePrefix | string, pattern: string = '*'): string {
    return this.bucket.arnForObjects(`${asFolder(prefix)}${pattern}`);
  }

  /**
   * The size in bytes of the bucket's Standard storage class (current and noncurrent versions),
   * from S3's free daily storage metrics.
   *
   * @default - AWS/S3 BucketSizeBytes, StorageType StandardStorage, Average over 1 day
   */
  public metricBucketSizeBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storageMetric('BucketSizeBytes', 'StandardStorage', props);
  }

  /**
   * The number of objects (every version, every storage class), from S3's free daily storage metrics.
   *
   * @default - AWS/S3 NumberOfObjects, StorageType AllStorageTypes, Average over 1 day
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
      // S3 publishes storage metrics once a day; a shorter period would only show gaps.
      period: Duration.days(1),
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
    });
  }

  /**
   * The bucket's grant already adds the key permissions (the bucket knows its key), but its return
   * value leaves them out. Granting the same actions on the key again yields the identical statement,
   * rendered once, and lets the returned Grant report the whole permission set.
   */
  private withKey(grantee: iam.IGrantable, bucketGrant: iam.Grant, keyActions: string[]): iam.Grant {
    const grant = this.encryptionKey
      ? bucketGrant.combine(this.encryptionKey.grant(grantee, ...keyActions))
      : bucketGrant;
    acknowledgeGrantWildcards(grantee, grant, GRANT_REASON);
    return grant;
  }
}

/**
 * The platform's artifact store (maturity level 0): an encrypted, versioned S3 bucket for data,
 * models, pipeline outputs, endpoint capture and reports.
 *
 * The bucket is KMS-encrypted (bucket keys on), versioned, private, TLS-only, logs server access to
 * a separate bucket, and expires noncurrent versions and incomplete uploads. Both buckets and the
 * created key are retained when removed from the stack unless `removalPolicy` is DESTROY.
 */
export class ArtifactStore extends ArtifactStoreBase {
  /**
   * Imports a store by bucket name. Its grants carry no KMS permissions: use
   * `fromArtifactStoreAttributes` with the key for a bucket encrypted with a customer-managed key.
   */
  public static fromBucketName(scope: Construct, id: string, bucketName: string): IArtifactStore {
    return new ImportedArtifactStore(scope, id, (store) =>
      s3.Bucket.fromBucketName(store, 'Bucket', bucketName),
    );
  }

  /**
   * Imports an existing store: its bucket as an `IBucket` or by name, and its key (or a bucket that
   * knows it) so that grants include it, e.g.
   * `fromArtifactStoreAttributes(this, 'Store', { bucketName: 'team-artifacts', encryptionKeyArn })`.
   */
  public static fromArtifactStoreAttributes(
    scope: Construct,
    id: string,
    attrs: ArtifactStoreAttributes,
  ): IArtifactStore {
    validateAttributes(scope, id, attrs);
    const given = attrs.bucket;
    return new ImportedArtifactStore(
      scope,
      id,
      (store) => {
        const encryptionKey =
          attrs.encryptionKey ??
          (attrs.encryptionKeyArn !== undefined
            ? kms.Key.fromKeyArn(store, 'Key', attrs.encryptionKeyArn)
            : undefined);
        if (!given) {
          return s3.Bucket.fromBucketAttributes(store, 'Bucket', {
            bucketName: attrs.bucketName,
            encryptionKey,
          });
        }
        // An IBucket's grants only include the key it was built with: give it the stated key.
        return encryptionKey && given.encryptionKey !== encryptionKey
          ? s3.Bucket.fromBucketAttributes(store, 'Bucket', {
              bucketArn: given.bucketArn,
              bucketName: given.bucketName,
              encryptionKey,
              account: given.env.account,
              region: given.env.region,
            })
          : given;
      },
      // The store lives where its bucket does, which decides whether grants are cross-account.
      given?.env,
    );
  }

  public readonly bucket: s3.IBucket;
  /** The key encrypting the bucket: the created one, or `props.encryptionKey`. */
  public readonly encryptionKey: kms.IKey;
  /** The bucket receiving server access logs: the created one, or `props.serverAccessLogsBucket`. */
  public readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    // Log delivery through a bucket policy, never the legacy LogDeliveryWrite ACL, whatever the app's
    // feature flags: aws-cdk-lib reads this flag from the log bucket's scope, and apps created
    // without `cdk init`'s flags would otherwise get an ACL (cfn-lint W3045) on the log bucket.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    validateProps(this, props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const autoDeleteObjects = props.autoDeleteObjects ?? false;

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `Encrypts the MLOps artifact store ${this.node.path}`,
        enableKeyRotation: true,
        alias: props.encryptionKeyAlias,
        // Same as the bucket: a retained bucket is unreadable without its key.
        removalPolicy,
      });

    this.accessLogsBucket = props.serverAccessLogsBucket ?? this.createAccessLogsBucket(props, removalPolicy);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      // One data key per bucket instead of one KMS call per object: fewer requests, lower cost.
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? 'artifact-store/',
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
    acknowledgeNagFindings(logs, {
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server access log destination of the artifact store. Logging it to itself ' +
        'would log every log delivery in a loop, and logging it to a further bucket only moves the same ' +
        'finding there. It holds logs only, is private, TLS-only and written by the S3 logging service.',
    });
    return logs;
  }
}

/** A store imported by name or attributes; `bucketOf` builds its bucket inside the import's scope. */
class ImportedArtifactStore extends ArtifactStoreBase {
  public readonly bucket: s3.IBucket;
  public readonly encryptionKey?: kms.IKey;
  public readonly accessLogsBucket?: s3.IBucket = undefined;

  constructor(
    scope: Construct,
    id: string,
    bucketOf: (store: Construct) => s3.IBucket,
    env?: { account: string; region: string },
  ) {
    super(scope, id, { account: env?.account, region: env?.region });
    this.bucket = bucketOf(this);
    this.encryptionKey = this.bucket.encryptionKey;
  }
}

/** A prefix as a folder: with a trailing slash, unless it is empty (the bucket root) or a token. */
function asFolder(prefix: ArtifactStorePrefix | string): string {
  const value = prefix.toString();
  return value === '' || value.endsWith('/') || Token.isUnresolved(value) ? value : `${value}/`;
}

function validateAttributes(scope: Construct, id: string, attrs: ArtifactStoreAttributes): void {
  const problems = new ProblemCollector(`ArtifactStore '${scope.node.path}/${id}'`);
  if ((attrs.bucket === undefined) === (attrs.bucketName === undefined)) {
    problems.add(
      'bucketName',
      attrs.bucketName,
      attrs.bucket
        ? 'give the bucket either as `bucket` or as `bucketName`, not both'
        : 'give the bucket, as `bucket` (an s3.IBucket) or as `bucketName`',
    );
  }
  problems.checkPattern(
    'bucketName',
    attrs.bucketName,
    BUCKET_NAME,
    'use an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit',
  );
  if (attrs.encryptionKey && attrs.encryptionKeyArn !== undefined) {
    problems.add(
      'encryptionKeyArn',
      attrs.encryptionKeyArn,
      'give the key either as `encryptionKey` or as `encryptionKeyArn`, not both',
    );
  }
  problems.checkPattern(
    'encryptionKeyArn',
    attrs.encryptionKeyArn,
    KEY_ARN,
    "use the key's ARN, arn:<partition>:kms:<region>:<account>:key/<key id>, not an alias or a key id",
  );
  problems.throwIfAny();
}

function validateProps(scope: Construct, props: ArtifactStoreProps): void {
  const problems = new ProblemCollector(`ArtifactStore '${scope.node.path}'`);
  const removalPolicy = problems.checkRetainOrDestroy(
    props.removalPolicy,
    'S3 buckets have no snapshots; use RemovalPolicy.RETAIN (keep the data) or RemovalPolicy.DESTROY',
  );
  if (props.autoDeleteObjects && removalPolicy !== RemovalPolicy.DESTROY) {
    problems.add(
      'autoDeleteObjects',
      true,
      `it deletes every object and requires removalPolicy: RemovalPolicy.DESTROY (got ${removalPolicy}); ` +
        'set both, or leave autoDeleteObjects unset',
    );
  }
  if (props.encryptionKeyAlias !== undefined && props.encryptionKey) {
    problems.add(
      'encryptionKeyAlias',
      props.encryptionKeyAlias,
      'it names only the key the store creates; alias your encryptionKey where it is defined, or leave ' +
        'encryptionKeyAlias unset',
    );
  }
  checkWholeDays(problems, 'noncurrentVersionExpiration', props.noncurrentVersionExpiration);
  checkWholeDays(problems, 'abortIncompleteMultipartUploadAfter', props.abortIncompleteMultipartUploadAfter);
  checkWholeDays(problems, 'accessLogsRetention', props.accessLogsRetention);
  if (props.accessLogsRetention && props.serverAccessLogsBucket) {
    problems.add(
      'accessLogsRetention',
      describeDuration(props.accessLogsRetention),
      'it applies only to the log bucket the store creates; set the lifecycle on your ' +
        'serverAccessLogsBucket instead, or leave accessLogsRetention unset',
    );
  }
  problems.throwIfAny();
}

/** S3 lifecycle rules count whole days, from one up. Tokens are left to CloudFormation. */
function checkWholeDays(problems: ProblemCollector, prop: string, value: Duration | undefined): void {
  if (value === undefined || value.isUnresolved()) {
    return;
  }
  const seconds = value.toSeconds();
  const day = Duration.days(1).toSeconds();
  if (seconds < day || seconds % day !== 0) {
    problems.add(prop, describeDuration(value), 'use a whole number of days, at least Duration.days(1)');
  }
}

function describeDuration(value: Duration): string {
  return value.isUnresolved() ? value.toString() : value.toHumanString();
}
