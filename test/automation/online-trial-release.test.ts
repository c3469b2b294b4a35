import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { changeRequest, parseReleaseInput, WorkflowTarget } from '../../lambda/release-step/release-change';
import { PointersReleaseRequest, startRelease } from '../../lambda/shared/release';

/*
 * The one release of a package that is not Approved: the online gate's trial of a challenger as the
 * shadow variant. The allowance must not reach any other pointer or input.
 */

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/4';
const SHADOW = '/mlops/prod/serving/trip-duration/variants/shadow/model-package-arn';
const target: WorkflowTarget = {
  stackName: 'prod-Serving',
  region: 'us-east-1',
  modelPackageGroupName: 'taxi-duration',
  pointerName: '/mlops/prod/serving/trip-duration/model-package-arn',
  variants: {
    shadow: { pointerName: SHADOW, weightName: '/mlops/prod/serving/trip-duration/variants/shadow/weight' },
    challenger: {
      pointerName: '/mlops/prod/serving/trip-duration/variants/challenger/model-package-arn',
      weightName: '/mlops/prod/serving/trip-duration/variants/challenger/weight',
    },
  },
};

const sageMaker = mockClient(SageMakerClient);
const ssm = mockClient(SSMClient);
const deps = {
  sageMaker: new SageMakerClient({}),
  ssm: new SSMClient({}),
  cloudFormation: new CloudFormationClient({}),
};

function packageIs(status: string) {
  sageMaker.reset();
  sageMaker.on(DescribeModelPackageCommand).resolves({
    ModelPackageArn: ARN,
    ModelPackageStatus: 'Completed',
    ModelApprovalStatus: status as never,
  });
  // The pointers are read after the package check: their absence ends the release there, with nothing written.
  ssm.reset();
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
}

describe('an online trial input', () => {
  test('releases the package to the shadow, the only pointer allowed a pending package', () => {
    const change = parseReleaseInput({
      modelPackageArn: ARN,
      variant: 'shadow',
      onlineTrial: true,
      weightPercent: 50,
    });

    expect(change).toEqual({
      kind: 'trial',
      modelPackageArn: ARN,
      variant: 'shadow',
      weightPercent: 50,
      description: `${ARN} as the shadow (online trial, pending approval), at 50% of the requests`,
    });
    expect((changeRequest(target, change) as PointersReleaseRequest).pointers).toEqual([
      { pointerName: SHADOW, modelPackageArn: ARN, pendingApprovalTrial: true },
      { pointerName: '/mlops/prod/serving/trip-duration/variants/shadow/weight', weightPercent: 50 },
    ]);
  });

  test("the trial's end stops the shadow, as a stop does", () => {
    const change = parseReleaseInput({ stopVariant: 'shadow', onlineTrial: true });

    expect(change.kind).toBe('endTrial');
    expect((changeRequest(target, change) as PointersReleaseRequest).pointers).toEqual([
      { pointerName: SHADOW, modelPackageArn: 'none' },
    ]);
  });

  test('reads the same when the online gate started the execution (Step Functions adds its parent)', () => {
    // Step Functions adds the parent's execution id to the input of a child started with
    // associateWithParent, as the online-gate workflow starts the release workflow
    const parent = {
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID:
        'arn:aws:states:us-east-1:123456789012:execution:OnlineGate:trial-v4-0123456789abcdef0123456789abcdef',
    };
    const release = { modelPackageArn: ARN, variant: 'shadow', onlineTrial: true };
    const stop = { stopVariant: 'shadow', onlineTrial: true };
    expect(parseReleaseInput({ ...release, ...parent })).toEqual(parseReleaseInput(release));
    expect(parseReleaseInput({ ...stop, ...parent })).toEqual(parseReleaseInput(stop));
    // Any other unknown field is still refused
    expect(() => parseReleaseInput({ ...release, AWS_SOMETHING_ELSE: 'x' })).toThrow(/AWS_SOMETHING_ELSE/);
  });

  test('a plain shadow release gets no allowance', () => {
    const change = parseReleaseInput({ modelPackageArn: ARN, variant: 'shadow' });

    expect((changeRequest(target, change) as PointersReleaseRequest).pointers).toEqual([
      { pointerName: SHADOW, modelPackageArn: ARN },
    ]);
  });

  test.each([
    [{ modelPackageArn: ARN, variant: 'challenger', onlineTrial: true }, /online trial of the challenger/],
    [{ modelPackageArn: ARN, onlineTrial: true }, /online trial of no variant/],
    [{ variant: 'shadow', onlineTrial: true, weightPercent: 10 }, /names no modelPackageArn/],
    [{ modelPackageArn: ARN, variant: 'shadow', onlineTrial: 'yes' }, /onlineTrial 'yes': give true/],
    [{ promote: true, variant: 'shadow', onlineTrial: true }, /online trial/],
    [{ stopVariant: 'challenger', onlineTrial: true }, /online trial of no variant/],
    [
      { stopVariant: 'shadow', onlineTrial: true, weightPercent: 10 },
      /ends an online trial, and gives weightPercent/,
    ],
  ])('is refused for anything but a package released to the shadow (%#)', (input, message) => {
    expect(() => parseReleaseInput(input)).toThrow(message);
  });
});

describe('the release engine', () => {
  const request = (pendingApprovalTrial?: boolean): PointersReleaseRequest => ({
    stackName: 'prod-Serving',
    region: 'us-east-1',
    modelPackageGroupName: 'taxi-duration',
    pointers: [
      {
        pointerName: SHADOW,
        modelPackageArn: ARN,
        ...(pendingApprovalTrial ? { pendingApprovalTrial } : {}),
      },
    ],
  });

  test('accepts a pending package for a trial pointer', async () => {
    packageIs('PendingManualApproval');

    // The package check passes: the release goes on to read the pointers.
    await expect(startRelease(request(true), deps)).rejects.toMatchObject({ code: 'not-deployed' });
  });

  test('refuses a pending package without the allowance', async () => {
    packageIs('PendingManualApproval');

    await expect(startRelease(request(), deps)).rejects.toMatchObject({ code: 'model-package-not-approved' });
    expect(ssm.calls()).toHaveLength(0);
  });

  test('refuses a rejected package even for a trial', async () => {
    packageIs('Rejected');

    await expect(startRelease(request(true), deps)).rejects.toMatchObject({
      code: 'model-package-not-approved',
    });
  });

  test('refuses the allowance on a weight', async () => {
    packageIs('PendingManualApproval');
    const weight = {
      ...request(),
      pointers: [{ pointerName: '/w', weightPercent: 10, pendingApprovalTrial: true }],
    };

    await expect(startRelease(weight, deps)).rejects.toMatchObject({
      code: 'invalid-request',
      message: expect.stringMatching(
        /only a pointer given a modelPackageArn may take a package pending approval/,
      ),
    });
  });
});
