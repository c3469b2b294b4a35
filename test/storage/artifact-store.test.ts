import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ArtifactStore, ArtifactStorePrefix, ArtifactStoreProps } from '../../lib/storage/artifact-store';
import { MlopsValidationError } from '../../lib/private/errors';
import { formatFindings, nagFindings } from '../support/nag';

function storeStack(props?: ArtifactStoreProps) {
  const app = new App();
  const stack = new Stack(app, 'S');
  const store = new ArtifactStore(stack, 'Store', props);
  return { app, stack, store };
}

/** The policy statements attached to `role`, resolved. */
function statementsOf(
  template: Template,
  roleLogicalIdPrefix: string,
): Array<{ Action: string | string[]; Resource: unknown }> {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${roleLogicalIdPrefix}`) }] },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (
        p as {
          Properties: {
            PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
          };
        }
      ).Properties.PolicyDocument.Statement,
  );
}
const actionsOf = (statements: Array<{ Action: string | string[] }>) =>
  statements.flatMap((s) => ([] as string[]).concat(s.Action));

describe('ArtifactStore defaults', () => {
  // GIVEN a store with no props
  const { stack, store } = storeStack();
  const template = Template.fromStack(stack);
  const keyId = stack.getLogicalId(store.encryptionKey.node.defaultChild as kms.CfnKey);
  const logsId = stack.getLogicalId(store.accessLogsBucket.node.defaultChild as s3.CfnBucket);

  test('creates a rotating KMS key, retained', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('encrypts the bucket with that key and bucket keys, versioned and private', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('logs server access to a separate bucket', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'artifact-store/' },
    });
    // The log bucket uses S3-managed keys: server access logging cannot deliver to SSE-KMS buckets.
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365, Status: 'Enabled' })] },
    });
  });

  test('expires noncurrent versions after 90 days and aborts uploads after 7', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Id: 'expire-noncurrent-versions',
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
          }),
          Match.objectLike({
            Id: 'abort-incomplete-uploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ],
      },
    });
  });

  test('denies non-TLS requests on both buckets', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    const denies = Object.values(policies).filter((p) =>
      JSON.stringify(p).includes('"aws:SecureTransport":"false"'),
    );
    expect(denies).toHaveLength(2);
  });

  test('retains both buckets and deploys no auto-delete', () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets.map((b) => (b as { DeletionPolicy: string }).DeletionPolicy)).toEqual([
      'Retain',
      'Retain',
    ]);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    const { app } = storeStack();
    expect(formatFindings(nagFindings(app))).toBe('');
  });
});

describe('ArtifactStore options', () => {
  test('DESTROY with autoDeleteObjects deletes and empties both buckets, and passes cdk-nag', () => {
    const { app, stack } = storeStack({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    const template = Template.fromStack(stack);
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets.map((b) => (b as { DeletionPolicy: string }).DeletionPolicy)).toEqual([
      'Delete',
      'Delete',
    ]);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test('DESTROY without autoDeleteObjects keeps objects-in-bucket protection', () => {
    const { stack } = storeStack({ removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('uses a given key and creates none', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const store = new ArtifactStore(stack, 'Store', { encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(store.encryptionKey).toBe(key);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: {
                'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'],
              },
            },
          }),
        ],
      },
    });
  });

  test('custom lifecycle durations', () => {
    const { stack } = storeStack({
      noncurrentVersionExpiration: Duration.days(30),
      abortIncompleteMultipartUploadAfter: Duration.days(2),
      accessLogsRetention: Duration.days(90),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90 })] },
    });
  });

  test('sends access logs to a given bucket and creates no log bucket', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const logs = s3.Bucket.fromBucketName(stack, 'Logs', 'central-access-logs');
    const store = new ArtifactStore(stack, 'Store', { serverAccessLogsBucket: logs });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: 'central-access-logs' },
    });
    expect(store.accessLogsBucket).toBe(logs);
  });
});

describe('ArtifactStore prefixes and metrics', () => {
  const { stack, store } = storeStack();
  const bucketId = stack.getLogicalId(store.bucket.node.defaultChild as s3.CfnBucket);

  test('documents six prefixes, each a folder', () => {
    expect(ArtifactStorePrefix.all().map((p) => p.prefix)).toEqual([
      'data/',
      'models/',
      'pipelines/',
      'capture/',
      'reports/',
      'experiments/',
    ]);
    expect(ArtifactStorePrefix.DATA.keyPattern).toBe('data/*');
  });

  test('s3UrlFor and arnForObjects build references under a prefix', () => {
    expect(stack.resolve(store.s3UrlFor(ArtifactStorePrefix.DATA, 'train.csv'))).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/data/train.csv']],
    });
    expect(stack.resolve(store.arnForObjects(ArtifactStorePrefix.MODELS))).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/models/*']],
    });
  });

  test('storage metrics use S3 daily metrics with the documented defaults, overridable', () => {
    const size = store.metricBucketSizeBytes();
    expect([size.namespace, size.metricName, size.statistic, size.period.toDays()]).toEqual([
      'AWS/S3',
      'BucketSizeBytes',
      'Average',
      1,
    ]);
    expect(stack.resolve(size.dimensions)).toEqual({
      BucketName: { Ref: bucketId },
      StorageType: 'StandardStorage',
    });
    const count = store.metricNumberOfObjects({ statistic: 'Maximum' });
    expect([count.metricName, count.statistic]).toEqual(['NumberOfObjects', 'Maximum']);
    expect(stack.resolve(count.dimensions).StorageType).toBe('AllStorageTypes');
  });
});

describe('ArtifactStore grants', () => {
  // GIVEN a store and three roles, one per grant
  const { stack, store } = storeStack();
  const role = (id: string) =>
    new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  store.grantRead(role('Reader'), ArtifactStorePrefix.DATA.keyPattern);
  store.grantWrite(role('Writer'));
  store.grantReadWrite(role('Both'));
  const template = Template.fromStack(stack);
  const keyArn = {
    'Fn::GetAtt': [stack.getLogicalId(store.encryptionKey.node.defaultChild as kms.CfnKey), 'Arn'],
  };
  const bucketId = stack.getLogicalId(store.bucket.node.defaultChild as s3.CfnBucket);

  test('grantRead reads objects under the pattern and decrypts with the key, nothing more', () => {
    const statements = statementsOf(template, 'Reader');
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:List*', 'kms:Decrypt']));
    expect(actions.filter((a) => /Put|Delete|Encrypt|GenerateDataKey/.test(a))).toEqual([]);
    expect(JSON.stringify(statements)).toContain(
      JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/data/*']] }),
    );
    expect(statements.find((s) => actionsOf([s]).includes('kms:Decrypt'))?.Resource).toEqual(keyArn);
  });

  test('grantWrite writes objects and encrypts with the key', () => {
    const actions = actionsOf(statementsOf(template, 'Writer'));
    expect(actions).toEqual(
      expect.arrayContaining(['s3:PutObject', 's3:DeleteObject*', 'kms:Encrypt', 'kms:GenerateDataKey*']),
    );
    expect(actions).not.toContain('s3:GetObject*');
  });

  test('grantReadWrite does both', () => {
    const actions = actionsOf(statementsOf(template, 'Both'));
    expect(actions).toEqual(
      expect.arrayContaining([
        's3:GetObject*',
        's3:PutObject',
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey*',
      ]),
    );
  });

  test("the grants' standard wildcards are acknowledged for cdk-nag, so a granted role passes", () => {
    const app = new App();
    const s = new Stack(app, 'S');
    const st = new ArtifactStore(s, 'Store');
    st.grantReadWrite(new iam.Role(s, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    expect(formatFindings(nagFindings(app))).toBe('');
  });
});

describe('ArtifactStore importers', () => {
  test('fromBucketName grants on the named bucket, without KMS permissions', () => {
    const stack = new Stack();
    const store = ArtifactStore.fromBucketName(stack, 'Imported', 'team-artifacts');
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    store.grantRead(role);
    expect(store.encryptionKey).toBeUndefined();
    expect(stack.resolve(store.bucketName)).toBe('team-artifacts');
    expect(stack.resolve(store.s3UrlFor(ArtifactStorePrefix.REPORTS, 'r.json'))).toBe(
      's3://team-artifacts/reports/r.json',
    );
    const actions = actionsOf(statementsOf(Template.fromStack(stack), 'R'));
    expect(actions).toContain('s3:GetObject*');
    expect(actions.filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  test('fromArtifactStoreAttributes with a key includes the key in grants', () => {
    const stack = new Stack();
    const key = kms.Key.fromKeyArn(
      stack,
      'Key',
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', {
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'team-artifacts'),
      encryptionKey: key,
    });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    store.grantReadWrite(role);
    expect(store.encryptionKey).toBe(key);
    const statements = statementsOf(Template.fromStack(stack), 'R');
    const kmsStatement = statements.find((s) => actionsOf([s]).includes('kms:Decrypt'));
    expect(kmsStatement?.Resource).toBe(key.keyArn);
    expect(actionsOf(statements)).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:GenerateDataKey*']));
  });

  test("fromArtifactStoreAttributes without a key uses the bucket's own", () => {
    const stack = new Stack();
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'B', { encryptionKey: key });
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', { bucket });
    expect(store.encryptionKey).toBe(key);
    expect(store.bucket).toBe(bucket);
  });
});

describe('ArtifactStore validation', () => {
  const build = (props: ArtifactStoreProps) => () => storeStack(props);

  test.each<[string, ArtifactStoreProps, RegExp]>([
    [
      'autoDeleteObjects without DESTROY',
      { autoDeleteObjects: true },
      /autoDeleteObjects 'true' is invalid: .*requires removalPolicy: RemovalPolicy\.DESTROY \(got retain\)/,
    ],
    [
      'SNAPSHOT removal',
      { removalPolicy: RemovalPolicy.SNAPSHOT },
      /removalPolicy 'snapshot' is invalid: S3 buckets support only RemovalPolicy\.RETAIN or RemovalPolicy\.DESTROY/,
    ],
    [
      'noncurrent expiry under a day',
      { noncurrentVersionExpiration: Duration.hours(12) },
      /noncurrentVersionExpiration '12 hours' is invalid: use a whole number of days, at least Duration\.days\(1\)/,
    ],
    [
      'upload abort in part days',
      { abortIncompleteMultipartUploadAfter: Duration.hours(36) },
      /abortIncompleteMultipartUploadAfter '1 day 12 hours' is invalid/,
    ],
    [
      'log retention zero',
      { accessLogsRetention: Duration.days(0) },
      /accessLogsRetention '0 days' is invalid/,
    ],
  ])('%s fails naming the prop, value and fix', (_name, props, message) => {
    expect(build(props)).toThrow(MlopsValidationError);
    expect(build(props)).toThrow(message);
  });

  test('accessLogsRetention with a given log bucket is rejected', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    expect(
      () =>
        new ArtifactStore(stack, 'Store', {
          serverAccessLogsBucket: s3.Bucket.fromBucketName(stack, 'L', 'logs'),
          accessLogsRetention: Duration.days(30),
        }),
    ).toThrow(
      /accessLogsRetention '30 days' is invalid: it applies only to the log bucket the store creates/,
    );
  });

  test('all problems are reported together', () => {
    expect(build({ autoDeleteObjects: true, noncurrentVersionExpiration: Duration.hours(1) })).toThrow(
      /ArtifactStore 'S\/Store':\n {2}- autoDeleteObjects.*\n {2}- noncurrentVersionExpiration/,
    );
  });
});
