import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeEndpointCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { quietHandlerLogs } from './support/quiet-logs';
import { handler, HealthCheckEvent } from '../../lambda/release-health';

const sageMaker = mockClient(SageMakerClient);
const cloudWatch = mockClient(CloudWatchClient);
const runtime = mockClient(SageMakerRuntimeClient);
const sts = mockClient(STSClient);

const ENDPOINT = 'mlops-staging-fare-amount';
const ALARMS = ['mlops-staging-fare-amount-rollback-errors', 'mlops-staging-fare-amount-rollback-latency'];
const event = (overrides: Partial<HealthCheckEvent> = {}): HealthCheckEvent => ({
  region: 'eu-west-1',
  endpointName: ENDPOINT,
  alarmNames: ALARMS,
  ...overrides,
});

// The response shapes follow the API references of DescribeEndpoint, DescribeAlarms and InvokeEndpoint.
const endpoint = (status: string, failure?: string) => ({
  EndpointName: ENDPOINT,
  EndpointArn: `arn:aws:sagemaker:eu-west-1:111111111111:endpoint/${ENDPOINT}`,
  EndpointConfigName: `${ENDPOINT}-config`,
  EndpointStatus: status as 'InService',
  FailureReason: failure,
  CreationTime: new Date('2026-11-30T10:00:00Z'),
  LastModifiedTime: new Date('2026-11-30T11:00:00Z'),
});
const alarm = (name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', reason = 'Threshold Crossed') => ({
  AlarmName: name,
  AlarmArn: `arn:aws:cloudwatch:eu-west-1:111111111111:alarm:${name}`,
  StateValue: state,
  StateReason: reason,
});

beforeEach(() => {
  sageMaker.reset();
  cloudWatch.reset();
  runtime.reset();
  sts.reset();
  quietHandlerLogs();
});
afterEach(() => jest.restoreAllMocks());

describe('release health check handler', () => {
  test('InService with every alarm OK (or without data, as an idle endpoint has) is healthy', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint('InService'));
    cloudWatch
      .on(DescribeAlarmsCommand, { AlarmNames: ALARMS })
      .resolves({ MetricAlarms: [alarm(ALARMS[0], 'OK'), alarm(ALARMS[1], 'INSUFFICIENT_DATA')] });
    await expect(handler(event())).resolves.toEqual({ healthy: true, reasons: [] });
    expect(runtime.calls()).toHaveLength(0);
  });

  test('an endpoint still updating, or failed, is unhealthy with its status and reason', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolves(endpoint('Failed', 'The primary container failed its ping'));
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm(ALARMS[0], 'OK'), alarm(ALARMS[1], 'OK')] });
    await expect(handler(event())).resolves.toEqual({
      healthy: false,
      reasons: [`endpoint ${ENDPOINT} is Failed (The primary container failed its ping), not InService`],
    });
  });

  test('an alarm in ALARM, and an alarm that does not exist, are each a reason', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint('InService'));
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [alarm(ALARMS[0], 'ALARM', 'Threshold Crossed: 3 datapoints were greater than 0')],
    });
    await expect(handler(event())).resolves.toEqual({
      healthy: false,
      reasons: [
        `alarm ${ALARMS[0]} is in ALARM: Threshold Crossed: 3 datapoints were greater than 0`,
        `alarm ${ALARMS[1]} does not exist`,
      ],
    });
  });

  test('an endpoint that does not exist is unhealthy, not an error', async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(
      new SageMakerServiceException({
        name: 'ValidationException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: `Could not find endpoint "${ENDPOINT}".`,
      }),
    );
    const result = await handler(event({ alarmNames: [] }));
    expect(result).toEqual({
      healthy: false,
      reasons: [`endpoint ${ENDPOINT} does not exist: Could not find endpoint "${ENDPOINT}".`],
    });
  });

  test('a smoke invocation that answers is healthy; one that fails is a reason', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint('InService'));
    const smokeTest = { contentType: 'text/csv', body: '3.1,14,2,18.5,132,236' };
    runtime.on(InvokeEndpointCommand).resolvesOnce({ Body: new TextEncoder().encode('14.72\n') as never });
    await expect(handler(event({ alarmNames: [], smokeTest }))).resolves.toEqual({
      healthy: true,
      reasons: [],
    });
    expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input).toMatchObject({
      EndpointName: ENDPOINT,
      ContentType: 'text/csv',
    });
    runtime
      .on(InvokeEndpointCommand)
      .rejects(Object.assign(new Error('Received server error (500)'), { name: 'ModelError' }));
    await expect(handler(event({ alarmNames: [], smokeTest }))).resolves.toEqual({
      healthy: false,
      reasons: [`the smoke invocation of ${ENDPOINT} failed: Received server error (500)`],
    });
  });

  test('a malformed event is a defect of the caller: thrown, nothing called', async () => {
    await expect(handler({ region: 'eu-west-1' } as never)).rejects.toThrow(/health check event must be/);
    expect([...sageMaker.calls(), ...cloudWatch.calls(), ...runtime.calls()]).toHaveLength(0);
  });
});

describe('release health check handler with a release role', () => {
  const ROLE = 'arn:aws:iam::222222222222:role/mlops-staging-release';
  afterEach(() => delete process.env.MODEL_NAME);

  test("the endpoint, its alarms and the smoke invocation are all reached through the environment's role", async () => {
    // GIVEN the environment's release role, whose sessions AssumeRole answers
    process.env.MODEL_NAME = 'fare-amount';
    sts.on(AssumeRoleCommand, { RoleArn: ROLE }).resolves({
      Credentials: {
        AccessKeyId: 'ASIASTAGING',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        // Far ahead, so that no renewal happens during the test.
        Expiration: new Date('2999-01-01T00:00:00Z'),
      },
    });
    sageMaker.on(DescribeEndpointCommand).resolves(endpoint('InService'));
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm(ALARMS[0], 'OK'), alarm(ALARMS[1], 'OK')] });
    runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('14.72') as never });
    // WHEN the gate runs with it (in a region no other test of this file uses: clients are kept)
    const smokeTest = { contentType: 'text/csv', body: '3.1,14,2,18.5,132,236' };
    await expect(
      handler(event({ region: 'eu-central-2', smokeTest, releaseRoleArn: ROLE })),
    ).resolves.toEqual({ healthy: true, reasons: [] });
    // THEN each of its three calls was signed with that session's credentials
    const calls = [...sageMaker.calls(), ...cloudWatch.calls(), ...runtime.calls()];
    expect(calls).toHaveLength(3);
    const keys: string[] = [];
    for (const call of calls) {
      keys.push((await (call.thisValue as SageMakerClient).config.credentials()).accessKeyId);
    }
    expect(keys).toEqual(['ASIASTAGING', 'ASIASTAGING', 'ASIASTAGING']);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE, RoleSessionName: 'release-fare-amount' },
    ]);
  });

  test('a release role that is not an IAM role ARN is a defect of the caller: thrown, nothing called', async () => {
    await expect(handler(event({ releaseRoleArn: 'mlops-staging-release' }))).rejects.toThrow(
      /health check event must be .*"releaseRoleArn"\?: <IAM role ARN>/,
    );
    expect([...sageMaker.calls(), ...cloudWatch.calls(), ...runtime.calls(), ...sts.calls()]).toHaveLength(0);
  });
});
