import {
  CloudFormationClient,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
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
