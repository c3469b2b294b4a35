import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreatePipelineCommand,
  ModelApprovalStatus,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { evaluationReport, XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';
import { EMULATOR_CREDENTIALS, MotoServer, startMotoServer } from '../../bin/simulation/moto-server';
import { AuditTrail } from '../../lambda/shared/audit';
import {
  classifyRetrainEvent,
  DEFAULT_GATE_RULES,
  runApprovalGate,
  runRetrainTrigger,
} from '../../lambda/shared/automation';
import { releasePointerParameterName } from '../../lib/serving/naming';
import { pauseSwitchParameterName } from '../../lib/automation/naming';
import { main } from '../../bin/audit';

/*
 * The loop leaves its records in an AWS API emulator (moto server): the retrain trigger starts the
 * pipeline, the pipeline's package is registered with GeneratedBy naming the execution (as
 * SageMaker does for a package a pipeline registers), the approval gate decides, and the release
 * pointers of staging and prod switch. Then `npm run audit`'s main reads the trail back. moto
 * 5.2.5 has every API the audit calls (GetParameterHistory, DescribeModelPackage,
 * DescribePipelineExecution, ListPipelineParametersForExecution), so nothing is mocked. Times are
 * moto's clock, so the test compares them with each other, never with its own clock.
 */

const REGION = 'us-east-1';
const GROUP = 'taxi-duration';
const BUCKET = 'mlops-dev-artifacts';
const PIPELINE = 'trip-duration-training';
const MODEL = 'trip-duration';
const STAGING = releasePointerParameterName('staging', MODEL);
const PROD = releasePointerParameterName('prod', MODEL);

let moto: MotoServer;
let sageMaker: SageMakerClient;
let ssm: SSMClient;
let s3: S3Client;
let cwd: string;
let champion: string;
let challenger: string;
let executionArn: string;
let displayName: string;

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

async function register(
  status: ModelApprovalStatus,
  reportUri: string,
  generatedBy?: string,
): Promise<string> {
  const response = await sageMaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      ModelApprovalStatus: status,
      InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: reportUri } } },
      ...(generatedBy ? { MetadataProperties: { GeneratedBy: generatedBy } } : {}),
    }),
  );
  return response.ModelPackageArn!;
}

const point = (name: string, value: string) =>
  ssm.send(new PutParameterCommand({ Name: name, Type: 'String', Value: value, Overwrite: true }));

async function audit(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const config = { region: REGION, endpoint: moto.url, credentials: EMULATOR_CREDENTIALS };
  const status = await main(args, {
    cwd,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    clients: { ssm: () => new SSMClient(config), sageMaker: () => new SageMakerClient(config) },
  });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

beforeAll(async () => {
  moto = await startMotoServer();
  const config = { region: REGION, endpoint: moto.url, credentials: EMULATOR_CREDENTIALS };
  sageMaker = new SageMakerClient(config);
  ssm = new SSMClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-emulator-'));
  fs.writeFileSync(
    path.join(cwd, 'cdk.json'),
    JSON.stringify({
      context: {
        mlops: {
          delivery: false,
          environments: {
            dev: { level: 2, region: REGION, models: { [MODEL]: {} } },
            staging: { level: 3, region: REGION, models: { [MODEL]: {} } },
            prod: { level: 3, region: REGION, models: { [MODEL]: {} } },
          },
        },
      },
    }),
  );

  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await sageMaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
  await sageMaker.send(
    new CreatePipelineCommand({
      PipelineName: PIPELINE,
      PipelineDefinition: JSON.stringify({ Version: '2020-12-01', Parameters: [], Steps: [] }),
      RoleArn: 'arn:aws:iam::123456789012:role/pipeline',
    }),
  );

  // The champion, registered and approved by hand, released to staging and prod.
  champion = await register('Approved', await report('pipelines/champion/evaluation.json', 4.5, 3.2));
  await point(STAGING, 'none');
  await point(PROD, 'none');
  await point(STAGING, champion);
  await point(PROD, champion);

  // A drift alarm starts a retraining.
  await point(pauseSwitchParameterName('dev', MODEL), 'active');
  const classified = classifyRetrainEvent(
    {
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      time: '2026-11-20T10:05:00Z',
      resources: [],
      detail: {
        alarmName: 'trip-duration-feature-drift',
        state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-20T10:05:00Z' },
      },
    },
    ['trip-duration-feature-drift'],
  );
  if (classified.kind !== 'retrain') throw new Error(`unexpected ${classified.kind}`);
  const started = await runRetrainTrigger(
    { sageMaker, ssm },
    {
      pipelineName: PIPELINE,
      pauseParameterName: pauseSwitchParameterName('dev', MODEL),
      watchedAlarms: ['trip-duration-feature-drift'],
      guardrails: { cooldownMinutes: 0, maxStartsPerDay: 10 },
      dataWindowDays: 30,
      parameterTemplates: {
        DataWindowStart: '{windowStart}',
        DataWindowEnd: '{windowEnd}',
        RetrainReason: '{reason}',
      },
    },
    classified.request,
    new Date('2026-11-20T10:06:00Z'),
  );
  if (started.outcome !== 'started') throw new Error(`the trigger skipped: ${started.message}`);
  executionArn = started.pipelineExecutionArn;
  displayName = started.start.PipelineExecutionDisplayName!;

  // The execution registers the challenger; the gate approves it; the release promotes it.
  challenger = await register(
    'PendingManualApproval',
    await report('pipelines/retrained/evaluation.json', 4.1, 3),
    executionArn,
  );
  const gate = await runApprovalGate(
    { sageMaker, s3, ssm },
    { championPointerName: PROD, rules: { ...DEFAULT_GATE_RULES } },
    challenger,
  );
  if (gate.outcome !== 'approved') throw new Error(`the gate did not approve: ${gate.outcome}`);
  await point(STAGING, challenger);
  await point(PROD, challenger);
}, 60_000);

afterAll(() => {
  moto?.stop();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

describe('npm run audit against the emulator', () => {
  let trail: AuditTrail;

  beforeAll(async () => {
    const { status, stdout, stderr } = await audit(['--model', MODEL, '--json']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    trail = JSON.parse(stdout) as AuditTrail;
  });

  test('every environment that serves the model, in promotion order; dev has released nothing', () => {
    expect(trail.environments.map((e) => e.environment)).toEqual(['dev', 'staging', 'prod']);
    expect(trail.environments[0].pointers).toEqual([
      {
        slot: 'champion',
        pointerName: releasePointerParameterName('dev', MODEL),
        exists: false,
        switches: [],
        olderSwitches: 0,
      },
    ]);
  });

  test('prod serves the retrained package: its execution, the alarm, the data window and the gate numbers', () => {
    const prod = trail.environments[2].pointers[0];
    expect(prod.current).toBe(challenger);
    const now = prod.switches[0];
    expect(now.package).toMatchObject({
      arn: challenger,
      found: true,
      version: 2,
      approvalStatus: 'Approved',
      generatedBy: executionArn,
      gate: {
        decidedBy: 'gate',
        verdict: 'Approved',
        challenger: { rmse: 4.1 },
        championArn: champion,
        champion: { rmse: 4.5 },
      },
    });
    expect(now.execution).toMatchObject({
      arn: executionArn,
      found: true,
      displayName,
      trigger: {
        kind: 'retrain-trigger',
        trigger: 'alarm',
        triggerName: 'trip-duration-feature-drift',
        triggeredAt: '2026-11-20T10:05:00Z',
        eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      },
      parameters: {
        DataWindowStart: '2026-10-21T10:05:00Z',
        DataWindowEnd: '2026-11-20T10:05:00Z',
        RetrainReason:
          'alarm trip-duration-feature-drift entered ALARM at 2026-11-20T10:05:00Z: Threshold Crossed',
      },
    });
  });

  test('the switches of each environment, newest first: none, the champion, the retrained package', () => {
    for (const environment of trail.environments.slice(1)) {
      const switches = environment.pointers[0].switches;
      expect(switches.map((s) => [s.version, s.value])).toEqual([
        [3, challenger],
        [2, champion],
        [1, 'none'],
      ]);
      // The champion was registered by hand: approved, but not by the gate, and by no execution.
      expect(switches[1].package).toMatchObject({ found: true, gate: { decidedBy: 'person' } });
      expect(switches[1].execution).toBeUndefined();
      const times = switches.map((s) => Date.parse(s.at));
      expect(times.every((t) => Number.isFinite(t))).toBe(true);
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    }
    // Staging switched before prod.
    const [staging, prod] = trail.environments.slice(1).map((e) => Date.parse(e.pointers[0].switches[0].at));
    expect(staging).toBeLessThanOrEqual(prod);
  });

  test('the table reads the same trail', async () => {
    const { status, stdout } = await audit(['--model', MODEL, '--env', 'prod', '--limit', '2']);

    expect(status).toBe(0);
    const lines = stdout.split('\n');
    expect(lines).toContain('prod (level 3, us-east-1)');
    expect(lines).toContain(
      `    serves    ${GROUP}/2 (Approved, registered ${trail.environments[2].pointers[0].switches[0].package!.createdAt})`,
    );
    expect(lines.some((l) => l.startsWith(`    produced  ${displayName} (Succeeded, started `))).toBe(true);
    expect(lines).toContain('    data      2026-10-21T10:05:00Z to 2026-11-20T10:05:00Z');
    expect(lines).toContain(`    gate      Approved by the gate: rmse 4.1 vs champion ${GROUP}/1 rmse 4.5`);
    expect(lines).toContain('      ... 1 older switch (--limit 3 shows them)');
    expect(stdout).not.toContain('staging');
  });
});
