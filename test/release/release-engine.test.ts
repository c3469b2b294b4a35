import { XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';
import {
  CancelUpdateStackCommand,
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  Stack,
  StackEvent,
  StackStatus,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeModelPackageCommand,
  DescribeModelPackageCommandOutput,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import {
  checkRelease,
  PointersReleaseRequest,
  ReleaseDependencies,
  ReleaseError,
  releaseModel,
  ReleaseRequest,
  ReleaseToken,
  startRelease,
} from '../../lambda/shared/release';

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/3';
const OLD_ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/2';
const POINTER = '/mlops/dev/serving/trip-duration/model-package-arn';
const STACK = 'dev-Platform';
const STACK_ID = `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK}/8c3b4f10-2f0a-11f1-9d6e-0a1b2c3d4e5f`;

const ssm = mockClient(SSMClient);
const sageMaker = mockClient(SageMakerClient);
const cloudFormation = mockClient(CloudFormationClient);

// The response shapes below follow the API references of DescribeModelPackage, GetParameter,
// DescribeStacks and DescribeStackEvents.
function modelPackage(
  overrides: Partial<DescribeModelPackageCommandOutput> = {},
): Partial<DescribeModelPackageCommandOutput> {
  return {
    ModelPackageName: 'taxi-duration',
    ModelPackageGroupName: 'taxi-duration',
    ModelPackageVersion: 3,
    ModelPackageArn: ARN,
    CreationTime: new Date('2026-11-20T10:00:00Z'),
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
    ModelApprovalStatus: 'Approved',
    InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
    ...overrides,
  };
}

function pointerValue(value: string) {
  return {
    Parameter: {
      Name: POINTER,
      Type: 'String' as const,
      Value: value,
      Version: 4,
      LastModifiedDate: new Date('2026-11-20T10:00:00Z'),
      ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${POINTER}`,
      DataType: 'text',
    },
  };
}

function stack(status: StackStatus, resolved = 'none', reason?: string): { Stacks: Stack[] } {
  return {
    Stacks: [
      {
        StackId: STACK_ID,
        StackName: STACK,
        CreationTime: new Date('2026-11-19T09:00:00Z'),
        StackStatus: status,
        StackStatusReason: reason,
        Parameters: [
          // On AWS, ParameterValue of an SSM-typed parameter is the SSM parameter's name.
          {
            ParameterKey: 'Level2ServingModelPackageArnC0FFEE12',
            ParameterValue: POINTER,
            ResolvedValue: resolved,
          },
          {
            ParameterKey: 'BootstrapVersion',
            ParameterValue: '/cdk-bootstrap/hnb659fds/version',
            ResolvedValue: '30',
          },
        ],
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
      },
    ],
  };
}

function event(
  token: string,
  logicalId: string,
  status: string,
  reason?: string,
  type = 'AWS::SageMaker::Endpoint',
): StackEvent {
  return {
    StackId: STACK_ID,
    StackName: STACK,
    EventId: `${logicalId}-${status}`,
    LogicalResourceId: logicalId,
    ResourceType: logicalId === STACK ? 'AWS::CloudFormation::Stack' : type,
    ResourceStatus: status as StackEvent['ResourceStatus'],
    ResourceStatusReason: reason,
    Timestamp: new Date('2026-11-23T09:00:00Z'),
    ClientRequestToken: token,
  };
}

function awsError<T extends Error>(
  Exception: new (options: { name: string; $fault: 'client'; $metadata: object; message: string }) => T,
  name: string,
  message: string,
): T {
  return new Exception({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

const noSuchStack = () =>
  awsError(CloudFormationServiceException, 'ValidationError', `Stack with id ${STACK} does not exist`);

let logLines: string[];
let sleep: jest.Mock<Promise<void>, [number]>;

function deps(overrides: Partial<ReleaseDependencies> = {}): ReleaseDependencies {
  const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  return {
    ssm: new SSMClient(clientConfig),
    sageMaker: new SageMakerClient(clientConfig),
    cloudFormation: new CloudFormationClient(clientConfig),
    log: (line) => logLines.push(line),
    sleep,
    pollIntervalMs: 15_000,
    ...overrides,
  };
}

function request(overrides: Partial<ReleaseRequest> = {}): ReleaseRequest {
  return {
    modelPackageArn: ARN,
    stackName: STACK,
    pointerName: POINTER,
    region: 'us-east-1',
    deployCommand: "npx cdk deploy 'dev/*'",
    ...overrides,
  };
}

/** An environment that serves nothing yet, with an approved package to release. */
function givenReleasable(pointer = 'none') {
  sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage());
  ssm.on(GetParameterCommand).resolves(pointerValue(pointer));
  ssm.on(PutParameterCommand).resolves({ Version: 5, Tier: 'Standard' });
  cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });
}

/** DescribeStacks answers: first the check before the release, then one per poll. */
function givenStackStatuses(...statuses: Array<{ Stacks: Stack[] }>) {
  let mock = cloudFormation.on(DescribeStacksCommand);
  for (const s of statuses.slice(0, -1)) {
    mock = mock.resolvesOnce(s);
  }
  mock.resolves(statuses[statuses.length - 1]);
}

const pointerWrites = () => ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
const stackUpdates = () => cloudFormation.commandCalls(UpdateStackCommand).map((c) => c.args[0].input);
const updateToken = () => stackUpdates()[0]?.ClientRequestToken ?? '';

async function releaseError(promise: Promise<unknown>): Promise<ReleaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReleaseError);
  return error as ReleaseError;
}

beforeEach(() => {
  ssm.reset();
  sageMaker.reset();
  cloudFormation.reset();
  logLines = [];
  sleep = jest.fn(async (_ms: number) => undefined);
});

describe('releaseModel: success', () => {
  test('validates everything, then writes the pointer and updates the stack with its previous template', async () => {
    // GIVEN
    givenReleasable();
    givenStackStatuses(
      stack('CREATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE', ARN),
    );

    // WHEN
    const result = await releaseModel(request(), deps());

    // THEN
    expect(result).toEqual({
      status: 'released',
      previous: 'none',
      current: ARN,
      pointerName: POINTER,
      stackName: STACK,
      stackStatus: 'UPDATE_COMPLETE',
      stackUpdated: true,
    });
    expect(pointerWrites()).toEqual([{ Name: POINTER, Value: ARN, Type: 'String', Overwrite: true }]);
    const write = ssm.commandCalls(PutParameterCommand)[0];
    expect(write.calledAfter(sageMaker.commandCalls(DescribeModelPackageCommand)[0])).toBe(true);
    expect(write.calledAfter(ssm.commandCalls(GetParameterCommand)[0])).toBe(true);
    expect(write.calledAfter(cloudFormation.commandCalls(DescribeStacksCommand)[0])).toBe(true);
    expect(cloudFormation.commandCalls(UpdateStackCommand)[0].calledAfter(write)).toBe(true);
    expect(stackUpdates()).toEqual([
      {
        StackName: STACK,
        UsePreviousTemplate: true,
        Parameters: [
          { ParameterKey: 'Level2ServingModelPackageArnC0FFEE12', UsePreviousValue: true },
          { ParameterKey: 'BootstrapVersion', UsePreviousValue: true },
        ],
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
        DisableRollback: false,
        ClientRequestToken: expect.stringMatching(/^release-[0-9a-f-]{36}$/),
      },
    ]);
    expect(sleep.mock.calls).toEqual([[15_000], [15_000], [15_000]]);
    expect(logLines).toEqual(
      expect.arrayContaining([
        `Pointer ${POINTER}: none (no model released) -> ${ARN}`,
        `Stack ${STACK}: UPDATE_IN_PROGRESS`,
        `Stack ${STACK}: UPDATE_COMPLETE`,
      ]),
    );
  });

  test("a package of the slot's model package group is released; the group is compared case-insensitively", async () => {
    // GIVEN a slot serving group Taxi-Duration, whose package ARNs name it taxi-duration
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'), stack('UPDATE_COMPLETE', ARN));

    // WHEN
    const result = await releaseModel(request({ modelPackageGroupName: 'Taxi-Duration' }), deps());

    // THEN
    expect(result).toMatchObject({ status: 'released', current: ARN, stackUpdated: true });
    expect(pointerWrites()).toEqual([expect.objectContaining({ Name: POINTER, Value: ARN })]);
  });

  test('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS is success: the update can no longer roll back', async () => {
    givenReleasable(OLD_ARN);
    givenStackStatuses(stack('UPDATE_COMPLETE', OLD_ARN), stack('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', ARN));

    const result = await releaseModel(request(), deps());

    expect(result).toMatchObject({
      status: 'released',
      previous: OLD_ARN,
      stackStatus: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
    });
    expect(pointerWrites()).toEqual([expect.objectContaining({ Value: ARN })]);
  });

  test('a pointer that already names the package is left alone: no write, no stack update', async () => {
    givenReleasable(ARN);
    givenStackStatuses(stack('UPDATE_COMPLETE', ARN));

    const result = await releaseModel(request(), deps());

    expect(result).toMatchObject({ status: 'unchanged', previous: ARN, current: ARN, stackUpdated: false });
    expect(pointerWrites()).toEqual([]);
    expect(stackUpdates()).toEqual([]);
  });

  test('a pointer that names the package while the stack still serves another updates the stack without writing', async () => {
    // An earlier release wrote the pointer, then its update was interrupted and rolled back.
    givenReleasable(ARN);
    givenStackStatuses(stack('UPDATE_ROLLBACK_COMPLETE', OLD_ARN), stack('UPDATE_COMPLETE', ARN));

    const result = await releaseModel(request(), deps());

    expect(result).toMatchObject({ status: 'released', stackUpdated: true });
    expect(pointerWrites()).toEqual([]);
    expect(stackUpdates()).toHaveLength(1);
  });

  test('CloudFormation\'s "No updates are to be performed" is success, and the pointer stays written', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    cloudFormation
      .on(UpdateStackCommand)
      .rejects(
        awsError(CloudFormationServiceException, 'ValidationError', 'No updates are to be performed.'),
      );

    const result = await releaseModel(request(), deps());

    expect(result).toMatchObject({ status: 'released', stackUpdated: false, current: ARN });
    expect(pointerWrites()).toEqual([expect.objectContaining({ Value: ARN })]);
    expect(sleep).not.toHaveBeenCalled();
  });
});

describe('releaseModel: refused before anything is written', () => {
  function expectNothingWritten() {
    expect(pointerWrites()).toEqual([]);
    expect(stackUpdates()).toEqual([]);
  }

  test.each([
    [
      'not an ARN',
      'taxi-duration/3',
      /is not a model package version ARN: use arn:<partition>:sagemaker:<region>:<account>:model-package\/<group>\/<version>/,
    ],
    [
      'a model package group',
      'arn:aws:sagemaker:us-east-1:123456789012:model-package-group/taxi-duration',
      /names a model package group, not one of its versions: .*--model-package-group-name taxi-duration/,
    ],
    [
      'an unversioned model package',
      'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration',
      /names an unversioned model package/,
    ],
    [
      'another resource type',
      'arn:aws:sagemaker:us-east-1:123456789012:endpoint/taxi-dev',
      /is not a model package version ARN/,
    ],
    [
      'a version 0',
      'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/0',
      /is not a model package version ARN/,
    ],
  ])('a malformed ARN (%s)', async (_, arn, message) => {
    const error = await releaseError(releaseModel(request({ modelPackageArn: arn }), deps()));
    expect(error.code).toBe('invalid-model-package-arn');
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`'${arn}'`);
    expect(sageMaker.calls()).toHaveLength(0);
    expectNothingWritten();
  });

  test("a package from another region than the stack's", async () => {
    const error = await releaseError(releaseModel(request({ region: 'eu-west-1' }), deps()));
    expect(error.code).toBe('region-mismatch');
    expect(error.message).toMatch(
      /model package ARN '.*' is in region us-east-1, but stack dev-Platform is in eu-west-1: .*register the model in eu-west-1/,
    );
    expect(sageMaker.calls()).toHaveLength(0);
    expectNothingWritten();
  });

  test("a package of another model package group than the slot's: no AWS call at all", async () => {
    // GIVEN a slot that serves group fare-amount, and a package of group taxi-duration
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));

    // WHEN
    const error = await releaseError(releaseModel(request({ modelPackageGroupName: 'fare-amount' }), deps()));

    // THEN
    expect(error.code).toBe('wrong-model-group');
    expect(error.message).toBe(
      `model package '${ARN}' belongs to group 'taxi-duration', but the slot reading ${POINTER} ` +
        `(stack ${STACK}) serves group 'fare-amount': release a version of 'fare-amount'; nothing was changed`,
    );
    expect(sageMaker.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test.each([[''], ['fare/amount'], [42]])(
    'a modelPackageGroupName that names no group (%p): no AWS call at all',
    async (modelPackageGroupName) => {
      const error = await releaseError(
        releaseModel(request({ modelPackageGroupName: modelPackageGroupName as string }), deps()),
      );
      expect(error.code).toBe('invalid-request');
      expect(error.message).toMatch(/^modelPackageGroupName .* is invalid: name the model package group/);
      expect(sageMaker.calls()).toHaveLength(0);
      expect(ssm.calls()).toHaveLength(0);
      expect(cloudFormation.calls()).toHaveLength(0);
    },
  );

  test('a package that does not exist', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    sageMaker
      .on(DescribeModelPackageCommand)
      .rejects(
        awsError(SageMakerServiceException, 'ValidationException', `ModelPackage ${ARN} does not exist.`),
      );

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('model-package-not-found');
    expect(error.message).toMatch(
      new RegExp(
        `^model package '${ARN}' does not exist: check the ARN \\(aws sagemaker list-model-packages --model-package-group-name taxi-duration\\)`,
      ),
    );
    expectNothingWritten();
  });

  test('a package that is not Approved: says its status and how to approve it', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    sageMaker
      .on(DescribeModelPackageCommand)
      .resolves(modelPackage({ ModelApprovalStatus: 'PendingManualApproval' }));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('model-package-not-approved');
    expect(error.message).toContain(`model package '${ARN}' is PendingManualApproval, not Approved`);
    expect(error.message).toContain(
      `aws sagemaker update-model-package --model-package-arn ${ARN} --model-approval-status Approved`,
    );
    expectNothingWritten();
  });

  test('a package SageMaker has not finished registering', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage({ ModelPackageStatus: 'InProgress' }));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('model-package-not-ready');
    expect(error.message).toMatch(/is InProgress, not Completed/);
    expectNothingWritten();
  });

  test('a missing pointer: deploy the environment first', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    ssm
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ $metadata: { httpStatusCode: 400 }, message: '' }));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('not-deployed');
    expect(error.message).toBe(
      `release pointer ${POINTER} does not exist in us-east-1: deploy the environment first: npx cdk deploy 'dev/*'`,
    );
    expectNothingWritten();
  });

  test('a missing stack: deploy the environment first', async () => {
    givenReleasable();
    cloudFormation.on(DescribeStacksCommand).rejects(noSuchStack());

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('not-deployed');
    expect(error.message).toBe(
      `stack ${STACK} does not exist in us-east-1: deploy the environment first: npx cdk deploy 'dev/*'`,
    );
    expectNothingWritten();
  });

  test.each(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'CREATE_IN_PROGRESS'] as const)(
    'a busy stack (%s) is refused',
    async (status) => {
      givenReleasable();
      givenStackStatuses(stack(status));

      const error = await releaseError(releaseModel(request(), deps()));

      expect(error.code).toBe('stack-busy');
      expect(error.message).toMatch(
        new RegExp(`^stack ${STACK} is ${status}: another operation is running on it; nothing was changed`),
      );
      expectNothingWritten();
    },
  );

  test('a stack that only has a change set (REVIEW_IN_PROGRESS) was never deployed', async () => {
    givenReleasable();
    givenStackStatuses(stack('REVIEW_IN_PROGRESS'));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('not-deployed');
    expect(error.message).toMatch(
      /was never deployed; deploy the environment first: npx cdk deploy 'dev\/\*'$/,
    );
    expectNothingWritten();
  });

  test('a stack whose creation failed cannot be updated: says to delete and redeploy it', async () => {
    givenReleasable();
    givenStackStatuses(
      stack('ROLLBACK_COMPLETE', 'none', 'The following resource(s) failed to create: [Store]'),
    );

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('stack-not-updatable');
    expect(error.message).toMatch(
      /is ROLLBACK_COMPLETE \(The following resource\(s\) failed to create: \[Store\]\)/,
    );
    expect(error.message).toMatch(
      /aws cloudformation delete-stack --stack-name dev-Platform\) and deploy the environment again/,
    );
    expectNothingWritten();
  });

  test('a stack that does not read the pointer is refused: updating it would serve nothing new', async () => {
    // GIVEN a stack whose SSM-typed parameter reads another slot's pointer
    givenReleasable();
    const other = stack('CREATE_COMPLETE');
    other.Stacks[0].Parameters![0] = {
      ParameterKey: 'Level2ServingModelPackageArnC0FFEE12',
      ParameterValue: '/mlops/dev/serving/shadow/model-package-arn',
      ResolvedValue: 'none',
    };
    givenStackStatuses(other);

    // WHEN
    const error = await releaseError(releaseModel(request(), deps()));

    // THEN
    expect(error.code).toBe('pointer-not-read');
    expect(error.message).toMatch(
      new RegExp(
        `^stack ${STACK} does not read release pointer ${POINTER}: none of its parameters has that value ` +
          '\\(Level2ServingModelPackageArnC0FFEE12=/mlops/dev/serving/shadow/model-package-arn, ' +
          'BootstrapVersion=/cdk-bootstrap/hnb659fds/version\\), so updating it would not serve the package; nothing was changed',
      ),
    );
    expectNothingWritten();
  });

  test("a stack of another account than the target's is refused (credentials for the wrong account)", async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));

    const error = await releaseError(releaseModel(request({ account: '210987654321' }), deps()));

    expect(error.code).toBe('account-mismatch');
    expect(error.message).toBe(
      `stack ${STACK} found in us-east-1 belongs to account 123456789012, but the target is in account ` +
        '210987654321: use credentials for account 210987654321; nothing was changed',
    );
    expectNothingWritten();
  });

  test.each([
    ['an empty stack name', { stackName: '' }, /^stackName '' is invalid: name the target's stackName$/],
    ['a missing pointer name', { pointerName: undefined }, /^pointerName \(undefined\) is invalid/],
    ['a malformed region', { region: 'Europe' }, /^region 'Europe' is invalid: use an AWS region name/],
  ])('a request with %s is refused before any call', async (_, overrides, message) => {
    const error = await releaseError(
      releaseModel({ ...request(), ...overrides } as unknown as ReleaseRequest, deps()),
    );
    expect(error.code).toBe('invalid-request');
    expect(error.message).toMatch(message);
    expect(sageMaker.calls()).toHaveLength(0);
    expectNothingWritten();
  });

  test('without a deploy command, a missing pointer asks to deploy the stack and its pointer', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    ssm
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ $metadata: { httpStatusCode: 400 }, message: '' }));

    const error = await releaseError(releaseModel(request({ deployCommand: undefined }), deps()));

    expect(error.message).toBe(
      `release pointer ${POINTER} does not exist in us-east-1: deploy the stack and its release pointer first`,
    );
  });

  test('denied access names the IAM action to allow', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    sageMaker
      .on(DescribeModelPackageCommand)
      .rejects(awsError(SageMakerServiceException, 'AccessDeniedException', 'User is not authorized'));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('aws-error');
    expect(error.message).toMatch(
      /AccessDeniedException: User is not authorized: allow sagemaker:DescribeModelPackage/,
    );
    expectNothingWritten();
  });
});

describe('releaseModel: a failed update restores the pointer', () => {
  test('UPDATE_ROLLBACK_COMPLETE: restores the previous value and names the first failed resource', async () => {
    givenReleasable(OLD_ARN);
    givenStackStatuses(
      stack('UPDATE_COMPLETE', OLD_ARN),
      stack('UPDATE_IN_PROGRESS', OLD_ARN),
      stack('UPDATE_ROLLBACK_IN_PROGRESS', OLD_ARN),
      stack('UPDATE_ROLLBACK_COMPLETE', OLD_ARN),
    );
    cloudFormation.on(DescribeStackEventsCommand).callsFake(() => ({
      // Newest first, as DescribeStackEvents returns them.
      StackEvents: [
        event(updateToken(), STACK, 'UPDATE_ROLLBACK_COMPLETE'),
        event(
          updateToken(),
          'ServingModel',
          'UPDATE_FAILED',
          'Resource update cancelled',
          'AWS::SageMaker::Model',
        ),
        event(
          updateToken(),
          'ServingEndpoint',
          'UPDATE_FAILED',
          'Resource handler returned message: "Endpoint failed health check" (HandlerErrorCode: GeneralServiceException)',
        ),
        event(updateToken(), STACK, 'UPDATE_IN_PROGRESS', 'User Initiated'),
        event('an-earlier-deployment', 'Store', 'CREATE_FAILED', 'an older failure'),
      ],
    }));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.code).toBe('update-failed');
    expect(error.pointerRestored).toBe(true);
    expect(error.message).toBe(
      `the update of stack ${STACK} ended in UPDATE_ROLLBACK_COMPLETE (ServingEndpoint (AWS::SageMaker::Endpoint): ` +
        'Resource handler returned message: "Endpoint failed health check" (HandlerErrorCode: GeneralServiceException)). ' +
        `The pointer ${POINTER} was restored to ${OLD_ARN}. ` +
        `See the stack's events: aws cloudformation describe-stack-events --stack-name ${STACK}`,
    );
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, OLD_ARN]);
    const [write, restore] = ssm.commandCalls(PutParameterCommand);
    expect(restore.calledAfter(cloudFormation.commandCalls(DescribeStacksCommand).at(-1)!)).toBe(true);
    expect(write.calledBefore(cloudFormation.commandCalls(UpdateStackCommand)[0])).toBe(true);
  });

  test('a *_FAILED end without events: restores and reports the stack status reason', async () => {
    givenReleasable();
    givenStackStatuses(
      stack('CREATE_COMPLETE'),
      stack(
        'UPDATE_ROLLBACK_FAILED',
        'none',
        'The following resource(s) failed to update: [ServingEndpoint].',
      ),
    );
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.message).toMatch(
      /ended in UPDATE_ROLLBACK_FAILED \(The following resource\(s\) failed to update: \[ServingEndpoint\]\.\)\. The pointer .* was restored to none\./,
    );
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, 'none']);
  });

  test('a timeout cancels the update, so it rolls back, and restores the pointer', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'));
    cloudFormation.on(CancelUpdateStackCommand).resolves({});
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    const error = await releaseError(
      releaseModel(request(), deps({ pollIntervalMs: 60_000, timeoutMs: 5 * 60_000 })),
    );

    expect(error.code).toBe('update-failed');
    expect(error.message).toMatch(
      new RegExp(
        `^the update of stack ${STACK} did not finish within 5 minutes \\(it is UPDATE_IN_PROGRESS; the release cancelled it, so it rolls back\\)\\. The pointer ${POINTER} was restored to none\\.`,
      ),
    );
    expect(sleep).toHaveBeenCalledTimes(5);
    expect(cloudFormation.commandCalls(CancelUpdateStackCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK },
    ]);
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, 'none']);
  });

  test('a timeout whose cancel fails says the stack may still complete', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'));
    cloudFormation
      .on(CancelUpdateStackCommand)
      .rejects(awsError(CloudFormationServiceException, 'AccessDenied', 'not authorized to cancel'));
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    const error = await releaseError(releaseModel(request(), deps({ timeoutMs: 30_000 })));

    expect(error.message).toMatch(
      /did not finish within 30 seconds \(it is UPDATE_IN_PROGRESS; cancelling it failed: should it still complete, the stack serves .* while the pointer does not: release again once it has finished\)\. The pointer .* was restored to none\./,
    );
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, 'none']);
  });

  test('an UpdateStack call that CloudFormation refuses restores the pointer', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    cloudFormation
      .on(UpdateStackCommand)
      .rejects(
        awsError(
          CloudFormationServiceException,
          'ValidationError',
          `Stack:${STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated.`,
        ),
      );

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.message).toMatch(
      /^updating stack dev-Platform was refused: ValidationError: .* can not be updated\. The pointer .* was restored to none\.$/,
    );
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, 'none']);
  });

  test('when the restore fails too, says how to set the pointer back by hand', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'), stack('UPDATE_ROLLBACK_COMPLETE'));
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    ssm
      .on(PutParameterCommand)
      .resolvesOnce({ Version: 5 })
      .rejects(awsError(CloudFormationServiceException, 'ThrottlingException', 'Rate exceeded'));

    const error = await releaseError(releaseModel(request(), deps()));

    expect(error.pointerRestored).toBe(false);
    expect(error.message).toContain(
      `Restoring the pointer failed: set it back by hand: aws ssm put-parameter --name ${POINTER} --value none --type String --overwrite`,
    );
  });
});

describe('startRelease and checkRelease: one call per step', () => {
  /** What a state machine does between steps: the token travels as JSON. */
  const viaJson = (token: ReleaseToken): ReleaseToken => JSON.parse(JSON.stringify(token));

  test('startRelease writes the pointer, starts the update and returns a token without polling', async () => {
    // GIVEN
    givenReleasable(OLD_ARN);
    givenStackStatuses(stack('UPDATE_COMPLETE', OLD_ARN));

    // WHEN
    const step = await startRelease(request(), deps({ pollIntervalMs: 30_000, timeoutMs: 600_000 }));

    // THEN
    expect(step).toEqual({
      status: 'updating',
      token: {
        request: request(),
        previous: OLD_ARN,
        restoreTo: OLD_ARN,
        clientRequestToken: updateToken(),
        pollIntervalMs: 30_000,
        timeoutMs: 600_000,
        waitedMs: 0,
        lastStatus: '',
      },
    });
    expect(updateToken()).toMatch(/^release-[0-9a-f-]{36}$/);
    expect(pointerWrites()).toEqual([expect.objectContaining({ Value: ARN })]);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  test('startRelease of a package the pointer already names is done at once, without a token', async () => {
    givenReleasable(ARN);
    givenStackStatuses(stack('UPDATE_COMPLETE', ARN));

    const step = await startRelease(request(), deps());

    expect(step).toEqual({
      status: 'done',
      result: expect.objectContaining({ status: 'unchanged', stackUpdated: false }),
    });
    expect(stackUpdates()).toEqual([]);
  });

  test('each checkRelease reads the stack once: updating with the next token, then done', async () => {
    // GIVEN a started release
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    const started = await startRelease(request(), deps());
    if (started.status !== 'updating') {
      throw new Error(`expected an update, got ${started.status}`);
    }
    cloudFormation.reset();
    givenStackStatuses(stack('UPDATE_IN_PROGRESS'), stack('UPDATE_COMPLETE', ARN));

    // WHEN
    const first = await checkRelease(viaJson(started.token), deps());
    const second = first.status === 'updating' ? await checkRelease(viaJson(first.token), deps()) : undefined;

    // THEN
    expect(first).toEqual({
      status: 'updating',
      token: { ...started.token, waitedMs: 15_000, lastStatus: 'UPDATE_IN_PROGRESS' },
    });
    expect(second).toEqual({
      status: 'done',
      result: {
        status: 'released',
        previous: 'none',
        current: ARN,
        pointerName: POINTER,
        stackName: STACK,
        stackStatus: 'UPDATE_COMPLETE',
        stackUpdated: true,
      },
    });
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(2);
    expect(pointerWrites()).toEqual([expect.objectContaining({ Value: ARN })]);
    expect(sleep).not.toHaveBeenCalled();
  });

  test('a check that sees the rollback returns failed, after restoring the pointer, without throwing', async () => {
    givenReleasable(OLD_ARN);
    givenStackStatuses(stack('UPDATE_COMPLETE', OLD_ARN));
    const started = await startRelease(request(), deps());
    cloudFormation.reset();
    givenStackStatuses(stack('UPDATE_ROLLBACK_COMPLETE', OLD_ARN));
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    const step = await checkRelease(viaJson((started as { token: ReleaseToken }).token), deps());

    expect(step).toEqual({
      status: 'failed',
      failure: {
        code: 'update-failed',
        message: expect.stringMatching(
          new RegExp(
            `^the update of stack ${STACK} ended in UPDATE_ROLLBACK_COMPLETE\\. The pointer ${POINTER} was restored to ${OLD_ARN}\\.`,
          ),
        ),
        pointerRestored: true,
      },
    });
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, OLD_ARN]);
  });

  test('the timeout counts the checks: the one that reaches it cancels the update and restores the pointer', async () => {
    givenReleasable();
    givenStackStatuses(stack('CREATE_COMPLETE'));
    const started = await startRelease(request(), deps({ pollIntervalMs: 60_000, timeoutMs: 120_000 }));
    cloudFormation.reset();
    givenStackStatuses(stack('UPDATE_IN_PROGRESS'));
    cloudFormation.on(CancelUpdateStackCommand).resolves({});
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    const first = await checkRelease(viaJson((started as { token: ReleaseToken }).token), deps());
    expect(first).toMatchObject({ status: 'updating', token: { waitedMs: 60_000 } });
    expect(cloudFormation.commandCalls(CancelUpdateStackCommand)).toHaveLength(0);

    const second = await checkRelease(viaJson((first as { token: ReleaseToken }).token), deps());

    expect(second).toMatchObject({
      status: 'failed',
      failure: {
        message: expect.stringMatching(
          /^the update of stack dev-Platform did not finish within 2 minutes .*the release cancelled it/,
        ),
        pointerRestored: true,
      },
    });
    expect(cloudFormation.commandCalls(CancelUpdateStackCommand)).toHaveLength(1);
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, 'none']);
  });
});

describe('a serving-only CloudFormation role (cloudFormationRoleArn)', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/dev-serving-cfn';
  const withRole = (roleArn?: string) => {
    const shape = stack('CREATE_COMPLETE');
    return { Stacks: [{ ...shape.Stacks[0], RoleARN: roleArn }] };
  };

  test.each([
    ['that role', ROLE],
    // `cdk deploy` redeploys the serving stack with CDK's execution role between releases.
    [
      "CDK's execution role",
      'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1',
    ],
    ['no role', undefined],
  ])('a stack deployed with %s is updated through the serving role', async (_case, deployedWith) => {
    givenReleasable();
    givenStackStatuses(withRole(deployedWith), {
      Stacks: [{ ...withRole(ROLE).Stacks[0], StackStatus: 'UPDATE_COMPLETE' }],
    });
    await releaseModel(request({ cloudFormationRoleArn: ROLE }), deps());
    expect(stackUpdates()).toEqual([
      expect.objectContaining({ StackName: STACK, RoleARN: ROLE, UsePreviousTemplate: true }),
    ]);
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN]);
  });

  test('a role that is not an IAM role ARN is refused before any AWS call', async () => {
    const error = await releaseError(
      releaseModel(request({ cloudFormationRoleArn: 'arn:aws:iam::123456789012:user/alice' }), deps()),
    );
    expect(error.code).toBe('invalid-request');
    expect(error.message).toMatch(
      /^cloudFormationRoleArn 'arn:aws:iam::123456789012:user\/alice' is invalid: name an IAM role/,
    );
    expect([...ssm.calls(), ...sageMaker.calls(), ...cloudFormation.calls()]).toHaveLength(0);
  });
});

describe('releasing several pointers in one stack update (A/B and shadow variants)', () => {
  const CHALLENGER = '/mlops/dev/serving/trip-duration/variants/challenger/model-package-arn';
  const WEIGHT = '/mlops/dev/serving/trip-duration/variants/challenger/weight';

  /** A stack reading the champion's pointer, the challenger's and its weight, deployed with `resolved`. */
  function variantStack(status: StackStatus, resolved: Record<string, string>): { Stacks: Stack[] } {
    const base = stack(status, resolved[POINTER] ?? 'none').Stacks[0];
    return {
      Stacks: [
        {
          ...base,
          Parameters: [
            ...base.Parameters!,
            {
              ParameterKey: 'ServingChallengerModelPackageArn1A2B3C4D',
              ParameterValue: CHALLENGER,
              ResolvedValue: resolved[CHALLENGER] ?? 'none',
            },
            {
              ParameterKey: 'ServingChallengerWeight5E6F7A8B',
              ParameterValue: WEIGHT,
              ResolvedValue: resolved[WEIGHT] ?? '10',
            },
          ],
        },
      ],
    };
  }

  /** The pointers' values before the release, by name. */
  function givenPointers(values: Record<string, string>) {
    sageMaker.on(DescribeModelPackageCommand).resolves(modelPackage());
    for (const [name, value] of Object.entries(values)) {
      ssm
        .on(GetParameterCommand, { Name: name })
        .resolves({ Parameter: { ...pointerValue(value).Parameter, Name: name } });
    }
    ssm.on(PutParameterCommand).resolves({ Version: 5, Tier: 'Standard' });
    cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });
  }

  function pointersRequest(pointers: PointersReleaseRequest['pointers']): PointersReleaseRequest {
    return { stackName: STACK, region: 'us-east-1', deployCommand: "npx cdk deploy 'dev/*'", pointers };
  }

  test('starting a challenger checks its package, then writes its pointer and weight, then updates the stack once', async () => {
    // GIVEN a champion serving OLD_ARN and no challenger
    givenPointers({ [POINTER]: OLD_ARN, [CHALLENGER]: 'none', [WEIGHT]: '10' });
    givenStackStatuses(
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN }),
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN, [WEIGHT]: '25' }),
    );

    // WHEN
    const result = await releaseModel(
      pointersRequest([
        { pointerName: CHALLENGER, modelPackageArn: ARN },
        { pointerName: WEIGHT, weightPercent: 25 },
      ]),
      deps(),
    );

    // THEN
    expect(result).toEqual({
      status: 'released',
      previous: 'none',
      current: ARN,
      pointerName: CHALLENGER,
      stackName: STACK,
      stackStatus: 'UPDATE_COMPLETE',
      stackUpdated: true,
      pointers: [
        { pointerName: CHALLENGER, previous: 'none', current: ARN },
        { pointerName: WEIGHT, previous: '10', current: '25' },
      ],
    });
    expect(sageMaker.commandCalls(DescribeModelPackageCommand).map((c) => c.args[0].input)).toEqual([
      { ModelPackageName: ARN },
    ]);
    expect(pointerWrites()).toEqual([
      { Name: CHALLENGER, Value: ARN, Type: 'String', Overwrite: true },
      { Name: WEIGHT, Value: '25', Type: 'String', Overwrite: true },
    ]);
    const [first, second] = ssm.commandCalls(PutParameterCommand);
    expect(first.calledAfter(cloudFormation.commandCalls(DescribeStacksCommand)[0])).toBe(true);
    expect(first.calledAfter(sageMaker.commandCalls(DescribeModelPackageCommand)[0])).toBe(true);
    expect(cloudFormation.commandCalls(UpdateStackCommand)[0].calledAfter(second)).toBe(true);
    expect(stackUpdates()).toHaveLength(1);
    // The champion's pointer is read by the stack but not part of this release: never written.
    expect(pointerWrites().map((w) => w.Name)).not.toContain(POINTER);
  });

  test('changing the weight alone reads no model package and writes only the weight', async () => {
    givenPointers({ [WEIGHT]: '25' });
    givenStackStatuses(
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN, [WEIGHT]: '25' }),
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN, [WEIGHT]: '50' }),
    );

    const result = await releaseModel(pointersRequest([{ pointerName: WEIGHT, weightPercent: 50 }]), deps());

    expect(result).toMatchObject({ status: 'released', previous: '25', current: '50', stackUpdated: true });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(pointerWrites()).toEqual([expect.objectContaining({ Name: WEIGHT, Value: '50' })]);
  });

  test('stopping a variant writes none to its pointer, without reading a package', async () => {
    givenPointers({ [CHALLENGER]: ARN });
    givenStackStatuses(
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }),
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN }),
    );

    const result = await releaseModel(
      pointersRequest([{ pointerName: CHALLENGER, modelPackageArn: 'none' }]),
      deps(),
    );

    expect(result).toMatchObject({ status: 'released', previous: ARN, current: 'none' });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(pointerWrites()).toEqual([expect.objectContaining({ Name: CHALLENGER, Value: 'none' })]);
  });

  test("promoting: the champion's pointer takes the challenger's package and the challenger's becomes none, in one update", async () => {
    // GIVEN a champion serving OLD_ARN and a challenger serving ARN
    givenPointers({ [POINTER]: OLD_ARN, [CHALLENGER]: ARN });
    givenStackStatuses(
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }),
      variantStack('UPDATE_COMPLETE', { [POINTER]: ARN }),
    );

    // WHEN
    const result = await releaseModel(
      pointersRequest([
        { pointerName: POINTER, copyFrom: CHALLENGER },
        { pointerName: CHALLENGER, modelPackageArn: 'none' },
      ]),
      deps(),
    );

    // THEN the challenger's package is checked (still Approved) before anything is written
    expect(
      sageMaker.commandCalls(DescribeModelPackageCommand).map((c) => c.args[0].input.ModelPackageName),
    ).toEqual([ARN]);
    expect(pointerWrites().map((w) => [w.Name, w.Value])).toEqual([
      [POINTER, ARN],
      [CHALLENGER, 'none'],
    ]);
    expect(stackUpdates()).toHaveLength(1);
    expect(result.pointers).toEqual([
      { pointerName: POINTER, previous: OLD_ARN, current: ARN },
      { pointerName: CHALLENGER, previous: ARN, current: 'none' },
    ]);
  });

  test('promoting a challenger that serves nothing is refused before anything is written', async () => {
    givenPointers({ [POINTER]: OLD_ARN, [CHALLENGER]: 'none' });
    givenStackStatuses(variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN }));

    const error = await releaseError(
      releaseModel(
        pointersRequest([
          { pointerName: POINTER, copyFrom: CHALLENGER },
          { pointerName: CHALLENGER, modelPackageArn: 'none' },
        ]),
        deps(),
      ),
    );

    expect(error.code).toBe('variant-not-released');
    expect(error.message).toBe(
      `pointer ${CHALLENGER} names no model package (none), so ${POINTER} has nothing to take from it: ` +
        `release a package to ${CHALLENGER} first; nothing was changed`,
    );
    expect(pointerWrites()).toEqual([]);
    expect(stackUpdates()).toEqual([]);
  });

  test('a failed update restores every pointer written, after the last read of the stack', async () => {
    // GIVEN a promotion whose update rolls back
    givenPointers({ [POINTER]: OLD_ARN, [CHALLENGER]: ARN });
    givenStackStatuses(
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }),
      variantStack('UPDATE_IN_PROGRESS', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }),
      variantStack('UPDATE_ROLLBACK_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }),
    );
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    // WHEN
    const error = await releaseError(
      releaseModel(
        pointersRequest([
          { pointerName: POINTER, copyFrom: CHALLENGER },
          { pointerName: CHALLENGER, modelPackageArn: 'none' },
        ]),
        deps(),
      ),
    );

    // THEN
    expect(error.code).toBe('update-failed');
    expect(error.pointerRestored).toBe(true);
    expect(error.message).toBe(
      `the update of stack ${STACK} ended in UPDATE_ROLLBACK_COMPLETE. The pointer ${POINTER} was restored to ${OLD_ARN}. ` +
        `The pointer ${CHALLENGER} was restored to ${ARN}. ` +
        `See the stack's events: aws cloudformation describe-stack-events --stack-name ${STACK}`,
    );
    expect(pointerWrites().map((w) => [w.Name, w.Value])).toEqual([
      [POINTER, ARN],
      [CHALLENGER, 'none'],
      [POINTER, OLD_ARN],
      [CHALLENGER, ARN],
    ]);
    const writes = ssm.commandCalls(PutParameterCommand);
    const lastRead = cloudFormation.commandCalls(DescribeStacksCommand).at(-1)!;
    expect(writes[2].calledAfter(lastRead)).toBe(true);
    expect(writes[3].calledAfter(lastRead)).toBe(true);
    expect(writes[1].calledBefore(cloudFormation.commandCalls(UpdateStackCommand)[0])).toBe(true);
  });

  test('an UpdateStack call that CloudFormation refuses restores every pointer written', async () => {
    givenPointers({ [CHALLENGER]: 'none', [WEIGHT]: '10' });
    givenStackStatuses(variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN }));
    cloudFormation
      .on(UpdateStackCommand)
      .rejects(
        awsError(CloudFormationServiceException, 'ValidationError', 'Template error: Unable to get mapping'),
      );

    const error = await releaseError(
      releaseModel(
        pointersRequest([
          { pointerName: CHALLENGER, modelPackageArn: ARN },
          { pointerName: WEIGHT, weightPercent: 30 },
        ]),
        deps(),
      ),
    );

    expect(error.message).toBe(
      `updating stack ${STACK} was refused: ValidationError: Template error: Unable to get mapping. ` +
        `The pointer ${CHALLENGER} was restored to none. The pointer ${WEIGHT} was restored to 10.`,
    );
    expect(pointerWrites().map((w) => w.Value)).toEqual([ARN, '30', 'none', '10']);
  });

  test('when a second write fails, the first pointer is restored and the stack is not updated', async () => {
    givenPointers({ [CHALLENGER]: 'none', [WEIGHT]: '10' });
    givenStackStatuses(variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN }));
    ssm
      .on(PutParameterCommand)
      .resolvesOnce({ Version: 2 })
      .rejectsOnce(awsError(CloudFormationServiceException, 'AccessDeniedException', 'not allowed'))
      .resolves({ Version: 3 });

    const error = await releaseError(
      releaseModel(
        pointersRequest([
          { pointerName: CHALLENGER, modelPackageArn: ARN },
          { pointerName: WEIGHT, weightPercent: 30 },
        ]),
        deps(),
      ),
    );

    expect(error.code).toBe('aws-error');
    expect(error.pointerRestored).toBe(true);
    expect(error.message).toBe(
      `writing release pointer ${WEIGHT} failed: AccessDeniedException: not allowed: allow ssm:PutParameter to the ` +
        `caller (see docs/release.md, IAM permissions). The pointer ${CHALLENGER} was restored to none.`,
    );
    expect(pointerWrites().map((w) => [w.Name, w.Value])).toEqual([
      [CHALLENGER, ARN],
      [WEIGHT, '30'],
      [CHALLENGER, 'none'],
    ]);
    expect(stackUpdates()).toEqual([]);
  });

  test('pointers that already hold their values, as deployed, are unchanged: no write, no update', async () => {
    givenPointers({ [CHALLENGER]: ARN, [WEIGHT]: '25' });
    givenStackStatuses(
      variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN, [WEIGHT]: '25' }),
    );

    const result = await releaseModel(
      pointersRequest([
        { pointerName: CHALLENGER, modelPackageArn: ARN },
        { pointerName: WEIGHT, weightPercent: 25 },
      ]),
      deps(),
    );

    expect(result).toMatchObject({ status: 'unchanged', stackUpdated: false });
    expect(pointerWrites()).toEqual([]);
    expect(stackUpdates()).toEqual([]);
  });

  test('a weight pointer the stack does not read is refused before anything is written', async () => {
    givenPointers({ [CHALLENGER]: 'none', '/mlops/dev/serving/trip-duration/variants/shadow/weight': '10' });
    givenStackStatuses(variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN }));

    const error = await releaseError(
      releaseModel(
        pointersRequest([
          { pointerName: CHALLENGER, modelPackageArn: ARN },
          { pointerName: '/mlops/dev/serving/trip-duration/variants/shadow/weight', weightPercent: 30 },
        ]),
        deps(),
      ),
    );

    expect(error.code).toBe('pointer-not-read');
    expect(error.message).toMatch(
      /^stack dev-Platform does not read release pointer \/mlops\/dev\/serving\/trip-duration\/variants\/shadow\/weight:/,
    );
    expect(pointerWrites()).toEqual([]);
  });

  test.each([
    [
      [{ pointerName: WEIGHT, weightPercent: 12.5 }],
      /^weight '12\.5' of .*\/weight is invalid: give a whole percentage from 0 to 100$/,
    ],
    [[{ pointerName: WEIGHT, weightPercent: 101 }], /^weight '101' of .* is invalid/],
    [[{ pointerName: WEIGHT, weightPercent: '25' }], /^weight '25' of .* is invalid/],
    [
      [{ pointerName: CHALLENGER, modelPackageArn: ARN, weightPercent: 5 }],
      /give exactly one of modelPackageArn, weightPercent and copyFrom, not modelPackageArn and weightPercent$/,
    ],
    [
      [{ pointerName: CHALLENGER, modelPackageArn: 'taxi/3' }],
      /^model package ARN 'taxi\/3' is not a model package version ARN/,
    ],
    [
      [{ pointerName: CHALLENGER, copyFrom: CHALLENGER }],
      /^pointers\[0\]\.copyFrom .* is invalid: name another pointer/,
    ],
    [
      [
        { pointerName: WEIGHT, weightPercent: 1 },
        { pointerName: WEIGHT, weightPercent: 2 },
      ],
      /is named twice in pointers/,
    ],
    [[], /^pointers '\[\]' is invalid: give 1 to 10 pointers to write$/],
  ])('an invalid pointer list is refused before any AWS call (%#)', async (pointers, message) => {
    const error = await releaseError(
      releaseModel(pointersRequest(pointers as unknown as PointersReleaseRequest['pointers']), deps()),
    );
    expect(error.message).toMatch(message);
    expect([...ssm.calls(), ...sageMaker.calls(), ...cloudFormation.calls()]).toHaveLength(0);
  });

  test("a variant's package of another group than the slot's is refused before any AWS call", async () => {
    const error = await releaseError(
      releaseModel(
        {
          ...pointersRequest([{ pointerName: CHALLENGER, modelPackageArn: ARN }]),
          modelPackageGroupName: 'fare-amount',
        },
        deps(),
      ),
    );
    expect(error.code).toBe('wrong-model-group');
    expect(error.message).toContain(
      `but the slot reading ${CHALLENGER} (stack ${STACK}) serves group 'fare-amount'`,
    );
    expect([...ssm.calls(), ...sageMaker.calls(), ...cloudFormation.calls()]).toHaveLength(0);
  });

  test('start and check, one call per step: the token carries every pointer, and a rollback restores them all', async () => {
    // GIVEN a started promotion, its token passed on as JSON
    givenPointers({ [POINTER]: OLD_ARN, [CHALLENGER]: ARN });
    givenStackStatuses(variantStack('UPDATE_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }));
    const request = pointersRequest([
      { pointerName: POINTER, copyFrom: CHALLENGER },
      { pointerName: CHALLENGER, modelPackageArn: 'none' },
    ]);
    const started = await startRelease(request, deps());
    if (started.status !== 'updating') {
      throw new Error(`expected an update, got ${started.status}`);
    }
    const token = JSON.parse(JSON.stringify(started.token)) as ReleaseToken<PointersReleaseRequest>;
    expect(token.pointers).toEqual([
      { pointerName: POINTER, previous: OLD_ARN, current: ARN, restoreTo: OLD_ARN },
      { pointerName: CHALLENGER, previous: ARN, current: 'none', restoreTo: ARN },
    ]);
    cloudFormation.reset();
    givenStackStatuses(variantStack('UPDATE_ROLLBACK_COMPLETE', { [POINTER]: OLD_ARN, [CHALLENGER]: ARN }));
    cloudFormation.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });

    // WHEN
    const step = await checkRelease(token, deps());

    // THEN
    expect(step).toMatchObject({
      status: 'failed',
      failure: { code: 'update-failed', pointerRestored: true },
    });
    expect(pointerWrites().map((w) => [w.Name, w.Value])).toEqual([
      [POINTER, ARN],
      [CHALLENGER, 'none'],
      [POINTER, OLD_ARN],
      [CHALLENGER, ARN],
    ]);
  });
});
