// One step of a release, for the release workflow's state machine: `start` checks the target and
// the package, writes the pointer and starts the stack update; `check` reads the update once.
// Each call fits in one invocation; the state machine waits between checks. With a
// `releaseRoleArn`, every AWS call of the step is made through a session of that role (the
// target's release role, possibly in another account), named after the model.
//
// Environment: POWERTOOLS_SERVICE_NAME (logs), RELEASE_POLL_INTERVAL_SECONDS and
// RELEASE_TIMEOUT_SECONDS (how often the workflow checks, and how long an update may take),
// MODEL_NAME (in the release role's session name).
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  checkRelease,
  ReleaseDependencies,
  ReleaseError,
  ReleaseRequest,
  ReleaseStep,
  ReleaseToken,
  startRelease,
} from '../shared/release';
import { IAM_ROLE_ARN, perRegion, releaseSessionName } from '../shared/per-region';

/**
 * What the state machine passes: the target to start a release on, or the token of one running;
 * `releaseRoleArn` is the target's release role, when it has one.
 */
export type ReleaseStepEvent =
  | { readonly action: 'start'; readonly request: ReleaseRequest; readonly releaseRoleArn?: string }
  | { readonly action: 'check'; readonly token: ReleaseToken; readonly releaseRoleArn?: string };

const logger = new Logger();

/** Clients per target region and role, created once per container. */
const clientsFor = perRegion(
  (region, credentials): Pick<ReleaseDependencies, 'ssm' | 'sageMaker' | 'cloudFormation'> => ({
    ssm: new SSMClient({ region, credentials }),
    sageMaker: new SageMakerClient({ region, credentials }),
    cloudFormation: new CloudFormationClient({ region, credentials }),
  }),
  releaseSessionName,
);

function secondsFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} is '${raw}': set it to a whole number of seconds`);
  }
  return value;
}

const pollIntervalMs = secondsFromEnv('RELEASE_POLL_INTERVAL_SECONDS', 30) * 1000;
const timeoutMs = secondsFromEnv('RELEASE_TIMEOUT_SECONDS', 3600) * 1000;

/**
 * A refused release or a failed update, as the state machine sees it: the error name is what its
 * Catch matches, the message starts with the engine's code.
 */
export class ReleaseStepError extends Error {
  constructor(error: ReleaseError) {
    super(`[${error.code}] ${error.message}`);
    this.name = 'ReleaseRefused';
  }
}

export async function handler(event: ReleaseStepEvent): Promise<ReleaseStep> {
  const role = event?.releaseRoleArn;
  const roleValid = role === undefined || (typeof role === 'string' && IAM_ROLE_ARN.test(role));
  if (roleValid && event?.action === 'start' && typeof event.request?.region === 'string') {
    const { request } = event;
    logger.appendKeys({ modelPackageArn: request.modelPackageArn, stackName: request.stackName });
    return run(() =>
      startRelease(request, {
        ...clientsFor(request.region, role),
        log: (line) => logger.info(line),
        pollIntervalMs,
        timeoutMs,
      }),
    );
  }
  if (roleValid && event?.action === 'check' && typeof event.token?.request?.region === 'string') {
    const { token } = event;
    logger.appendKeys({ modelPackageArn: token.request.modelPackageArn, stackName: token.request.stackName });
    return run(() =>
      checkRelease(token, { ...clientsFor(token.request.region, role), log: (line) => logger.info(line) }),
    );
  }
  // Only the state machine invokes this function, so a bad event is a defect there: fail loudly.
  logger.error('malformed release step event', { event });
  throw new Error(
    `release step event must be {"action":"start","request":{...}} or {"action":"check","token":{...}}, ` +
      `with an IAM role ARN as releaseRoleArn or none, ` +
      `got ${JSON.stringify(event)?.slice(0, 200)}`,
  );
}

async function run(step: () => Promise<ReleaseStep>): Promise<ReleaseStep> {
  try {
    const result = await step();
    logger.info('release step', { status: result.status });
    return result;
  } catch (error) {
    if (error instanceof ReleaseError) {
      logger.error('release refused', { code: error.code, message: error.message });
      throw new ReleaseStepError(error);
    }
    throw error;
  } finally {
    logger.removeKeys(['modelPackageArn', 'stackName']);
  }
}
