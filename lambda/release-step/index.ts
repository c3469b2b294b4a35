// One step of a release, for the release workflow's state machine: `plan` checks the execution's
// input (before any environment is touched); `start` checks the target and the packages, writes
// the pointers and starts the stack update; `restore` does the same with the values an earlier
// release replaced; `check` reads the update once. Each call fits in one invocation; the state
// machine waits between checks. With a `releaseRoleArn`, every AWS call of the step is made through
// a session of that role (the target's release role, possibly in another account), named after the
// model.
//
// Environment: POWERTOOLS_SERVICE_NAME (logs), RELEASE_POLL_INTERVAL_SECONDS and
// RELEASE_TIMEOUT_SECONDS (how often the workflow checks, and how long an update may take),
// MODEL_NAME (in the release role's session name).
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  AnyReleaseRequest,
  checkRelease,
  ReleaseDependencies,
  ReleaseError,
  ReleaseResult,
  ReleaseStep,
  ReleaseToken,
  startRelease,
} from '../shared/release';
import { IAM_ROLE_ARN, perRegion, releaseSessionName } from '../shared/per-region';
import {
  changeRequest,
  InvalidReleaseInput,
  parseReleaseInput,
  ReleaseChange,
  restoreRequest,
  WorkflowTarget,
} from './release-change';

export { InvalidReleaseInput, type ReleaseChange, type WorkflowTarget } from './release-change';

/**
 * What the state machine passes: the execution's input to check; a target and the checked change
 * to start a release on; a target and the result of a release to undo; or the token of a running
 * one. `releaseRoleArn` is the target's release role, when it has one.
 */
export type ReleaseStepEvent =
  | { readonly action: 'plan'; readonly input: unknown }
  | {
      readonly action: 'start';
      readonly target: WorkflowTarget;
      readonly release: ReleaseChange;
      readonly releaseRoleArn?: string;
    }
  | {
      readonly action: 'restore';
      readonly target: WorkflowTarget;
      readonly result: ReleaseResult;
      readonly releaseRoleArn?: string;
    }
  | {
      readonly action: 'check';
      readonly token: ReleaseToken<AnyReleaseRequest>;
      readonly releaseRoleArn?: string;
    };

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

export async function handler(event: ReleaseStepEvent & { action: 'plan' }): Promise<ReleaseChange>;
export async function handler(event: ReleaseStepEvent): Promise<ReleaseStep<AnyReleaseRequest>>;
export async function handler(
  event: ReleaseStepEvent,
): Promise<ReleaseStep<AnyReleaseRequest> | ReleaseChange> {
  if (event?.action === 'plan') {
    try {
      const change = parseReleaseInput(event.input);
      logger.info('release input', { ...change });
      return change;
    } catch (error) {
      if (error instanceof InvalidReleaseInput) {
        logger.error('invalid release input', { reason: error.message });
      }
      throw error;
    }
  }
  const role = event?.releaseRoleArn;
  const roleValid = role === undefined || (typeof role === 'string' && IAM_ROLE_ARN.test(role));
  if (roleValid && isStartable(event)) {
    const { target } = event;
    logger.appendKeys({ stackName: target.stackName });
    return run(async () => {
      // A variant the target does not offer is refused here, as the engine refuses: nothing written.
      const request =
        event.action === 'start'
          ? changeRequest(target, event.release)
          : restoreRequest(target, event.result);
      logger.appendKeys({ modelPackageArn: request.modelPackageArn });
      return startRelease<AnyReleaseRequest>(request, {
        ...clientsFor(target.region, role),
        log: (line) => logger.info(line),
        pollIntervalMs,
        timeoutMs,
      });
    });
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
    `release step event must be {"action":"plan","input":{...}}, {"action":"start","target":{...},"release":{...}}, ` +
      `{"action":"restore","target":{...},"result":{...}} or {"action":"check","token":{...}}, ` +
      `with an IAM role ARN as releaseRoleArn or none, ` +
      `got ${JSON.stringify(event)?.slice(0, 200)}`,
  );
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStartable(
  event: ReleaseStepEvent,
): event is Extract<ReleaseStepEvent, { action: 'start' | 'restore' }> {
  const e = event as Partial<Record<'action' | 'target' | 'release' | 'result', unknown>> | undefined;
  const target = e?.target as Partial<WorkflowTarget> | undefined;
  return (
    ((e?.action === 'start' && isRecord(e.release)) || (e?.action === 'restore' && isRecord(e.result))) &&
    isRecord(target) &&
    typeof target.region === 'string' &&
    typeof target.pointerName === 'string'
  );
}

async function run(
  step: () => Promise<ReleaseStep<AnyReleaseRequest>>,
): Promise<ReleaseStep<AnyReleaseRequest>> {
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
