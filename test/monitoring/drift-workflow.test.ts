import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectsV2CommandInput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { DriftJobResult, handler as driftJob } from '../../lambda/drift-job';
import { handler as planRun } from '../../lambda/drift-plan';
import {
  ModelMonitoring,
  ModelMonitoringProps,
  MonitoringBaseline,
} from '../../lib/monitoring/model-monitoring';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot } from '../../lib/serving/serving-slot';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { baselineJson } from '../drift/fixtures';
import { quietHandlerLogs } from '../release-automation/support/quiet-logs';
import { StateMachine, aslValidator } from '../../bin/simulation/local-step-functions';
type Json = Record<string, unknown>;

const BUCKET = 'artifacts';
const ENDPOINT = 'mlops-prod-fare-amount';
const PACKAGE = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/fare-amount/4';
const BASELINE_KEY = 'pipelines/fare-amount/exec-4/preprocess/baseline/baseline.json';
const POINTER = '/mlops/prod/serving/fare-amount/model-package-arn';
/** The schedule fires at 10:07: the window is 08:00-10:00 (two whole hours). */
const SCHEDULED_AT = '2026-12-01T10:07:00Z';

/** The monitoring of a prod slot in a stack of its own, bundling skipped (not the subject). */
function monitoring(props: Partial<ModelMonitoringProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const release = new Stack(app, 'Release');
  const pointer = new ReleasePointer(release, 'Pointer', {
    environmentName: 'prod',
    slotName: 'fare-amount',
  });
  const stack = new Stack(app, 'Platform');
  const store = new ArtifactStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY });
  const slot = new ServingSlot(stack, 'Slot', {
    pointer,
    artifactStore: store,
    endpointName: ENDPOINT,
    mode: ServingMode.realTime({ dataCapture: {} }),
  });
  new ModelMonitoring(stack, 'Monitoring', {
    servingSlot: slot,
    artifactStore: store,
    baseline: MonitoringBaseline.ofReleasedModel({
      pointer,
      modelRegistry: new ModelRegistry(stack, 'Registry'),
      artifactFolder: 'fare-amount',
      artifactStore: store,
    }),
    driftWindowHours: 2,
    ...props,
  });
  return Template.fromStack(stack);
}

/** Flattens the intrinsics of a template value, the bucket and functions named by placeholders. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const [fn, args] = Object.entries(value as Json)[0];
  if (fn === 'Fn::Join') {
    const [sep, parts] = args as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (fn === 'Fn::GetAtt') return `arn:aws:lambda:eu-west-1:111111111111:function:${(args as string[])[0]}`;
  if (fn === 'Ref') return String(args).startsWith('StoreBucket') ? BUCKET : `ref-${String(args)}`;
  throw new Error(`unexpected intrinsic ${fn}`);
}

function definitionOf(template: Template): Json {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  return JSON.parse(flatten((machine.Properties as Json).DefinitionString));
}

/** What the drift schedule starts an execution with: its input template, with the event's time. */
function scheduledInput(template: Template, time: string): Json {
  const rules = Object.values(template.findResources('AWS::Events::Rule'));
  const rule = rules.find((r) => JSON.stringify(r).includes('DriftWorkflow'))!;
  const target = (rule.Properties as { Targets: Array<{ InputTransformer: { InputTemplate: unknown } }> })
    .Targets[0];
  return JSON.parse(flatten(target.InputTransformer.InputTemplate).replace('<time>', JSON.stringify(time)));
}

// --- AWS, faked: an S3 bucket in memory, the pointer, the package and CloudWatch
const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
const sageMaker = mockClient(SageMakerClient);
const cloudWatch = mockClient(CloudWatchClient);
let objects: Map<string, Buffer>;
let pointerValue: string;

/** ListObjectsV2 as S3 answers it: keys in order, after StartAfter, two per page to exercise paging. */
function list(input: ListObjectsV2CommandInput) {
  const keys = [...objects.keys()]
    .filter((k) => k.startsWith(input.Prefix ?? ''))
    .sort()
    .filter((k) => input.StartAfter === undefined || k > input.StartAfter);
  const from = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
  const page = keys.slice(from, from + 2);
  const more = from + 2 < keys.length;
  return {
    Contents: page.map((Key) => ({ Key })),
    IsTruncated: more,
    ...(more ? { NextContinuationToken: String(from + 2) } : {}),
  };
}

beforeEach(() => {
  quietHandlerLogs();
  objects = new Map([[BASELINE_KEY, Buffer.from(JSON.stringify(baselineJson()))]]);
  pointerValue = PACKAGE;
  for (const mock of [s3, ssm, sageMaker, cloudWatch]) mock.reset();
  s3.on(ListObjectsV2Command).callsFake(list);
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (!body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: sdkStreamMixin(Readable.from([body])) };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    objects.set(input.Key, Buffer.from(input.Body));
    return {};
  });
  ssm.on(GetParameterCommand, { Name: POINTER }).callsFake(() => ({ Parameter: { Value: pointerValue } }));
  sageMaker.on(DescribeModelPackageCommand, { ModelPackageName: PACKAGE }).resolves({
    ModelPackageArn: PACKAGE,
    ModelMetrics: {
      ModelDataQuality: {
        Statistics: { ContentType: 'application/json', S3Uri: `s3://${BUCKET}/${BASELINE_KEY}` },
      },
    },
  });
  cloudWatch.on(PutMetricDataCommand).resolves({});
});
afterEach(() => jest.restoreAllMocks());

/** One capture line in SageMaker's format (the fixture baseline's order: distance, zone, hour). */
const line = (csv: string, encoding: 'CSV' | 'BASE64' = 'CSV') =>
  JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'text/csv',
        mode: 'INPUT',
        data: encoding === 'CSV' ? csv : Buffer.from(csv).toString('base64'),
        encoding,
      },
    },
    eventMetadata: { eventId: 'e', inferenceTime: '2026-12-01T09:30:00Z' },
    eventVersion: '0',
  });

/** Seven capture objects over the window's two hours, one gzipped, with problems of several kinds. */
function captureWindow(): void {
  const hour = (h: string, name: string) => `capture/${ENDPOINT}/AllTraffic/2026/12/01/${h}/${name}`;
  const put = (key: string, lines: string[]) => objects.set(key, Buffer.from(lines.join('\n')));
  put(hour('08', 'a.jsonl'), [line('0.5,132,3'), line('1.5,7,13'), line('3,132,20', 'BASE64')]);
  put(hour('08', 'b.jsonl'), [line('8,44,23'), '{not json', line('9,132')]);
  put(hour('08', 'c.jsonl'), [line('0.2,7,1'), line('x,7,1')]);
  objects.set(
    hour('09', 'a.jsonl.gz'),
    zlib.gzipSync(Buffer.from([line('4,132,22'), line('6,5,2')].join('\n'))),
  );
  put(hour('09', 'b.jsonl'), [line('1.1,7,11'), '', line('2.2,132,12')]);
  put(hour('09', 'c.jsonl'), [line('7,7,7')]);
  put(hour('09', 'd.jsonl'), [line('12,44,0'), line('0.1,132,23')]);
  // Outside the window: the hour before and the current hour.
  put(hour('07', 'z.jsonl'), [line('100,1,1')]);
  put(hour('10', 'z.jsonl'), [line('100,1,1')]);
}

/** Runs the workflow locally, every Task state calling the real handler code. */
async function execute(template: Template) {
  const calls: Json[] = [];
  const results: Json[] = [];
  const run = (fn: (event: never) => Promise<unknown>) => async (input: Json) => {
    calls.push(input);
    const result = (await fn(input as never)) as Json;
    results.push(result);
    return result;
  };
  const machine = new StateMachine(definitionOf(template) as never, {
    validationOptions: { checkArn: true },
  });
  const execution = machine.run(scheduledInput(template, SCHEDULED_AT) as never, {
    overrides: {
      taskResourceLocalHandlers: {
        PlanRun: run(planRun),
        MeasureWindow: run(driftJob),
        MeasureBatch: run(driftJob),
        MergeBatches: run(driftJob),
      } as never,
    },
  });
  return { output: (await execution.result) as Json, calls, results };
}

function publishedData(): MetricDatum[] {
  return cloudWatch.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
}

const sortData = (data: MetricDatum[]) =>
  [...data].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('the drift workflow, executed locally', () => {
  // Three objects per invocation at most, two per batch: the seven objects run as four batches.
  const distributed = monitoring({ maxObjectsPerInvocation: 3, objectsPerBatch: 2 });

  test('its definition is valid Amazon States Language, with a distributed map', () => {
    const definition = definitionOf(distributed);
    expect(aslValidator(definition).errors).toEqual([]);
    const states = definition.States as Record<string, Json>;
    expect(states.MeasureBatches).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.batches',
      MaxConcurrency: 10,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
  });

  test('a large window runs as batches and a merge whose report and metrics equal one pass over it', async () => {
    // GIVEN a window of seven capture objects
    captureWindow();

    // WHEN the schedule's execution runs
    const { output, calls, results } = await execute(distributed);

    // THEN it planned four batches over both hours, each counted by its own invocation, then merged
    expect(results[0]).toMatchObject({ mode: 'distributed', objects: 7 });
    const batches = calls.filter((c) => c.mode === 'batch');
    expect(batches.map((c) => c.batch)).toEqual([
      {
        index: 0,
        prefix: `capture/${ENDPOINT}/AllTraffic/2026/12/01/08/`,
        lastKey: `capture/${ENDPOINT}/AllTraffic/2026/12/01/08/b.jsonl`,
      },
      {
        index: 1,
        prefix: `capture/${ENDPOINT}/AllTraffic/2026/12/01/08/`,
        startAfter: `capture/${ENDPOINT}/AllTraffic/2026/12/01/08/b.jsonl`,
        lastKey: `capture/${ENDPOINT}/AllTraffic/2026/12/01/08/c.jsonl`,
      },
      {
        index: 2,
        prefix: `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/`,
        lastKey: `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/b.jsonl`,
      },
      {
        index: 3,
        prefix: `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/`,
        startAfter: `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/b.jsonl`,
        lastKey: `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/d.jsonl`,
      },
    ]);
    expect(calls.filter((c) => c.mode === 'merge')).toHaveLength(1);
    expect(calls.some((c) => c.mode === 'single')).toBe(false);
    const merged = output as { objects: number; reportKey: string; report: Json };
    const mergedReport = objects.get(merged.reportKey)!.toString();
    const mergedData = publishedData();

    // AND the same window measured in one pass, by the same job, gives exactly the same numbers
    cloudWatch.resetHistory();
    const single = (await driftJob({
      bucket: BUCKET,
      baselineKey: BASELINE_KEY,
      capturePrefix: 'capture/',
      reportPrefix: 'reports/',
      endpointName: ENDPOINT,
      variantName: 'AllTraffic',
      windowHours: 2,
      time: SCHEDULED_AT,
    })) as DriftJobResult;
    expect(merged.objects).toBe(7);
    expect(merged.report).toEqual(single.report);
    expect(merged.reportKey).toBe(single.reportKey);
    expect(objects.get(single.reportKey)!.toString()).toBe(mergedReport);
    expect(sortData(mergedData)).toEqual(sortData(publishedData()));

    // AND the window holds what the fixture planted: rows of both hours only, problems counted
    expect(single.report).toMatchObject({ rows: 12, lines: 15, empty: false });
    expect(single.report.problems).toMatchObject({
      malformedJson: 1,
      wrongFieldCount: 1,
      nonNumericValue: 1,
    });
    expect(mergedData.find((d) => d.MetricName === 'MaxFeaturePsi')?.Value).toBe(
      Math.max(...Object.values(single.report.features).map((f) => f.psi)),
    );
  });

  test("a small window runs in one invocation, with the served model's baseline", async () => {
    captureWindow();
    const { output, calls } = await execute(monitoring());
    expect(calls.map((c) => c.mode ?? 'plan')).toEqual(['plan', 'single']);
    expect(calls[1]).toMatchObject({
      baselineBucket: BUCKET,
      baselineKey: BASELINE_KEY,
      time: '2026-12-01T10:07:00.000Z',
    });
    expect(output).toMatchObject({ objects: 7, report: { rows: 12 } });
    expect(publishedData().find((d) => d.MetricName === 'CaptureRows')?.Value).toBe(12);
  });

  test('a slot that serves no model is not measured: no metric, no report', async () => {
    captureWindow();
    pointerValue = 'none';
    const { output, calls } = await execute(distributed);
    expect(output.plan).toMatchObject({ mode: 'none', objects: 0, batches: [] });
    expect(calls).toHaveLength(1);
    expect(publishedData()).toEqual([]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('a served package without a baseline fails the execution, naming the package and the fix', async () => {
    captureWindow();
    sageMaker
      .on(DescribeModelPackageCommand, { ModelPackageName: PACKAGE })
      .resolves({ ModelPackageArn: PACKAGE });
    await expect(execute(distributed)).rejects.toThrow(
      /model package .*fare-amount\/4 has no baseline: .*register packages with the baseline ml\/preprocess\.py writes/,
    );
    expect(publishedData()).toEqual([]);
  });
});
