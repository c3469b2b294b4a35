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
import { handler, ReleaseStepEvent } from '../../lambda/release-step';
import type { ReleaseRequest } from '../../lambda/shared/release';
import { XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';

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

/**
 * The state machine's start event for a champion release of `request`: the target (its pointer
 * names) and the change CheckInput returned.
 */
const start = (r: ReleaseRequest, releaseRoleArn?: string): ReleaseStepEvent => {
  const { modelPackageArn, ...target } = r;
  return {
    action: 'start',
    target,
    release: {
      kind: 'champion',
      modelPackageArn,
      variant: null,
      weightPercent: null,
      description: modelPackageArn,
    },
    ...(releaseRoleArn ? { releaseRoleArn } : {}),
  };
};

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
    const error = await handler(start(request({ modelPackageGroupName: 'trips-duration' }))).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ReleaseRefused');
    expect((error as Error).message).toMatch(
      /^\[wrong-model-group\] model package '.*' belongs to group 'trips-fare'/,
    );
    expect(awsCalls()).toEqual([]);
  });

  test('a package pending approval is refused and nothing is written', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage('PendingManualApproval'));
    const error = (await handler(start(request())).catch((e: Error) => e)) as Error;
    expect(error.name).toBe('ReleaseRefused');
    expect(error.message).toMatch(/^\[model-package-not-approved\]/);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(cloudFormation.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  test.each([
    ['no action', {}],
    ['an unknown action', { action: 'rollback', target: request() }],
    ['a start without a target', { action: 'start', release: {} }],
    ['a start without the change', { action: 'start', target: request() }],
    ['a restore without a result', { action: 'restore', target: request() }],
    ['a check without a token', { action: 'check', token: {} }],
  ])('%s is a defect of the caller: thrown, naming the expected shape', async (_case, event) => {
    await expect(handler(event as never)).rejects.toThrow(
      /release step event must be \{"action":"plan","input":\{\.\.\.\}\}, \{"action":"start","target":\{\.\.\.\},"release":\{\.\.\.\}\}/,
    );
    expect(awsCalls()).toEqual([]);
  });

  test('an AWS failure other than a refusal is thrown as it is, for the state machine to retry or catch', async () => {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage('Approved'));
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [] });
    const error = (await handler(start(request())).catch((e: Error) => e)) as Error;
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
    await handler(start(requestIn('eu-north-1'), STAGING_ROLE)).catch(() => undefined);
    // THEN the package was read with the credentials of a session of that role, named after the model
    const [describe] = sageMaker.commandCalls(DescribeModelPackageCommand);
    expect(await keyOf(describe)).toBe('ASIASTAGING');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: STAGING_ROLE, RoleSessionName: 'release-fare-amount' },
    ]);
  });

  test("each role gets its own clients, kept across invocations: a second target's calls use its own session", async () => {
    for (const role of [STAGING_ROLE, PROD_ROLE, STAGING_ROLE]) {
      await handler(start(requestIn('eu-south-1'), role)).catch(() => undefined);
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
    await handler(start(requestIn('us-west-2'))).catch(() => undefined);
    expect(sageMaker.commandCalls(DescribeModelPackageCommand)).toHaveLength(1);
    expect(sts.calls()).toHaveLength(0);
  });

  test('a release role that is not an IAM role ARN is a defect of the caller: thrown, nothing called', async () => {
    await expect(handler(start(request(), 'arn:aws:iam::222222222222:user/alice'))).rejects.toThrow(
      /with an IAM role ARN as releaseRoleArn or none/,
    );
    expect([...awsCalls(), ...sts.calls()]).toEqual([]);
  });
});

describe('release step handler: the execution input, checked before anything is touched', () => {
  const NEW = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips-fare/8';

  test.each<[string, unknown, Record<string, unknown>]>([
    [
      "an approval's input: the champion",
      { modelPackageArn: ARN, modelPackageGroupName: 'trips-fare', modelPackageVersion: 7, eventId: 'e-1' },
      { kind: 'champion', modelPackageArn: ARN, variant: null, weightPercent: null, description: ARN },
    ],
    [
      'a challenger with its share',
      { modelPackageArn: NEW, variant: 'challenger', weightPercent: 10 },
      {
        kind: 'variant',
        modelPackageArn: NEW,
        variant: 'challenger',
        weightPercent: 10,
        description: `${NEW} as the challenger, at 10% of the requests`,
      },
    ],
    [
      'a new share alone',
      { variant: 'shadow', weightPercent: 0 },
      { kind: 'variant', modelPackageArn: null, variant: 'shadow', weightPercent: 0 },
    ],
    [
      'a promotion, of the challenger by default',
      { promote: true },
      { kind: 'promote', variant: 'challenger', modelPackageArn: null, weightPercent: null },
    ],
    ['a stop', { stopVariant: 'shadow' }, { kind: 'stop', variant: 'shadow', modelPackageArn: null }],
  ])('%s', async (_case, input, change) => {
    await expect(handler({ action: 'plan', input })).resolves.toMatchObject(change);
    expect(awsCalls()).toEqual([]);
  });

  test.each<[string, unknown, RegExp]>([
    ['no package', {}, /names no modelPackageArn/],
    ['a misspelt field', { modelPackageArn: NEW, varient: 'challenger' }, /has unknown field 'varient'/],
    [
      'another variant',
      { modelPackageArn: NEW, variant: 'canary' },
      /has variant 'canary', which is not 'challenger' or 'shadow'/,
    ],
    [
      'a weight without a variant',
      { modelPackageArn: NEW, weightPercent: 20 },
      /has weightPercent but no variant/,
    ],
    [
      'a weight beyond 100',
      { variant: 'challenger', weightPercent: 120 },
      /weightPercent '120', not a whole number from 0 to 100/,
    ],
    ['a fractional weight', { variant: 'challenger', weightPercent: 12.5 }, /weightPercent '12.5'/],
    [
      'a variant with nothing to do',
      { variant: 'challenger' },
      /names the challenger but neither modelPackageArn nor weightPercent/,
    ],
    [
      'a promotion with a package',
      { promote: true, modelPackageArn: NEW },
      /promotes, and gives modelPackageArn too/,
    ],
    ['promote as a string', { promote: 'yes' }, /has promote 'yes': give true/],
    [
      'a stop with a weight',
      { stopVariant: 'challenger', weightPercent: 0 },
      /stops the challenger, and gives weightPercent too/,
    ],
    [
      'a group ARN',
      { modelPackageArn: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/trips-fare' },
      /invalid modelPackageArn \(.*names a model package group/,
    ],
    ['not an object', 'arn', /is 'arn', not an object/],
  ])(
    '%s fails as InvalidReleaseInput, naming the field and the accepted shapes',
    async (_case, input, message) => {
      const error = (await handler({ action: 'plan', input }).catch((e: Error) => e)) as Error;
      expect(error.name).toBe('InvalidReleaseInput');
      expect(error.message).toMatch(message);
      expect(error.message).toContain('{"promote": true, "variant"?: "challenger"|"shadow"}');
      expect(awsCalls()).toEqual([]);
    },
  );
});

describe('release step handler: variants, through one multi-pointer release per environment', () => {
  const NEW = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips-fare/8';
  const CHALLENGER = '/mlops/staging/serving/fare-amount/variants/challenger/model-package-arn';
  const WEIGHT = '/mlops/staging/serving/fare-amount/variants/challenger/weight';
  const target = { ...request(), modelPackageArn: undefined };
  const withVariants = {
    ...target,
    variants: { challenger: { pointerName: CHALLENGER, weightName: WEIGHT } },
  };
  const values: Record<string, string> = {};

  beforeEach(() => {
    Object.assign(values, { [POINTER]: ARN, [CHALLENGER]: NEW, [WEIGHT]: '10' });
    ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => ({
      Parameter: { Name: input.Name, Type: 'String', Value: values[input.Name] },
    }));
    ssm.on(PutParameterCommand).resolves({ Version: 2 });
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage('Approved'));
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/staging-Platform/1',
          StackName: 'staging-Platform',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date('2026-11-30T10:00:00Z'),
          Parameters: [POINTER, CHALLENGER, WEIGHT].map((name, i) => ({
            ParameterKey: `P${i}`,
            ParameterValue: name,
            ResolvedValue: values[name],
          })),
        },
      ],
    });
    cloudFormation.on(UpdateStackCommand).resolves({ StackId: 'id' });
  });

  const writes = () =>
    ssm.commandCalls(PutParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.Value]);
  const change = async (input: unknown) => handler({ action: 'plan', input });

  test("a promotion: the champion's pointer takes the challenger's package, then the challenger's is none, one update", async () => {
    const step = await handler({
      action: 'start',
      target: withVariants,
      release: await change({ promote: true }),
    });
    expect(step.status).toBe('updating');
    expect(writes()).toEqual([
      [POINTER, NEW],
      [CHALLENGER, 'none'],
    ]);
    expect(cloudFormation.commandCalls(UpdateStackCommand)).toHaveLength(1);
  });

  test('a new share for the challenger writes only its weight', async () => {
    await handler({
      action: 'start',
      target: withVariants,
      release: await change({ variant: 'challenger', weightPercent: 40 }),
    });
    expect(writes()).toEqual([[WEIGHT, '40']]);
  });

  test('a variant the environment does not offer is refused, nothing read or written', async () => {
    const error = (await handler({
      action: 'start',
      target: withVariants,
      release: await change({ stopVariant: 'shadow' }),
    }).catch((e: Error) => e)) as Error;
    expect(error.name).toBe('ReleaseRefused');
    expect(error.message).toMatch(
      /^\[unknown-variant\] the serving slot in stack staging-Platform offers no shadow variant/,
    );
    expect(awsCalls()).toEqual([]);
  });

  test('a restore writes back every pointer the release changed, the weight as a number', async () => {
    // GIVEN a challenger release that changed the challenger's package and weight, then found unhealthy
    Object.assign(values, { [CHALLENGER]: NEW, [WEIGHT]: '30' });
    const result = {
      status: 'released' as const,
      previous: 'none',
      current: NEW,
      pointerName: CHALLENGER,
      stackName: 'staging-Platform',
      stackUpdated: true,
      pointers: [
        { pointerName: CHALLENGER, previous: 'none', current: NEW },
        { pointerName: WEIGHT, previous: '10', current: '30' },
        { pointerName: POINTER, previous: ARN, current: ARN },
      ],
    };
    // WHEN
    await handler({ action: 'restore', target: withVariants, result });
    // THEN only the changed pointers are written, back to their values before
    expect(writes()).toEqual([
      [CHALLENGER, 'none'],
      [WEIGHT, '10'],
    ]);
  });
});
