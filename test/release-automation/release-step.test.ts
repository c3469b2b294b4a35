import {
  CloudFormationClient,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { quietHandlerLogs } from './support/quiet-logs';
import { handler } from '../../lambda/release-step';
import type { ReleaseRequest } from '../../lambda/shared/release';
import { XGBOOST_INFERENCE_SPECIFICATION } from '../support/model-package';

const ARN = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips-fare/7';
const POINTER = '/mlops/staging/serving/fare-amount/model-package-arn';
const ssm = mockClient(SSMClient);
const sageMaker = mockClient(SageMakerClient);
const cloudFormation = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);

const request = (overrides: Partial<ReleaseRequest> = {}): ReleaseRequest => ({
  modelPackageArn: ARN,
  stackName: 'staging-Platform',
  pointerName: POINTER,
  region: 'eu-west-1',
  modelPackageGroupName: 'trips-fare',
  ...overrides,
});

/** DescribeModelPackage's answer for the version, as its API reference shapes it. */
const modelPackage = (approval: 'Approved' | 'PendingManualApproval') => ({
  ModelPackageGroupName: 'trips-fare',
  ModelPackageVersion: 7,
  ModelPackageArn: ARN,
  ModelPackageStatus: 'Completed' as const,
  ModelApprovalStatus: approval,
  CreationTime: new Date('2026-11-30T10:00:00Z'),
  InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
});

const awsCalls = () =>
  [ssm, sageMaker, cloudFormation].flatMap((client) => client.calls().map((c) => c.args[0].constructor.name));

beforeEach(() => {
  ssm.reset();
  sageMaker.reset();
  cloudFormation.reset();
  sts.reset();
  quietHandlerLogs();
});

afterEach(() => jest.restoreAllMocks());

describe('release step handler', () => {
  test('a package of another group is refused before any AWS call, as ReleaseRefused with the code', async () => {
    const error = await handler({
      action: 'start',
      request: request({ modelPackageGroupName: 'trips-duration' }),
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ReleaseRefused');
    expect((error as Error).message).toMatch(
      /^\[wrong-model-group\] model package '.*' belongs to group 'trips-fare'/,
    );
    expect(awsCalls()).toEqual([]);
  });

  test('a package pending approval is refused and nothing is written', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage('PendingManualApproval'));
    const error = (await handler({ action: 'start', request: request() }).catch((e: Error) => e)) as Error;
    expect(error.name).toBe('ReleaseRefused');
    expect(error.message).toMatch(/^\[model-package-not-approved\]/);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(cloudFormation.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  test.each([
    ['no action', {}],
    ['an unknown action', { action: 'rollback', request: request() }],
    ['a start without a request', { action: 'start' }],
    ['a check without a token', { action: 'check', token: {} }],
  ])('%s is a defect of the caller: thrown, naming the expected shape', async (_case, event) => {
    await expect(handler(event as never)).rejects.toThrow(
      /release step event must be \{"action":"start","request":\{\.\.\.\}\} or \{"action":"check","token":\{\.\.\.\}\}/,
    );
    expect(awsCalls()).toEqual([]);
  });

  test('an AWS failure other than a refusal is thrown as it is, for the state machine to retry or catch', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage('Approved'));
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [] });
    const error = (await handler({ action: 'start', request: request() }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});

describe('release step handler with a release role', () => {
  const STAGING_ROLE = 'arn:aws:iam::222222222222:role/mlops-staging-release';
  const PROD_ROLE = 'arn:aws:iam::333333333333:role/mlops-prod-release';
  /** AssumeRole's answer for a role: credentials that name it, as its API reference shapes them. */
  const session = (keyId: string) => ({
    Credentials: {
      AccessKeyId: keyId,
      SecretAccessKey: `secret-of-${keyId}`,
      SessionToken: `token-of-${keyId}`,
      // Far ahead, so that no renewal happens during the test.
      Expiration: new Date('2999-01-01T00:00:00Z'),
    },
    AssumedRoleUser: { AssumedRoleId: 'AROAEXAMPLE:release-fare-amount', Arn: `${keyId}-session` },
  });
  /** The access key of the credentials a mocked call was signed with. */
  const keyOf = async (call: { thisValue: unknown }) =>
    (await (call.thisValue as SSMClient).config.credentials()).accessKeyId;

  beforeEach(() => {
    process.env.MODEL_NAME = 'fare-amount';
    sts.on(AssumeRoleCommand, { RoleArn: STAGING_ROLE }).resolves(session('ASIASTAGING'));
    sts.on(AssumeRoleCommand, { RoleArn: PROD_ROLE }).resolves(session('ASIAPROD'));
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage('PendingManualApproval'));
  });
  afterEach(() => delete process.env.MODEL_NAME);

  /**
   * A request in a region of its own: the handler keeps its clients per region and role for the
   * container's life, so each test uses a region no other test uses.
   */
  const requestIn = (region: string) =>
    request({ region, modelPackageArn: ARN.replace('eu-west-1', region) });

  test('every call of a target is signed with a session of its release role, named after the model', async () => {
    // WHEN a start runs for a target with a release role (refused: the package is pending)
    await handler({ action: 'start', request: requestIn('eu-north-1'), releaseRoleArn: STAGING_ROLE }).catch(
      () => undefined,
    );
    // THEN the package was read with the credentials of a session of that role, named after the model
    const [describe] = sageMaker.commandCalls(DescribeModelPackageCommand);
    expect(await keyOf(describe)).toBe('ASIASTAGING');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: STAGING_ROLE, RoleSessionName: 'release-fare-amount' },
    ]);
  });

  test("each role gets its own clients, kept across invocations: a second target's calls use its own session", async () => {
    for (const role of [STAGING_ROLE, PROD_ROLE, STAGING_ROLE]) {
      await handler({ action: 'start', request: requestIn('eu-south-1'), releaseRoleArn: role }).catch(
        () => undefined,
      );
    }
    const keys: string[] = [];
    for (const call of sageMaker.commandCalls(DescribeModelPackageCommand)) {
      keys.push(await keyOf(call));
    }
    expect(keys).toEqual(['ASIASTAGING', 'ASIAPROD', 'ASIASTAGING']);
    // One session per role: the third call reused staging's.
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      STAGING_ROLE,
      PROD_ROLE,
    ]);
  });

  test('a check uses the release role too', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'staging-Serving',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date('2026-11-30T10:00:00Z'),
        },
      ],
    });
    const token = {
      request: { ...requestIn('ap-southeast-2'), stackName: 'staging-Serving' },
      previous: 'none',
      restoreTo: 'none',
      clientRequestToken: 'release-1',
      pollIntervalMs: 30_000,
      timeoutMs: 3_600_000,
      waitedMs: 0,
      lastStatus: 'UPDATE_IN_PROGRESS',
    };
    await expect(handler({ action: 'check', token, releaseRoleArn: PROD_ROLE })).resolves.toMatchObject({
      status: 'done',
    });
    const [read] = cloudFormation.commandCalls(DescribeStacksCommand);
    expect(await keyOf(read)).toBe('ASIAPROD');
  });

  test("a target without a release role is served with the function's own credentials: nothing is assumed", async () => {
    await handler({ action: 'start', request: requestIn('us-west-2') }).catch(() => undefined);
    expect(sageMaker.commandCalls(DescribeModelPackageCommand)).toHaveLength(1);
    expect(sts.calls()).toHaveLength(0);
  });

  test('a release role that is not an IAM role ARN is a defect of the caller: thrown, nothing called', async () => {
    await expect(
      handler({
        action: 'start',
        request: request(),
        releaseRoleArn: 'arn:aws:iam::222222222222:user/alice',
      }),
    ).rejects.toThrow(/with an IAM role ARN as releaseRoleArn or none/);
    expect([...awsCalls(), ...sts.calls()]).toEqual([]);
  });
});
