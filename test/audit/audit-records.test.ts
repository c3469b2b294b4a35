import {
  classifyRetrainEvent,
  decide,
  DEFAULT_GATE_RULES,
  parseRetrainExecution,
  RetrainRequest,
  startRequest,
} from '../../lambda/shared/automation';
import {
  AuditTrail,
  executionRecord,
  formatAuditTrail,
  parseGateRecord,
  pointerSwitches,
  shortPackage,
} from '../../lambda/shared/audit';

const ACCOUNT = '123456789012';
const PACKAGE = (version: number) =>
  `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/taxi-duration/${version}`;
const EXECUTION = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/trip-duration-training/execution/k2v9q1x7m3p4`;
const RULE_ARN = `arn:aws:events:us-east-1:${ACCOUNT}:rule/trip-duration-weekly-retraining`;

function alarmRequest(): RetrainRequest {
  const classified = classifyRetrainEvent(
    {
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      time: '2026-11-20T10:05:00Z',
      resources: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:trip-duration-feature-drift`],
      detail: {
        alarmName: 'trip-duration-feature-drift',
        state: {
          value: 'ALARM',
          reason: 'Threshold Crossed: 0.31 > 0.25.',
          timestamp: '2026-11-20T10:05:00Z',
        },
      },
    },
    ['trip-duration-feature-drift'],
  );
  if (classified.kind !== 'retrain') throw new Error(`unexpected ${classified.kind}`);
  return classified.request;
}

const SETTINGS = {
  pipelineName: 'trip-duration-training',
  pauseParameterName: '/mlops/dev/automation/trip-duration/retraining',
  watchedAlarms: ['trip-duration-feature-drift'],
  guardrails: { cooldownMinutes: 360, maxStartsPerDay: 2 },
  dataWindowDays: 30,
  parameterTemplates: {
    DataWindowStart: '{windowStart}',
    DataWindowEnd: '{windowEnd}',
    RetrainReason: '{reason}',
  },
};

describe('parseRetrainExecution reads back what the retrain trigger records', () => {
  test('an alarm start: trigger, alarm, time, window and event id', () => {
    // GIVEN the display name and description the trigger sends for an alarm
    const start = startRequest(SETTINGS, alarmRequest());

    // WHEN they are read back
    const record = parseRetrainExecution(
      start.PipelineExecutionDisplayName,
      start.PipelineExecutionDescription,
    );

    // THEN
    expect(record).toEqual({
      trigger: 'alarm',
      triggeredAt: '2026-11-20T10:05:00Z',
      tokenPrefix: expect.stringMatching(/^[0-9a-f]{12}$/),
      reason:
        'alarm trip-duration-feature-drift entered ALARM at 2026-11-20T10:05:00Z: Threshold Crossed: 0.31 > 0.25',
      triggerName: 'trip-duration-feature-drift',
      windowStart: '2026-10-21T10:05:00Z',
      windowEnd: '2026-11-20T10:05:00Z',
      windowDays: 30,
      eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    });
    expect(start.PipelineExecutionDisplayName).toBe(`retrain-alarm-20261120T100500Z-${record!.tokenPrefix}`);
  });

  test('a scheduled start names its rule', () => {
    const classified = classifyRetrainEvent(
      {
        id: 'sched-1',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        time: '2026-11-22T03:00:00Z',
        resources: [RULE_ARN],
        detail: {},
      },
      [],
    );
    if (classified.kind !== 'retrain') throw new Error(`unexpected ${classified.kind}`);
    const start = startRequest({ ...SETTINGS, dataWindowDays: 7 }, classified.request);

    expect(
      parseRetrainExecution(start.PipelineExecutionDisplayName, start.PipelineExecutionDescription),
    ).toMatchObject({
      trigger: 'schedule',
      triggeredAt: '2026-11-22T03:00:00Z',
      triggerName: RULE_ARN,
      windowStart: '2026-11-15T03:00:00Z',
      windowDays: 7,
      eventId: 'sched-1',
    });
  });

  test('executions the trigger did not start are not read as its own', () => {
    expect(parseRetrainExecution('execution-1732096800000', 'started by hand')).toBeUndefined();
    expect(parseRetrainExecution(undefined, undefined)).toBeUndefined();
    // A display name of the trigger's shape with a description edited by hand: the name still tells the trigger.
    expect(parseRetrainExecution('retrain-schedule-20261122T030000Z-0123456789ab', 'rerun')).toEqual({
      trigger: 'schedule',
      triggeredAt: '2026-11-22T03:00:00Z',
      tokenPrefix: '0123456789ab',
    });
  });
});

describe('parseGateRecord reads back the approval gate verdict', () => {
  const report = (uri: string, rmse: number, mae: number) => ({
    uri,
    metrics: { 'regression_metrics.rmse': rmse, 'regression_metrics.mae': mae },
  });
  const rules = { ...DEFAULT_GATE_RULES, thresholds: [{ metric: 'regression_metrics.mae', max: 5 }] };

  test('an approval over a champion: verdict, both sets of numbers and the champion', () => {
    const { description } = decide(
      rules,
      { kind: 'report', report: report('s3://a/challenger/evaluation.json', 4.1, 3) },
      {
        kind: 'report',
        modelPackageArn: PACKAGE(3),
        report: report('s3://a/champion/evaluation.json', 4.5, 3.2),
      },
    );

    expect(parseGateRecord(description)).toEqual({
      decidedBy: 'gate',
      verdict: 'Approved',
      reasons:
        "every threshold holds (mae 3 <= 5); rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%)",
      challenger: { rmse: 4.1, mae: 3 },
      championArn: PACKAGE(3),
      champion: { rmse: 4.5, mae: 3.2 },
      description,
    });
  });

  test('a rejection without a champion, and one with an unusable report', () => {
    const first = decide(
      rules,
      { kind: 'report', report: report('s3://a/c.json', 4.1, 6.5) },
      { kind: 'none', pointerName: '/mlops/prod/serving/trip-duration/model-package-arn' },
    );
    expect(parseGateRecord(first.description)).toMatchObject({
      verdict: 'Rejected',
      reasons: expect.stringMatching(/^mae 6\.5 is above the maximum 5; no champion serves in prod/),
      challenger: { rmse: 4.1, mae: 6.5 },
    });
    expect(parseGateRecord(first.description).championArn).toBeUndefined();

    const unusable = decide(
      rules,
      { kind: 'unusable', reason: 'the package has no evaluation report' },
      { kind: 'none', pointerName: '/p' },
    );
    const record = parseGateRecord(unusable.description);
    expect(record.verdict).toBe('Rejected');
    expect(record.challenger).toBeUndefined();
  });

  test('a description the gate did not write is a person decision; a cut number is dropped', () => {
    expect(parseGateRecord('Approved after review by J. Doe')).toEqual({
      decidedBy: 'person',
      reasons: 'Approved after review by J. Doe',
      description: 'Approved after review by J. Doe',
    });
    expect(parseGateRecord(undefined)).toEqual({ decidedBy: 'person' });
    const cut = parseGateRecord(
      `Approved by the approval gate: ok. Challenger (s3://a): rmse 4.1, mae 3. Champion ${PACKAGE(3)} (s3://b): rmse 4.5, mae 3...`,
    );
    expect(cut.champion).toEqual({ rmse: 4.5 });
  });
});

describe('pointerSwitches', () => {
  test('newest first, rewrites of the same value left out, the first version kept', () => {
    const at = (day: number) => new Date(Date.UTC(2026, 10, day));
    const switches = pointerSwitches([
      { Version: 3, Value: PACKAGE(2), LastModifiedDate: at(3), LastModifiedUser: 'release-role' },
      { Version: 1, Value: 'none', LastModifiedDate: at(1) },
      { Version: 2, Value: PACKAGE(1), LastModifiedDate: at(2), LastModifiedUser: 'alice' },
      // A put-parameter --overwrite of the value the pointer already holds.
      { Version: 4, Value: PACKAGE(2), LastModifiedDate: at(4), LastModifiedUser: 'release-role' },
    ]);

    expect(switches).toEqual([
      {
        version: 3,
        at: '2026-11-03T00:00:00.000Z',
        value: PACKAGE(2),
        previous: PACKAGE(1),
        by: 'release-role',
      },
      { version: 2, at: '2026-11-02T00:00:00.000Z', value: PACKAGE(1), previous: 'none', by: 'alice' },
      { version: 1, at: '2026-11-01T00:00:00.000Z', value: 'none' },
    ]);
  });
});

describe('formatAuditTrail', () => {
  test('a block per environment: served package, execution, trigger, window, gate, then the switches', () => {
    // GIVEN a trail with one served package produced by a retraining, and an older manual release
    const start = startRequest(SETTINGS, alarmRequest());
    const execution = executionRecord(
      EXECUTION,
      {
        PipelineExecutionArn: EXECUTION,
        PipelineExecutionDisplayName: start.PipelineExecutionDisplayName,
        PipelineExecutionDescription: start.PipelineExecutionDescription,
        PipelineExecutionStatus: 'Succeeded',
        CreationTime: new Date('2026-11-20T10:05:03Z'),
        $metadata: {},
      },
      start.PipelineParameters!,
    );
    const trail: AuditTrail = {
      model: 'trip-duration',
      environments: [
        {
          environment: 'prod',
          level: 4,
          region: 'us-east-1',
          releaseSource: false,
          pointers: [
            {
              slot: 'champion',
              pointerName: '/mlops/prod/serving/trip-duration/model-package-arn',
              exists: true,
              current: PACKAGE(4),
              olderSwitches: 2,
              switches: [
                {
                  version: 5,
                  at: '2026-11-21T08:12:40.000Z',
                  value: PACKAGE(4),
                  previous: PACKAGE(3),
                  by: 'arn:aws:sts::123456789012:assumed-role/release-step/x',
                  package: {
                    arn: PACKAGE(4),
                    found: true,
                    approvalStatus: 'Approved',
                    createdAt: '2026-11-20T11:00:00.000Z',
                    generatedBy: EXECUTION,
                    gate: parseGateRecord(
                      `Approved by the approval gate: rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%). ` +
                        `Challenger (s3://a): rmse 4.1. Champion ${PACKAGE(3)} (s3://b): rmse 4.5.`,
                    ),
                  },
                  execution,
                },
                {
                  version: 2,
                  at: '2026-11-02T00:00:00.000Z',
                  value: PACKAGE(3),
                  previous: 'none',
                  package: {
                    arn: PACKAGE(3),
                    found: true,
                    approvalStatus: 'Approved',
                    gate: { decidedBy: 'person' },
                  },
                },
              ],
            },
            {
              slot: 'challenger',
              pointerName: '/mlops/prod/serving/trip-duration/variants/challenger/model-package-arn',
              exists: false,
              switches: [],
              olderSwitches: 0,
            },
          ],
        },
      ],
    };

    // WHEN
    const text = formatAuditTrail(trail, 2);

    // THEN
    const lines = text.split('\n');
    expect(lines[0]).toBe('Audit trail of model trip-duration (up to 2 switches per pointer)');
    expect(lines).toContain('prod (level 4, us-east-1)');
    expect(lines).toContain('    serves    taxi-duration/4 (Approved, registered 2026-11-20T11:00:00.000Z)');
    expect(lines).toContain(
      '    since     2026-11-21T08:12:40.000Z by arn:aws:sts::123456789012:assumed-role/release-step/x',
    );
    expect(text).toMatch(
      / {4}produced {2}retrain-alarm-20261120T100500Z-[0-9a-f]{12} \(Succeeded, started 2026-11-20T10:05:03\.000Z\)/,
    );
    expect(lines).toContain(
      '    trigger   alarm trip-duration-feature-drift entered ALARM at 2026-11-20T10:05:00Z: Threshold Crossed: 0.31 > 0.25',
    );
    expect(lines).toContain('    data      2026-10-21T10:05:00Z to 2026-11-20T10:05:00Z');
    expect(lines).toContain(
      '    gate      Approved by the gate: rmse 4.1 vs champion taxi-duration/3 rmse 4.5',
    );
    const header = lines.findIndex((l) => l.trim().startsWith('switched at'));
    expect(lines[header + 1]).toMatch(
      /^ {6}2026-11-21T08:12:40\.000Z {2}taxi-duration\/4 {2}retrain-alarm-\S+ {2}alarm trip-duration-feature-drift {2}Approved by the gate/,
    );
    expect(lines[header + 2]).toMatch(
      /^ {6}2026-11-02T00:00:00\.000Z {2}taxi-duration\/3 {2}no pipeline execution recorded +- +Approved, not by the gate$/,
    );
    expect(lines).toContain('      ... 2 older switches (--limit 4 shows them)');
    expect(lines).toContain('    not deployed: the pointer does not exist');
  });

  test('shortPackage keeps values that are not package ARNs', () => {
    expect(shortPackage(PACKAGE(12))).toBe('taxi-duration/12');
    expect(shortPackage('none')).toBe('none');
  });
});
