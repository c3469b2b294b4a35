// The health gate of a release, for the release workflow's state machine: after a release and its
// soak time, an environment is healthy when its endpoint is InService, none of the slot's alarms is
// in ALARM, and, when configured, a smoke invocation with a known payload answers. With a
// `releaseRoleArn`, every call is made through a session of that role (the environment's release
// role, possibly in another account).
//
// Environment: POWERTOOLS_SERVICE_NAME (logs), MODEL_NAME (in the release role's session name).
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { IAM_ROLE_ARN, perRegion, releaseSessionName } from '../shared/per-region';
import { errorMessage, isAwsError } from '../shared/release/errors';

/** What the state machine passes: the environment's endpoint, its alarms and an optional smoke test. */
export interface HealthCheckEvent {
  readonly region: string;
  readonly endpointName: string;
  /** Alarms that must not be in ALARM (the slot's 5XX and latency alarms, and any others). */
  readonly alarmNames: string[];
  /** A request the released model must answer, e.g. one CSV row of features. */
  readonly smokeTest?: { readonly contentType: string; readonly body: string };
  /**
   * The environment's release role, assumed for every call.
   *
   * @default - the function's own role
   */
  readonly releaseRoleArn?: string;
}

/** The gate's verdict: healthy, or the reasons it is not. */
export interface HealthCheckResult {
  readonly healthy: boolean;
  readonly reasons: string[];
}

const logger = new Logger();

interface Clients {
  readonly sageMaker: SageMakerClient;
  readonly cloudWatch: CloudWatchClient;
  readonly runtime: SageMakerRuntimeClient;
}
const clientsFor = perRegion(
  (region, credentials): Clients => ({
    sageMaker: new SageMakerClient({ region, credentials }),
    cloudWatch: new CloudWatchClient({ region, credentials }),
    runtime: new SageMakerRuntimeClient({ region, credentials }),
  }),
  releaseSessionName,
);

function isHealthCheckEvent(event: unknown): event is HealthCheckEvent {
  const e = event as HealthCheckEvent | undefined;
  return (
    typeof e?.region === 'string' &&
    typeof e.endpointName === 'string' &&
    Array.isArray(e.alarmNames) &&
    e.alarmNames.every((n) => typeof n === 'string') &&
    (e.smokeTest === undefined ||
      (typeof e.smokeTest.contentType === 'string' && typeof e.smokeTest.body === 'string')) &&
    (e.releaseRoleArn === undefined ||
      (typeof e.releaseRoleArn === 'string' && IAM_ROLE_ARN.test(e.releaseRoleArn)))
  );
}

export async function handler(event: HealthCheckEvent): Promise<HealthCheckResult> {
  if (!isHealthCheckEvent(event)) {
    // Only the state machine invokes this function, so a bad event is a defect there: fail loudly.
    logger.error('malformed health check event', { event });
    throw new Error(
      'health check event must be {"region", "endpointName", "alarmNames": [...], "smokeTest"?: {"contentType", "body"}, ' +
        '"releaseRoleArn"?: <IAM role ARN>}, ' +
        `got ${JSON.stringify(event)?.slice(0, 200)}`,
    );
  }
  const { sageMaker, cloudWatch, runtime } = clientsFor(event.region, event.releaseRoleArn);
  const reasons: string[] = [];

  let inService = false;
  try {
    const endpoint = await sageMaker.send(new DescribeEndpointCommand({ EndpointName: event.endpointName }));
    inService = endpoint.EndpointStatus === 'InService';
    if (!inService) {
      reasons.push(
        `endpoint ${event.endpointName} is ${endpoint.EndpointStatus}` +
          (endpoint.FailureReason ? ` (${endpoint.FailureReason})` : '') +
          ', not InService',
      );
    }
  } catch (error) {
    if (!isAwsError(error, 'ValidationException')) {
      throw error;
    }
    reasons.push(`endpoint ${event.endpointName} does not exist: ${errorMessage(error)}`);
  }

  if (event.alarmNames.length > 0) {
    const alarms = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: event.alarmNames }));
    const found = new Set<string>();
    for (const alarm of [...(alarms.MetricAlarms ?? []), ...(alarms.CompositeAlarms ?? [])]) {
      found.add(alarm.AlarmName ?? '');
      if (alarm.StateValue === 'ALARM') {
        reasons.push(`alarm ${alarm.AlarmName} is in ALARM: ${alarm.StateReason ?? 'no reason given'}`);
      }
    }
    // An alarm that does not exist cannot watch the release: say so rather than count it healthy.
    for (const name of event.alarmNames.filter((n) => !found.has(n))) {
      reasons.push(`alarm ${name} does not exist`);
    }
  }

  if (event.smokeTest && inService) {
    try {
      const answer = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: event.endpointName,
          ContentType: event.smokeTest.contentType,
          Body: new TextEncoder().encode(event.smokeTest.body),
        }),
      );
      const body = answer.Body ? new TextDecoder().decode(answer.Body).trim() : '';
      if (body === '') {
        reasons.push(`the smoke invocation of ${event.endpointName} answered nothing`);
      }
    } catch (error) {
      reasons.push(`the smoke invocation of ${event.endpointName} failed: ${errorMessage(error)}`);
    }
  }

  const result = { healthy: reasons.length === 0, reasons };
  logger.info('health check', { endpointName: event.endpointName, ...result });
  return result;
}
