import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { MlopsValidationError } from '../../lib/private/errors';
import { ArtifactStore, ArtifactStorePrefix, ArtifactStoreProps } from '../../lib/storage/artifact-store';
import { acknowledgementsUnder } from '../support/acknowledgements';
import { formatFindings, nagFindings } from '../support/nag';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const READ_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const WRITE_KEY_ACTIONS = ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Decrypt'];

function storeStack(props?: ArtifactStoreProps, context?: Record<string, unknown>) {
  const app = new App({ context });
  const stack = new Stack(app, 'S');
  const store = new ArtifactStore(stack, 'Store', props);
  return { app, stack, store };
}

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as s3.CfnBucket);
const getAtt = (c: IConstruct, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId(c), attribute] });
const role = (scope: Stack, id: string) =>
  new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });

interface Statement {
  Action: string | string[];
  Effect: string;
  Resource: unknown;
}

/** Every statement of the policies attached to `grantee`, for assertions about what is absent. */
function statementsOf(template: Template, grantee: iam.Role): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: logicalId(grantee) }] },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => ([] as string[]).concat(s.Action));
const kmsStatementsOf = (statements: Statement[]) =>
  statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('kms:')));

/** Asserts that `grantee`'s policy holds exactly `statement` (among others). */
function expectGranteeStatement(template: Template, grantee: iam.Role, statement: Record<string, unknown>) {
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: logicalId(grantee) }],
    PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', ...statement }]) },
  });
}

describe('ArtifactStore defaults', () => {
  // GIVEN a store with no props
  const { stack, store } = storeStack();
  // WHEN synthesized
  const template = Template.fromStack(stack);
  const bucketId = logicalId(store.bucket);
  const logsId = logicalId(store.accessLogsBucket);

  test('creates one customer-managed key with rotation, retained, without an alias', () => {
    // THEN
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::KMS::Alias', 0);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('encrypts the bucket with that key and bucket keys; versioned, private, owner-enforced', () => {
    // THEN
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: getAtt(store.encryptionKey),
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

  test('gives no physical names to the buckets or the key', () => {
    // THEN CloudFormation names them, so two stores (or two environments) never collide
    template.allResourcesProperties('AWS::S3::Bucket', { BucketName: Match.absent() });
  });

  test('logs server access to a separate log bucket under artifact-store/', () => {
    // THEN
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'artifact-store/' },
    });
  });

  test('the log bucket uses S3-managed keys, blocks public access, expires logs after 365 days', () => {
    // THEN it is SSE-S3 because server access logging cannot deliver to SSE-KMS buckets
    const logs = template.toJSON().Resources[logsId];
    expect(logs.Properties).toEqual(
      expect.objectContaining({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [{ Id: 'expire-access-logs', ExpirationInDays: 365, Status: 'Enabled' }],
        },
      }),
    );
    // and does not log to itself
    expect(logs.Properties.LoggingConfiguration).toBeUndefined();
  });

  test('expires noncurrent versions after 90 days and aborts incomplete uploads after 7', () => {
    // THEN
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-noncurrent-versions',
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            Status: 'Enabled',
          },
          {
            Id: 'abort-incomplete-uploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            Status: 'Enabled',
          },
        ],
      },
    });
  });

  test.each([
    ['artifact bucket', () => store.bucket],
    ['log bucket', () => store.accessLogsBucket],
  ])('the %s denies every request that is not TLS', (_name, bucket) => {
    // THEN its bucket policy denies s3:* on the bucket and its objects without SecureTransport
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(bucket()) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [getAtt(bucket()), { 'Fn::Join': ['', [getAtt(bucket()), '/*']] }],
          },
        ]),
      },
    });
  });

  test('retains both buckets and deploys no auto-delete', () => {
    // THEN
    for (const id of [bucketId, logsId]) {
      expect(template.toJSON().Resources[id]).toEqual(
        expect.objectContaining({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' }),
      );
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('acknowledges exactly one cdk-nag rule: S1 on the log bucket, with a reason', () => {
    // THEN
    const ours = acknowledgementsUnder(store).filter((a) => a.id.includes('AwsSolutions-'));
    expect(ours.map((a) => [a.path, a.id])).toEqual([['S/Store/AccessLogs', 'Annotation::AwsSolutions-S1']]);
    expect(ours[0].reason).toMatch(/server access log destination/);
  });
});

describe('ArtifactStore access-log delivery', () => {
  test('with the bucket-policy flag, lets only the S3 logging service write, for this bucket', () => {
    // GIVEN the log-delivery feature flag the repository's cdk.json sets
    const { stack, store } = storeStack({}, { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN the log bucket's policy admits logging.s3.amazonaws.com under the prefix, from this bucket only
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(store.accessLogsBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:PutObject',
            Condition: {
              ArnLike: { 'aws:SourceArn': getAtt(store.bucket) },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Resource: { 'Fn::Join': ['', [getAtt(store.accessLogsBucket), '/artifact-store/*']] },
          },
        ]),
      },
    });
    // and needs no ACL on the log bucket
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-access-logs' })] },
      AccessControl: Match.absent(),
    });
  });
});

describe('ArtifactStore cdk-nag', () => {
  test('a default store has zero unacknowledged AwsSolutions findings', () => {
    // GIVEN
    const { app } = storeStack();
    // WHEN / THEN
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test('a DESTROY + autoDeleteObjects store has zero findings, with nothing acknowledged on the provider', () => {
    // GIVEN
    const { app, stack } = storeStack({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    // WHEN
    const findings = nagFindings(app);
    // THEN aws-cdk-lib's provider is there, but cdk-nag reports nothing for it (its role and function
    // are plain CfnResources, which the IAM4/L1 rules do not inspect), so nothing needs acknowledging
    const provider = stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    expect(provider).toBeDefined();
    expect(acknowledgementsUnder(provider!)).toEqual([]);
    expect(formatFindings(findings)).toBe('');
  });
});

describe('ArtifactStore options', () => {
  test('DESTROY with autoDeleteObjects deletes and empties both buckets and deletes the key', () => {
    // GIVEN
    const { stack, store } = storeStack({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    for (const bucket of [store.bucket, store.accessLogsBucket]) {
      expect(template.toJSON().Resources[logicalId(bucket)].DeletionPolicy).toBe('Delete');
      template.hasResourceProperties('Custom::S3AutoDeleteObjects', {
        BucketName: { Ref: logicalId(bucket) },
      });
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('DESTROY without autoDeleteObjects deletes the buckets only once they are empty', () => {
    // GIVEN
    const { stack, store } = storeStack({ removalPolicy: RemovalPolicy.DESTROY });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    expect(template.toJSON().Resources[logicalId(store.bucket)].DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('uses a given key, creates none, and leaves its removal policy alone', () => {
    // GIVEN a key of the caller's, retained, and a DESTROY store
    const app = new App();
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    new ArtifactStore(stack, 'Store', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(key) },
          }),
        ],
      },
    });
  });

  test('names the created key with an alias when asked', () => {
    // GIVEN
    const { stack, store } = storeStack({ encryptionKeyAlias: 'alias/mlops-artifacts' });
    // WHEN / THEN
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/mlops-artifacts',
      TargetKeyId: getAtt(store.encryptionKey),
    });
  });

  test('custom lifecycle durations', () => {
    // GIVEN
    const { stack, store } = storeStack({
      noncurrentVersionExpiration: Duration.days(30),
      abortIncompleteMultipartUploadAfter: Duration.days(2),
      accessLogsRetention: Duration.days(90),
    });
    // WHEN
    const resources = Template.fromStack(stack).toJSON().Resources;
    // THEN
    expect(resources[logicalId(store.bucket)].Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }),
    ]);
    expect(resources[logicalId(store.accessLogsBucket)].Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ ExpirationInDays: 90 }),
    ]);
  });

  test('durations given as tokens are passed to CloudFormation unchecked', () => {
    // GIVEN a deploy-time parameter
    const app = new App();
    const stack = new Stack(app, 'S');
    const days = new CfnParameter(stack, 'Days', { type: 'Number' });
    // WHEN
    new ArtifactStore(stack, 'Store', { noncurrentVersionExpiration: Duration.days(days.valueAsNumber) });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: { Ref: 'Days' } } }),
        ]),
      },
    });
  });

  test('sends access logs to a given bucket, creates no log bucket and acknowledges nothing', () => {
    // GIVEN a central log bucket
    const app = new App();
    const stack = new Stack(app, 'S');
    const logs = s3.Bucket.fromBucketName(stack, 'Logs', 'central-access-logs');
    // WHEN
    const store = new ArtifactStore(stack, 'Store', {
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'mlops/',
    });
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: 'central-access-logs', LogFilePrefix: 'mlops/' },
    });
    expect(acknowledgementsUnder(store).filter((a) => a.id.includes('AwsSolutions-'))).toEqual([]);
  });
});

describe('ArtifactStore prefixes and helpers', () => {
  // GIVEN
  const { stack, store } = storeStack();
  const bucketRef = { Ref: logicalId(store.bucket) };
  const bucketArn = getAtt(store.bucket);

  test('documents seven prefixes, each a folder with a key pattern', () => {
    // THEN
    expect(ArtifactStorePrefix.all().map((p) => [p.prefix, p.keyPattern])).toEqual([
      ['data/', 'data/*'],
      ['models/', 'models/*'],
      ['pipelines/', 'pipelines/*'],
      ['capture/', 'capture/*'],
      ['ground-truth/', 'ground-truth/*'],
      ['reports/', 'reports/*'],
      ['experiments/', 'experiments/*'],
    ]);
  });

  test.each<[string, () => string, unknown]>([
    [
      's3UrlFor(prefix, key)',
      () => store.s3UrlFor(ArtifactStorePrefix.DATA, 'train.csv'),
      { 'Fn::Join': ['', ['s3://', bucketRef, '/data/train.csv']] },
    ],
    [
      's3UrlFor(prefix) is the folder',
      () => store.s3UrlFor(ArtifactStorePrefix.EXPERIMENTS),
      { 'Fn::Join': ['', ['s3://', bucketRef, '/experiments/']] },
    ],
    [
      's3UrlFor a string folder without slash',
      () => store.s3UrlFor('data/raw', 'a.csv'),
      { 'Fn::Join': ['', ['s3://', bucketRef, '/data/raw/a.csv']] },
    ],
    [
      'arnForObjects(prefix)',
      () => store.arnForObjects(ArtifactStorePrefix.MODELS),
      { 'Fn::Join': ['', [bucketArn, '/models/*']] },
    ],
    [
      'arnForObjects(prefix, pattern)',
      () => store.arnForObjects('reports', '*.json'),
      { 'Fn::Join': ['', [bucketArn, '/reports/*.json']] },
    ],
    ['arnForObjects at the root', () => store.arnForObjects(''), { 'Fn::Join': ['', [bucketArn, '/*']] }],
  ])('%s', (_name, reference, expected) => {
    // WHEN resolved / THEN
    expect(stack.resolve(reference())).toEqual(expected);
  });

  test('bucketName and bucketArn are the bucket reference', () => {
    expect(stack.resolve([store.bucketName, store.bucketArn])).toEqual([bucketRef, bucketArn]);
  });
});

describe('ArtifactStore metrics', () => {
  // GIVEN
  const { stack, store } = storeStack();
  const bucketRef = { Ref: logicalId(store.bucket) };

  test('metricBucketSizeBytes: AWS/S3 BucketSizeBytes of StandardStorage, daily average', () => {
    // WHEN
    const metric = store.metricBucketSizeBytes();
    // THEN
    expect([metric.namespace, metric.metricName, metric.statistic, metric.period.toSeconds()]).toEqual([
      'AWS/S3',
      'BucketSizeBytes',
      'Average',
      86400,
    ]);
    expect(stack.resolve(metric.dimensions)).toEqual({
      BucketName: bucketRef,
      StorageType: 'StandardStorage',
    });
  });

  test('metricNumberOfObjects: AllStorageTypes, and options override the defaults', () => {
    // WHEN
    const metric = store.metricNumberOfObjects({ statistic: 'Maximum', period: Duration.days(7) });
    // THEN
    expect([metric.metricName, metric.statistic, metric.period.toDays()]).toEqual([
      'NumberOfObjects',
      'Maximum',
      7,
    ]);
    expect(stack.resolve(metric.dimensions)).toEqual({
      BucketName: bucketRef,
      StorageType: 'AllStorageTypes',
    });
  });
});

describe('ArtifactStore grants', () => {
  // GIVEN a store and three roles, one per grant
  const { stack, store } = storeStack();
  const reader = role(stack, 'Reader');
  const writer = role(stack, 'Writer');
  const both = role(stack, 'Both');
  // WHEN
  const readGrant = store.grantRead(reader, ArtifactStorePrefix.DATA.keyPattern);
  store.grantWrite(writer, ArtifactStorePrefix.MODELS.keyPattern);
  store.grantReadWrite(both);
  const template = Template.fromStack(stack);
  const bucketArn = getAtt(store.bucket);
  const keyArn = getAtt(store.encryptionKey);
  const objects = (pattern: string) => ({ 'Fn::Join': ['', [bucketArn, `/${pattern}`]] });

  test('grantRead reads the bucket and objects under the pattern, and decrypts with the key', () => {
    // THEN
    expectGranteeStatement(template, reader, {
      Action: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
      Resource: [bucketArn, objects('data/*')],
    });
    expectGranteeStatement(template, reader, { Action: READ_KEY_ACTIONS, Resource: keyArn });
    // and nothing that writes or encrypts
    expect(
      actionsOf(statementsOf(template, reader)).filter((a) =>
        /Put|Delete|Abort|Encrypt|GenerateDataKey/.test(a),
      ),
    ).toEqual([]);
  });

  test('grantWrite writes and deletes objects under the pattern, and encrypts with the key', () => {
    // THEN
    expectGranteeStatement(template, writer, {
      Action: Match.arrayWith(['s3:DeleteObject*', 's3:PutObject', 's3:Abort*']),
      Resource: [bucketArn, objects('models/*')],
    });
    expectGranteeStatement(template, writer, { Action: WRITE_KEY_ACTIONS, Resource: keyArn });
    expect(actionsOf(statementsOf(template, writer))).not.toContain('s3:GetObject*');
  });

  test('grantReadWrite does both on every object', () => {
    // THEN
    expectGranteeStatement(template, both, {
      Action: Match.arrayWith(['s3:GetObject*', 's3:List*', 's3:DeleteObject*', 's3:PutObject']),
      Resource: [bucketArn, objects('*')],
    });
    expectGranteeStatement(template, both, {
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
      Resource: keyArn,
    });
  });

  test('each grantee gets one KMS statement, not a duplicate per grant path', () => {
    // THEN
    for (const grantee of [reader, writer, both]) {
      expect(kmsStatementsOf(statementsOf(template, grantee))).toHaveLength(1);
    }
  });

  test('the returned Grant reports the key permissions too', () => {
    // THEN
    expect(readGrant.success).toBe(true);
    expect(stack.resolve(readGrant.principalStatements.map((s) => s.toStatementJson()))).toEqual(
      expect.arrayContaining([{ Action: READ_KEY_ACTIONS, Effect: 'Allow', Resource: keyArn }]),
    );
  });

  test("the grants' standard wildcards are acknowledged precisely on the grantee", () => {
    // THEN the reader's acknowledgements name its object pattern, and no KMS wildcard it was not given
    const ids = acknowledgementsUnder(reader).map((a) => a.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'Annotation::AwsSolutions-IAM5[Action::s3:GetObject*]',
        `Annotation::AwsSolutions-IAM5[Resource::<${logicalId(store.bucket)}.Arn>/data/*]`,
      ]),
    );
    expect(ids.filter((id) => id.includes('kms:'))).toEqual([]);
    expect(acknowledgementsUnder(writer).map((a) => a.id)).toEqual(
      expect.arrayContaining(['Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]']),
    );
  });

  test('a granted role passes cdk-nag', () => {
    // GIVEN
    const { app, stack: s, store: st } = storeStack();
    st.grantReadWrite(role(s, 'R'), ArtifactStorePrefix.REPORTS.keyPattern);
    // WHEN / THEN
    expect(formatFindings(nagFindings(app))).toBe('');
  });
});

describe('ArtifactStore importers', () => {
  test('fromBucketName: grants on the named bucket without KMS, with the same helpers', () => {
    // GIVEN
    const stack = new Stack();
    const store = ArtifactStore.fromBucketName(stack, 'Imported', 'team-artifacts');
    const reader = role(stack, 'R');
    // WHEN
    store.grantRead(reader, ArtifactStorePrefix.DATA.keyPattern);
    const template = Template.fromStack(stack);
    // THEN
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::team-artifacts']] };
    expectGranteeStatement(template, reader, {
      Action: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
      Resource: [
        arn,
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::team-artifacts/data/*']] },
      ],
    });
    expect(kmsStatementsOf(statementsOf(template, reader))).toEqual([]);
    expect(stack.resolve(store.s3UrlFor(ArtifactStorePrefix.REPORTS, 'r.json'))).toBe(
      's3://team-artifacts/reports/r.json',
    );
    expect(stack.resolve(store.metricNumberOfObjects().dimensions)).toEqual({
      BucketName: 'team-artifacts',
      StorageType: 'AllStorageTypes',
    });
    expect([store.encryptionKey, store.accessLogsBucket]).toEqual([undefined, undefined]);
  });

  test('fromBucketName keeps its bucket inside the import, leaving sibling ids free', () => {
    // GIVEN
    const stack = new Stack();
    ArtifactStore.fromBucketName(stack, 'Imported', 'team-artifacts');
    // WHEN / THEN a construct the caller names "ImportedBucket" does not collide
    expect(() => s3.Bucket.fromBucketName(stack, 'ImportedBucket', 'other')).not.toThrow();
  });

  test('fromArtifactStoreAttributes with a key: read and write grants include that key', () => {
    // GIVEN
    const stack = new Stack();
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', {
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'team-artifacts'),
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
    });
    const reader = role(stack, 'Reader');
    const writer = role(stack, 'Writer');
    // WHEN
    store.grantRead(reader);
    store.grantWrite(writer);
    const template = Template.fromStack(stack);
    // THEN
    expectGranteeStatement(template, reader, { Action: READ_KEY_ACTIONS, Resource: KEY_ARN });
    expectGranteeStatement(template, writer, { Action: WRITE_KEY_ACTIONS, Resource: KEY_ARN });
    expect(kmsStatementsOf(statementsOf(template, writer))).toHaveLength(1);
  });

  test('fromArtifactStoreAttributes with a bucket imported with its key uses that key', () => {
    // GIVEN a bucket imported the aws-cdk-lib way, key included
    const stack = new Stack();
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'B', {
      bucketName: 'team-artifacts',
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
    });
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', { bucket });
    const both = role(stack, 'R');
    // WHEN
    store.grantReadWrite(both);
    // THEN
    expectGranteeStatement(Template.fromStack(stack), both, {
      Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']),
      Resource: KEY_ARN,
    });
  });

  test('fromArtifactStoreAttributes of a bucket in another account lives in that account', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'B', {
      bucketName: 'shared-artifacts',
      account: '222222222222',
    });
    // WHEN
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', { bucket });
    // THEN
    expect(store.env.account).toBe('222222222222');
  });
});

describe('ArtifactStore imported from plain strings', () => {
  test('bucketName and encryptionKeyArn: every grant covers the objects and the key', () => {
    // GIVEN a store of this account known only by strings, e.g. another app's outputs
    const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', {
      bucketName: 'team-artifacts',
      encryptionKeyArn: KEY_ARN,
    });
    const reader = role(stack, 'Reader');
    const writer = role(stack, 'Writer');
    // WHEN
    const readGrant = store.grantRead(reader, ArtifactStorePrefix.DATA.keyPattern);
    store.grantWrite(writer);
    const template = Template.fromStack(stack);
    // THEN
    expect(stack.resolve(store.bucketName)).toBe('team-artifacts');
    expect(store.encryptionKey?.keyArn).toBe(KEY_ARN);
    expectGranteeStatement(template, reader, { Action: READ_KEY_ACTIONS, Resource: KEY_ARN });
    expectGranteeStatement(template, writer, { Action: WRITE_KEY_ACTIONS, Resource: KEY_ARN });
    expect(JSON.stringify(statementsOf(template, reader))).toContain(':s3:::team-artifacts/data/*');
    expect(readGrant.principalStatements.flatMap((st) => st.actions)).toEqual(
      expect.arrayContaining(READ_KEY_ACTIONS),
    );
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('bucketName alone: grants carry no KMS permissions; a given IBucket with encryptionKeyArn gets the key', () => {
    // GIVEN
    const stack = new Stack();
    const plain = ArtifactStore.fromArtifactStoreAttributes(stack, 'Plain', { bucketName: 'public-data' });
    const keyed = ArtifactStore.fromArtifactStoreAttributes(stack, 'Keyed', {
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'team-artifacts'),
      encryptionKeyArn: KEY_ARN,
    });
    const a = role(stack, 'A');
    const b = role(stack, 'B2');
    // WHEN
    plain.grantRead(a);
    keyed.grantRead(b);
    const template = Template.fromStack(stack);
    // THEN
    expect(kmsStatementsOf(statementsOf(template, a))).toEqual([]);
    expectGranteeStatement(template, b, { Action: READ_KEY_ACTIONS, Resource: KEY_ARN });
  });

  test('token strings, e.g. stack parameters, are passed through unvalidated', () => {
    // GIVEN
    const stack = new Stack();
    const store = ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', {
      bucketName: new CfnParameter(stack, 'Bucket').valueAsString,
      encryptionKeyArn: new CfnParameter(stack, 'KeyArn').valueAsString,
    });
    const reader = role(stack, 'Reader');
    // WHEN
    store.grantRead(reader);
    // THEN
    expectGranteeStatement(Template.fromStack(stack), reader, {
      Action: READ_KEY_ACTIONS,
      Resource: { Ref: 'KeyArn' },
    });
  });

  test.each<[string, (s: Stack) => Parameters<typeof ArtifactStore.fromArtifactStoreAttributes>[2], RegExp]>([
    [
      'neither bucket nor bucketName',
      () => ({ encryptionKeyArn: KEY_ARN }),
      /bucketName \(undefined\) is invalid: give the bucket, as `bucket` \(an s3\.IBucket\) or as `bucketName`/,
    ],
    [
      'both bucket and bucketName',
      (s) => ({ bucket: s3.Bucket.fromBucketName(s, 'B', 'a-bucket'), bucketName: 'a-bucket' }),
      /bucketName 'a-bucket' is invalid: give the bucket either as `bucket` or as `bucketName`, not both/,
    ],
    [
      'both encryptionKey and encryptionKeyArn',
      (s) => ({
        bucketName: 'a-bucket',
        encryptionKey: kms.Key.fromKeyArn(s, 'K', KEY_ARN),
        encryptionKeyArn: KEY_ARN,
      }),
      /encryptionKeyArn '.*' is invalid: give the key either as `encryptionKey` or as `encryptionKeyArn`, not both/,
    ],
    [
      'an alias ARN',
      () => ({
        bucketName: 'a-bucket',
        encryptionKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/artifacts',
      }),
      /encryptionKeyArn 'arn:aws:kms:eu-west-1:111122223333:alias\/artifacts' is invalid: use the key's ARN, arn:<partition>:kms:<region>:<account>:key\/<key id>, not an alias/,
    ],
    [
      'a bucket ARN as bucketName',
      () => ({ bucketName: 'arn:aws:s3:::a-bucket' }),
      /bucketName 'arn:aws:s3:::a-bucket' is invalid: use an S3 bucket name/,
    ],
  ])('%s fails naming the attribute, the value and the fix', (_name, attrs, message) => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN / THEN
    const given = attrs(stack);
    const importIt = () => ArtifactStore.fromArtifactStoreAttributes(stack, 'Imported', given);
    expect(importIt).toThrow(MlopsValidationError);
    expect(importIt).toThrow(/^ArtifactStore 'S\/Imported': /);
    expect(importIt).toThrow(message);
  });
});

describe('ArtifactStore validation', () => {
  const build = (props: ArtifactStoreProps) => () => storeStack(props);

  test.each<[string, ArtifactStoreProps, RegExp]>([
    [
      'autoDeleteObjects without DESTROY',
      { autoDeleteObjects: true },
      /autoDeleteObjects 'true' is invalid: .*requires removalPolicy: RemovalPolicy\.DESTROY \(got retain\); set both/,
    ],
    [
      'SNAPSHOT removal',
      { removalPolicy: RemovalPolicy.SNAPSHOT },
      /removalPolicy 'snapshot' is invalid: S3 buckets have no snapshots; use RemovalPolicy\.RETAIN .* or RemovalPolicy\.DESTROY/,
    ],
    [
      'RETAIN_ON_UPDATE_OR_DELETE removal',
      { removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE },
      /removalPolicy 'retain-on-update-or-delete' is invalid: .*use RemovalPolicy\.RETAIN/,
    ],
    [
      'noncurrent expiry under a day',
      { noncurrentVersionExpiration: Duration.hours(12) },
      /noncurrentVersionExpiration '12 hours' is invalid: use a whole number of days, at least Duration\.days\(1\)/,
    ],
    [
      'upload abort in part days',
      { abortIncompleteMultipartUploadAfter: Duration.hours(36) },
      /abortIncompleteMultipartUploadAfter '1 day 12 hours' is invalid: use a whole number of days/,
    ],
    [
      'log retention zero',
      { accessLogsRetention: Duration.days(0) },
      /accessLogsRetention '0 days' is invalid: use a whole number of days, at least Duration\.days\(1\)/,
    ],
  ])('%s fails naming the prop, the value and the fix', (_name, props, message) => {
    expect(build(props)).toThrow(MlopsValidationError);
    expect(build(props)).toThrow(message);
  });

  test('accessLogsRetention with a given log bucket is rejected', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    const logs = s3.Bucket.fromBucketName(stack, 'L', 'logs');
    // WHEN / THEN
    expect(
      () =>
        new ArtifactStore(stack, 'Store', {
          serverAccessLogsBucket: logs,
          accessLogsRetention: Duration.days(30),
        }),
    ).toThrow(
      /accessLogsRetention '30 days' is invalid: it applies only to the log bucket the store creates; set the lifecycle on your serverAccessLogsBucket/,
    );
  });

  test('encryptionKeyAlias with a given key is rejected', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    const key = kms.Key.fromKeyArn(stack, 'K', KEY_ARN);
    // WHEN / THEN
    expect(
      () => new ArtifactStore(stack, 'Store', { encryptionKey: key, encryptionKeyAlias: 'alias/x' }),
    ).toThrow(
      /encryptionKeyAlias 'alias\/x' is invalid: it names only the key the store creates; alias your encryptionKey/,
    );
  });

  test('every problem is reported in one error', () => {
    // WHEN / THEN
    expect(
      build({
        autoDeleteObjects: true,
        noncurrentVersionExpiration: Duration.hours(1),
        accessLogsRetention: Duration.minutes(5),
      }),
    ).toThrow(
      /ArtifactStore 'S\/Store':\n {2}- autoDeleteObjects.*\n {2}- noncurrentVersionExpiration.*\n {2}- accessLogsRetention/,
    );
  });

  test('a valid store with unusual but legal values passes', () => {
    // WHEN / THEN
    expect(
      build({
        noncurrentVersionExpiration: Duration.hours(24),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
        accessLogsRetention: Duration.days(3650),
      }),
    ).not.toThrow();
  });
});

describe('ArtifactStore access log delivery', () => {
  test('uses a bucket policy, not the legacy ACL, in an app without feature flags', () => {
    // GIVEN an app with no context at all (no cdk init feature flags)
    const stack = new Stack(new App(), 'NoFlags');
    new ArtifactStore(stack, 'Store');
    const template = Template.fromStack(stack);
    // THEN no bucket carries an ACL (cfn-lint W3045) ...
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.Properties?.AccessControl).toBeUndefined();
    }
    // ... and the log bucket lets the S3 logging service write
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
        ]),
      },
    });
  });
});
