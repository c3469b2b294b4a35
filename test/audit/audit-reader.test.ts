import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeModelPackageCommand,
  DescribePipelineExecutionCommand,
  ListPipelineParametersForExecutionCommand,
  ResourceNotFound,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { GetParameterHistoryCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { AuditClients, AuditError, AuditTrail, readAuditTrail } from '../../lambda/shared/audit';
import { main } from '../../bin/audit';

const ACCOUNT = '123456789012';
const PACKAGE = (version: number) =>
  `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/taxi-duration/${version}`;
const EXECUTION = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/trip-duration-training/execution/k2v9q1x7m3p4`;
const STAGING = '/mlops/staging/serving/trip-duration/model-package-arn';
const PROD = '/mlops/prod/serving/trip-duration/model-package-arn';
const at = (day: number) => new Date(Date.UTC(2026, 10, day, 8));

const ssmMock = mockClient(SSMClient);
const sageMakerMock = mockClient(SageMakerClient);
const regions: Array<[string, string | undefined]> = [];
const clients: AuditClients = {
  ssm: (region) => {
    regions.push(['ssm', region]);
    return new SSMClient({ region: region ?? 'us-east-1' });
  },
  sageMaker: (region) => {
    regions.push(['sagemaker', region]);
    return new SageMakerClient({ region: region ?? 'us-east-1' });
  },
};

const environments = [
  {
    name: 'staging',
    level: 3,
    region: 'us-east-1',
    releaseSource: false,
    pointers: [{ slot: 'champion', pointerName: STAGING }],
  },
  {
    name: 'prod',
    level: 4,
    region: 'us-east-1',
    releaseSource: false,
    pointers: [{ slot: 'champion', pointerName: PROD }],
  },
];

beforeEach(() => {
  ssmMock.reset();
  sageMakerMock.reset();
  regions.length = 0;
  ssmMock.on(GetParameterHistoryCommand, { Name: STAGING }).resolves({
    Parameters: [
      { Version: 1, Value: 'none', LastModifiedDate: at(1) },
      { Version: 2, Value: PACKAGE(4), LastModifiedDate: at(20), LastModifiedUser: 'release-step' },
    ],
  });
  // Two pages: SSM returns at most 50 versions per call.
  ssmMock
    .on(GetParameterHistoryCommand, { Name: PROD, NextToken: undefined })
    .resolves({
      Parameters: [
        { Version: 1, Value: 'none', LastModifiedDate: at(1) },
        { Version: 2, Value: PACKAGE(3), LastModifiedDate: at(2), LastModifiedUser: 'alice' },
      ],
      NextToken: 'page-2',
    })
    .on(GetParameterHistoryCommand, { Name: PROD, NextToken: 'page-2' })
    .resolves({
      Parameters: [
        { Version: 3, Value: PACKAGE(4), LastModifiedDate: at(21), LastModifiedUser: 'release-step' },
      ],
    });
  sageMakerMock
    .on(DescribeModelPackageCommand, { ModelPackageName: PACKAGE(4) })
    .resolves({
      ModelPackageArn: PACKAGE(4),
      ModelPackageGroupName: 'taxi-duration',
      ModelPackageVersion: 4,
      ModelApprovalStatus: 'Approved',
      CreationTime: at(19),
      MetadataProperties: { GeneratedBy: EXECUTION },
      ApprovalDescription:
        `Approved by the approval gate: rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%). ` +
        `Challenger (s3://a/e.json): rmse 4.1. Champion ${PACKAGE(3)} (s3://b/e.json): rmse 4.5.`,
    })
    .on(DescribeModelPackageCommand, { ModelPackageName: PACKAGE(3) })
    .resolves({ ModelPackageArn: PACKAGE(3), ModelApprovalStatus: 'Approved', CreationTime: at(1) });
  sageMakerMock.on(DescribePipelineExecutionCommand).resolves({
    PipelineExecutionArn: EXECUTION,
    PipelineExecutionDisplayName: 'retrain-alarm-20261118T100500Z-1a2b3c4d5e6f',
    PipelineExecutionDescription:
      'Retraining on an alarm: alarm trip-duration-feature-drift entered ALARM at 2026-11-18T10:05:00Z. ' +
      'Data window 2026-10-19T10:05:00Z to 2026-11-18T10:05:00Z (30 days). Started by the retrain trigger for event e-1.',
    PipelineExecutionStatus: 'Succeeded',
    CreationTime: at(18),
  });
  sageMakerMock.on(ListPipelineParametersForExecutionCommand).resolves({
    PipelineParameters: [
      { Name: 'InputDataUrl', Value: 's3://mlops-dev-artifacts/data/' },
      { Name: 'DataWindowStart', Value: '2026-10-19T10:05:00Z' },
      { Name: 'DataWindowEnd', Value: '2026-11-18T10:05:00Z' },
    ],
  });
});

describe('readAuditTrail', () => {
  test('each environment serves a package since its last switch, produced by the execution GeneratedBy names', async () => {
    const trail = await readAuditTrail(clients, { modelName: 'trip-duration', environments, limit: 10 });

    const [staging, prod] = trail.environments.map((e) => e.pointers[0]);
    expect(prod).toMatchObject({ exists: true, current: PACKAGE(4), olderSwitches: 0 });
    expect(prod.switches.map((s) => [s.version, s.value, s.at, s.by])).toEqual([
      [3, PACKAGE(4), '2026-11-21T08:00:00.000Z', 'release-step'],
      [2, PACKAGE(3), '2026-11-02T08:00:00.000Z', 'alice'],
      [1, 'none', '2026-11-01T08:00:00.000Z', undefined],
    ]);
    expect(prod.switches[0].execution).toEqual({
      arn: EXECUTION,
      found: true,
      displayName: 'retrain-alarm-20261118T100500Z-1a2b3c4d5e6f',
      status: 'Succeeded',
      startedAt: '2026-11-18T08:00:00.000Z',
      description: expect.stringMatching(/^Retraining on an alarm/),
      trigger: expect.objectContaining({
        kind: 'retrain-trigger',
        trigger: 'alarm',
        triggerName: 'trip-duration-feature-drift',
        eventId: 'e-1',
      }),
      // InputDataUrl is not one of the retraining's parameters.
      parameters: { DataWindowStart: '2026-10-19T10:05:00Z', DataWindowEnd: '2026-11-18T10:05:00Z' },
    });
    expect(prod.switches[0].package).toMatchObject({
      version: 4,
      createdAt: '2026-11-19T08:00:00.000Z',
      gate: { decidedBy: 'gate', verdict: 'Approved', challenger: { rmse: 4.1 }, championArn: PACKAGE(3) },
    });
    // Package 3 was registered by hand: no GeneratedBy, so no execution.
    expect(prod.switches[1].package).toMatchObject({ found: true, gate: { decidedBy: 'person' } });
    expect(prod.switches[1].execution).toBeUndefined();
    expect(prod.switches[2].package).toBeUndefined();
    expect(staging.switches[0].at).toBe('2026-11-20T08:00:00.000Z');

    // Package 4 serves in both environments and is read once, as is its execution.
    expect(
      sageMakerMock.commandCalls(DescribeModelPackageCommand, { ModelPackageName: PACKAGE(4) }),
    ).toHaveLength(1);
    expect(sageMakerMock.commandCalls(DescribePipelineExecutionCommand)).toHaveLength(1);
    expect(ssmMock.commandCalls(GetParameterHistoryCommand, { Name: PROD })).toHaveLength(2);
    // The registry is read in the package's region, from its ARN.
    expect(regions).toContainEqual(['sagemaker', 'us-east-1']);
  });

  test('the limit keeps the newest switches and counts the others; only those shown are described', async () => {
    const trail = await readAuditTrail(clients, {
      modelName: 'trip-duration',
      environments: [environments[1]],
      limit: 1,
    });

    expect(trail.environments[0].pointers[0]).toMatchObject({ olderSwitches: 2, current: PACKAGE(4) });
    expect(trail.environments[0].pointers[0].switches).toHaveLength(1);
    expect(
      sageMakerMock.commandCalls(DescribeModelPackageCommand, { ModelPackageName: PACKAGE(3) }),
    ).toHaveLength(0);
  });

  test('a missing pointer, a deleted package and a deleted execution are shown, not errors', async () => {
    ssmMock
      .on(GetParameterHistoryCommand, { Name: STAGING })
      .rejects(new ParameterNotFound({ message: '', $metadata: {} }));
    sageMakerMock.on(DescribeModelPackageCommand, { ModelPackageName: PACKAGE(3) }).rejects(
      Object.assign(new Error(`Model package ${PACKAGE(3)} does not exist.`), {
        name: 'ValidationException',
      }),
    );
    sageMakerMock
      .on(DescribePipelineExecutionCommand)
      .rejects(new ResourceNotFound({ message: 'Pipeline execution not found', $metadata: {} }));

    const trail = await readAuditTrail(clients, { modelName: 'trip-duration', environments, limit: 10 });

    expect(trail.environments[0].pointers[0]).toEqual({
      slot: 'champion',
      pointerName: STAGING,
      exists: false,
      switches: [],
      olderSwitches: 0,
    });
    const prod = trail.environments[1].pointers[0];
    expect(prod.switches[0].execution).toEqual({ arn: EXECUTION, found: false });
    expect(prod.switches[1].package).toEqual({ arn: PACKAGE(3), found: false });
    expect(sageMakerMock.commandCalls(ListPipelineParametersForExecutionCommand)).toHaveLength(0);
  });

  test('a denied read fails with the call, the resource and the action to allow', async () => {
    sageMakerMock.on(DescribeModelPackageCommand).rejects(
      Object.assign(new Error('not authorized to perform: sagemaker:DescribeModelPackage'), {
        name: 'AccessDeniedException',
      }),
    );

    const reading = readAuditTrail(clients, { modelName: 'trip-duration', environments, limit: 10 });

    await expect(reading).rejects.toThrow(AuditError);
    await expect(reading).rejects.toThrow(
      `DescribeModelPackage of model package ${PACKAGE(4)} failed: AccessDeniedException: not authorized to perform: ` +
        'sagemaker:DescribeModelPackage: allow sagemaker:DescribeModelPackage on it to the caller',
    );
  });
});

describe('npm run audit (main)', () => {
  const CDK_JSON = {
    context: {
      mlops: {
        delivery: false,
        environments: {
          dev: { level: 2, region: 'us-east-1', models: { 'trip-duration': {}, 'fare-amount': {} } },
          staging: { level: 3, region: 'us-east-1', models: { 'trip-duration': {} } },
          prod: { level: 3, region: 'us-east-1', models: { 'trip-duration': {} } },
        },
      },
    },
  };
  let cwd: string;

  beforeAll(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cli-'));
    fs.writeFileSync(path.join(cwd, 'cdk.json'), JSON.stringify(CDK_JSON));
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  async function run(args: string[], dir = cwd) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(args, { cwd: dir, out: (t) => out.push(t), err: (t) => err.push(t), clients });
    return { status, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  test.each([
    [[], /^Missing --model\./],
    [['--model'], /argument missing/],
    [['--model', 'trip-duration', '--since', '2026'], /Unknown option '--since'/],
    [
      ['--model', 'trip-duration', '--limit', '0'],
      /^--limit '0' is invalid: give a whole number of switches from 1 to 100/,
    ],
    [['--model', 'trip-duration', '--limit', '2.5'], /^--limit '2\.5' is invalid/],
    [
      ['--model', 'taxi'],
      /^No environment of .*cdk\.json serves a model 'taxi': its models are trip-duration, fare-amount\./,
    ],
    [
      ['--model', 'fare-amount', '--env', 'prod'],
      /^--env 'prod' does not serve model 'fare-amount': the environments serving it are dev\./,
    ],
    [
      ['--model', 'trip-duration', '--env', 'qa'],
      /^--env 'qa' is not an environment of .*: the environments serving it are dev, staging, prod\./,
    ],
  ])('%j is bad usage: exit 2 with the reason and the usage', async (args, message) => {
    const { status, stderr } = await run(args);
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage: npm run audit -- --model <name>');
    expect(ssmMock.calls()).toHaveLength(0);
  });

  test('without cdk.json: exit 2, run it from the repository root', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cli-empty-'));
    try {
      expect(await run(['--model', 'trip-duration'], empty)).toMatchObject({
        status: 2,
        stderr: expect.stringMatching(/^No cdk\.json in .*: run the audit from the repository root\./),
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test('--env prod --json prints the trail of prod only, as JSON', async () => {
    const { status, stdout } = await run(['--model', 'trip-duration', '--env', 'prod', '--json']);

    expect(status).toBe(0);
    const trail = JSON.parse(stdout) as AuditTrail;
    expect(trail.model).toBe('trip-duration');
    expect(trail.environments.map((e) => [e.environment, e.pointers.map((p) => p.pointerName)])).toEqual([
      ['prod', [PROD]],
    ]);
    expect(trail.environments[0].pointers[0].current).toBe(PACKAGE(4));
  });

  test('an AWS failure: exit 1 with the failed call', async () => {
    ssmMock
      .on(GetParameterHistoryCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const { status, stderr } = await run(['--model', 'trip-duration']);

    expect(status).toBe(1);
    expect(stderr).toBe(
      `Audit failed: GetParameterHistory of parameter /mlops/dev/serving/trip-duration/model-package-arn failed: ` +
        'ThrottlingException: Rate exceeded: check your credentials, network and region, and run the audit again',
    );
  });
});
