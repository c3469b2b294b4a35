import { evaluationReport, XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreatePipelineCommand,
  DescribeModelPackageCommand,
  ListPipelineExecutionsCommand,
  ModelApprovalStatus,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  classifyRetrainEvent,
  DEFAULT_GUARDRAILS,
  RetrainRequest,
  RetrainTriggerSettings,
  runApprovalGate,
  runRetrainTrigger,
} from '../../lambda/shared/automation';
import { Emulator, startEmulator } from './support/emulator';

/*
 * The engines against an AWS API emulator (moto server): real SDK clients, the wire protocols and
 * the emulator's answers and errors for the model registry, S3, SSM and SageMaker Pipelines.
 * moto 5.2.5 marks a pipeline execution Succeeded as soon as it starts, and stamps it with the
 * emulator's clock: the trigger's clock is set from the StartTime moto reports, never from the
 * test's own clock.
 */

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const GROUP = 'taxi-duration';
const BUCKET = 'mlops-dev-artifacts';
const POINTER = '/mlops/prod/trip-duration/model-package';
const PIPELINE = 'trip-duration-training';
const PAUSE = '/mlops/dev/trip-duration/retraining';
const MINUTE_MS = 60_000;

let emulator: Emulator;
let sageMaker: SageMakerClient;
let s3: S3Client;
let ssm: SSMClient;

async function report(key: string, rmse: number, mae: number): Promise<string> {
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      ContentType: 'application/json',
      Body: JSON.stringify(evaluationReport(rmse, mae, 1200)),
    }),
  );
  return `s3://${BUCKET}/${key}`;
}

async function registerPackage(status: ModelApprovalStatus, reportUri: string): Promise<string> {
  const response = await sageMaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      ModelApprovalStatus: status,
      InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: reportUri } } },
    }),
  );
  return response.ModelPackageArn!;
}

async function approval(arn: string) {
  const described = await sageMaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  return { status: described.ModelApprovalStatus, description: described.ApprovalDescription };
}

const gateSettings = {
  championPointerName: POINTER,
  rules: {
    primaryMetric: 'regression_metrics.rmse',
    higherIsBetter: false,
    marginPercent: 1,
    thresholds: [{ metric: 'regression_metrics.rmse', max: 6 }],
  },
};

beforeAll(async () => {
  emulator = await startEmulator();
  const config = { region: REGION, endpoint: emulator.endpoint, credentials: CREDENTIALS };
  sageMaker = new SageMakerClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  ssm = new SSMClient(config);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await sageMaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
}, 60_000);

afterAll(() => {
  emulator?.stop();
});

describe('the approval gate against the emulator', () => {
  let champion: string;
  let championReport: string;

  beforeAll(async () => {
    championReport = await report('pipelines/champion/evaluation/evaluation.json', 4.5, 3.2);
    champion = await registerPackage('Approved', championReport);
    await ssm.send(
      new PutParameterCommand({ Name: POINTER, Type: 'String', Value: champion, Overwrite: true }),
    );
  });

  test('approves a better challenger in the registry, with both sets of numbers, once', async () => {
    const challengerReport = await report('pipelines/better/evaluation/evaluation.json', 4.1, 3);
    const challenger = await registerPackage('PendingManualApproval', challengerReport);

    const first = await runApprovalGate({ sageMaker, s3, ssm }, gateSettings, challenger);
    const second = await runApprovalGate({ sageMaker, s3, ssm }, gateSettings, challenger);

    expect(first.outcome).toBe('approved');
    expect(second).toEqual({
      outcome: 'already-decided',
      modelPackageArn: challenger,
      approvalStatus: 'Approved',
    });
    expect(await approval(challenger)).toEqual({
      status: 'Approved',
      description:
        'Approved by the approval gate: every threshold holds (rmse 4.1 <= 6); ' +
        "rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%). " +
        `Challenger (${challengerReport}): rmse 4.1. Champion ${champion} (${championReport}): rmse 4.5.`,
    });
  });

  test("rejects a challenger whose report S3 does not have, on S3's own NoSuchKey", async () => {
    const missing = `s3://${BUCKET}/pipelines/lost/evaluation/evaluation.json`;
    const challenger = await registerPackage('PendingManualApproval', missing);

    const result = await runApprovalGate({ sageMaker, s3, ssm }, gateSettings, challenger);

    expect(result.outcome).toBe('rejected');
    expect(await approval(challenger)).toEqual({
      status: 'Rejected',
      description: expect.stringMatching(
        new RegExp(
          "^Rejected by the approval gate: the challenger's evaluation report cannot be used: " +
            `the report ${missing.replace(/[.]/g, '\\.')} does not exist \\(NoSuchKey: `,
        ),
      ),
    });
  });

  test('rejects a worse challenger and leaves the champion as it was', async () => {
    const challenger = await registerPackage(
      'PendingManualApproval',
      await report('pipelines/worse/evaluation/evaluation.json', 4.9, 3),
    );

    expect((await runApprovalGate({ sageMaker, s3, ssm }, gateSettings, challenger)).outcome).toBe(
      'rejected',
    );

    expect((await approval(challenger)).status).toBe('Rejected');
    expect((await approval(champion)).status).toBe('Approved');
  });
});

describe('the retrain trigger against the emulator', () => {
  const settings: RetrainTriggerSettings = {
    pipelineName: PIPELINE,
    pauseParameterName: PAUSE,
    watchedAlarms: ['trip-duration-feature-drift'],
    guardrails: DEFAULT_GUARDRAILS,
    dataWindowDays: 30,
    parameterTemplates: { InputDataUrl: `s3://${BUCKET}/data/`, RetrainReason: '{reason}' },
  };

  function alarm(id: string): RetrainRequest {
    const classified = classifyRetrainEvent(
      {
        version: '0',
        id,
        'detail-type': 'CloudWatch Alarm State Change',
        source: 'aws.cloudwatch',
        account: '123456789012',
        time: '2026-11-20T10:05:00Z',
        region: REGION,
        resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:trip-duration-feature-drift'],
        detail: {
          alarmName: 'trip-duration-feature-drift',
          state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-20T10:05:00.123+0000' },
          previousState: { value: 'OK', reason: '', timestamp: '2026-11-20T09:05:00.412+0000' },
          configuration: { metrics: [] },
        },
      },
      settings.watchedAlarms,
    );
    if (classified.kind !== 'retrain') {
      throw new Error(`the alarm event was not classified as a retraining: ${JSON.stringify(classified)}`);
    }
    return classified.request;
  }

  async function executions() {
    const listed = await sageMaker.send(new ListPipelineExecutionsCommand({ PipelineName: PIPELINE }));
    return listed.PipelineExecutionSummaries ?? [];
  }

  beforeAll(async () => {
    await sageMaker.send(
      new CreatePipelineCommand({
        PipelineName: PIPELINE,
        RoleArn: 'arn:aws:iam::123456789012:role/trip-duration-pipeline',
        PipelineDefinition: JSON.stringify({
          Version: '2020-12-01',
          Parameters: [{ Name: 'InputDataUrl', Type: 'String', DefaultValue: `s3://${BUCKET}/data/` }],
          Steps: [],
        }),
      }),
    );
    await ssm.send(
      new PutParameterCommand({ Name: PAUSE, Type: 'String', Value: 'active', Overwrite: true }),
    );
  });

  test('starts the pipeline, then holds off a second alarm within the cooldown and a redelivery after it', async () => {
    const first = await runRetrainTrigger(
      { sageMaker, ssm },
      settings,
      alarm('event-1'),
      new Date('2026-11-20T10:06:00Z'),
    );
    const [started] = await executions();
    const startedAt = started.StartTime!.getTime();
    const inCooldown = await runRetrainTrigger(
      { sageMaker, ssm },
      settings,
      alarm('event-2'),
      new Date(startedAt + 10 * MINUTE_MS),
    );
    const redelivered = await runRetrainTrigger(
      { sageMaker, ssm },
      settings,
      alarm('event-1'),
      new Date(startedAt + 7 * 60 * MINUTE_MS),
    );

    expect(first.outcome).toBe('started');
    expect(started).toMatchObject({
      PipelineExecutionArn: first.outcome === 'started' ? first.pipelineExecutionArn : '',
      PipelineExecutionDisplayName: expect.stringMatching(/^retrain-alarm-20261120T100500Z-[0-9a-f]{12}$/),
      PipelineExecutionDescription: expect.stringContaining(
        'alarm trip-duration-feature-drift entered ALARM at 2026-11-20T10:05:00.123+0000: Threshold Crossed',
      ),
    });
    expect(inCooldown).toMatchObject({ outcome: 'skipped', reason: 'Cooldown' });
    expect(redelivered).toMatchObject({ outcome: 'skipped', reason: 'Duplicate' });
    expect(await executions()).toHaveLength(1);
  });

  test('the pause switch, written as the docs say, stops the next start', async () => {
    await ssm.send(
      new PutParameterCommand({ Name: PAUSE, Type: 'String', Value: 'paused', Overwrite: true }),
    );
    const before = (await executions()).length;

    const result = await runRetrainTrigger(
      { sageMaker, ssm },
      settings,
      alarm('event-3'),
      new Date('2027-01-01T00:00:00Z'),
    );

    expect(result).toMatchObject({ outcome: 'skipped', reason: 'Paused' });
    expect(await executions()).toHaveLength(before);
  });
});
