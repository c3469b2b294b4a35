// The online gate of one model, a task of its online-gate workflow (OnlineGateWorkflow): after the
// challenger served as the shadow variant of the level-4 environment's endpoint for the window,
// joins the shadow's and the champion's captured predictions with the ground truth, compares their
// live quality (lambda/shared/automation/online-gate.ts) and records Approved or Rejected, with the
// offline and the online numbers, on the package.
//
// Environment (read once, at cold start; a missing or invalid value fails the initialisation
// with a message naming the variable):
//   PRODUCTION_DATA_PARAMETER_NAME  required: the level-4 environment's production data parameter,
//                                   JSON {"captureUrl","groundTruthUrl","kmsKeyArn"}
//   ENDPOINT_NAME                   required: the endpoint of the model's slot in that environment
//   CHAMPION_VARIANT_NAME           optional (default AllTraffic): the variant serving the champion
//   SHADOW_VARIANT_NAME             optional (default Shadow): the variant the challenger serves as
//   LIVE_METRIC                     optional (default rmse): rmse, mae, accuracy or f1
//   MARGIN_PERCENT                  optional (default 1): how much better than the champion, in percent
//   MIN_SAMPLES                     optional (default 100): matched labels each variant needs
//   MODEL_NAME                      required: the `modelName` key of logs, `ModelName` dimension
//   POWERTOOLS_METRICS_NAMESPACE    required: the CloudWatch namespace of the metrics
//   POWERTOOLS_SERVICE_NAME         optional (default `online-gate`)
//
// Outcomes (each invocation counts exactly one metric, unit Count):
//   approved         live quality beats the champion's by the margin    OnlineTrialsApproved
//   rejected         it does not, or not enough live traffic            OnlineTrialsRejected
//   already-decided  a person decided during the trial: left alone      AlreadyDecided
//   not-found        the package is gone                                 AlreadyDecided
//   (throws)         the data cannot be found, or an AWS call failed:    GateFailures
//                    nothing decided; the workflow stops the shadow, notifies and leaves the
//                    package pending
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { describeValue } from '../../lib/private/describe-value';
import { SAGEMAKER_NAME } from '../../lib/private/patterns';
import {
  EnvironmentProblems,
  OnlineGateRules,
  OnlineGateSettings,
  readOnlineGateRules,
  runOnlineGate,
} from '../shared/automation';
import { handlerTelemetry, runInvocation } from '../shared/handler-runtime';

/** The handler's configuration, from its environment. */
export interface OnlineGateConfig extends OnlineGateSettings {
  readonly modelName: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
  readonly rules: OnlineGateRules;
}

export const DEFAULT_SERVICE_NAME = 'online-gate';
export const DEFAULT_CHAMPION_VARIANT_NAME = 'AllTraffic';
export const DEFAULT_SHADOW_VARIANT_NAME = 'Shadow';

const SSM_PARAMETER_NAME = /^\/[a-zA-Z0-9_.\-/]{1,2047}$/;

/** Reads the configuration from `env`. Throws one error that names every missing or invalid variable. */
export function readConfig(env: NodeJS.ProcessEnv): OnlineGateConfig {
  const problems = new EnvironmentProblems('online gate');
  const read = (name: string, what: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') problems.add(`${name} is not set: set it to ${what}`);
    return value;
  };
  const productionDataParameterName = read(
    'PRODUCTION_DATA_PARAMETER_NAME',
    "the level-4 environment's production data parameter",
  );
  const endpointName = read('ENDPOINT_NAME', "the endpoint of the model's slot in the level-4 environment");
  const modelName = read('MODEL_NAME', 'the name of the model');
  const metricsNamespace = read('POWERTOOLS_METRICS_NAMESPACE', 'the CloudWatch namespace of the metrics');
  const championVariantName = env.CHAMPION_VARIANT_NAME?.trim() || DEFAULT_CHAMPION_VARIANT_NAME;
  const shadowVariantName = env.SHADOW_VARIANT_NAME?.trim() || DEFAULT_SHADOW_VARIANT_NAME;
  if (productionDataParameterName !== '' && !SSM_PARAMETER_NAME.test(productionDataParameterName)) {
    problems.add(
      `PRODUCTION_DATA_PARAMETER_NAME ${describeValue(productionDataParameterName)} is not an SSM parameter name ` +
        "starting with '/'",
    );
  }
  for (const [name, value] of [
    ['ENDPOINT_NAME', endpointName],
    ['CHAMPION_VARIANT_NAME', championVariantName],
    ['SHADOW_VARIANT_NAME', shadowVariantName],
  ] as const) {
    if (value !== '' && !SAGEMAKER_NAME.test(value)) {
      problems.add(
        `${name} ${describeValue(value)} is not a SageMaker name: up to 63 letters, digits and hyphens`,
      );
    }
  }
  if (championVariantName === shadowVariantName) {
    problems.add(
      `SHADOW_VARIANT_NAME ${describeValue(shadowVariantName)} is the champion's variant too: name the shadow`,
    );
  }
  const rules = readOnlineGateRules(env, problems);
  problems.throwIfAny();
  return {
    productionDataParameterName,
    endpointName,
    championVariantName,
    shadowVariantName,
    rules,
    modelName,
    metricsNamespace,
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
  };
}

/** What the handler returns to the workflow, which branches on `outcome`. */
export type OnlineGateOutcome =
  | {
      readonly outcome: 'approved' | 'rejected';
      readonly modelPackageArn: string;
      readonly description: string;
    }
  | {
      readonly outcome: 'already-decided';
      readonly modelPackageArn: string;
      readonly approvalStatus: string;
    };

export interface OnlineGateDependencies {
  readonly config: OnlineGateConfig;
  readonly sageMaker: SageMakerClient;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type OnlineGateHandler = (event: unknown, context?: Context) => Promise<OnlineGateOutcome>;

/** Creates the handler over the given configuration, clients, logger and metrics. */
export function createHandler(deps: OnlineGateDependencies): OnlineGateHandler {
  const { config, logger, metrics } = deps;
  const count = (metric: string) => metrics.addMetric(metric, MetricUnit.Count, 1);

  async function handle(event: unknown): Promise<OnlineGateOutcome> {
    let result;
    try {
      result = await runOnlineGate(deps, config, event);
    } catch (error) {
      logger.error('The online gate could not decide: the package stays pending', { error: error as Error });
      count('GateFailures');
      throw error;
    }
    switch (result.outcome) {
      case 'approved':
      case 'rejected':
        logger.info(
          result.outcome === 'approved' ? 'Approved the challenger online' : 'Rejected the challenger online',
          {
            reasons: result.decision.reasons,
            approvalDescription: result.decision.description,
          },
        );
        count(result.outcome === 'approved' ? 'OnlineTrialsApproved' : 'OnlineTrialsRejected');
        return {
          outcome: result.outcome,
          modelPackageArn: result.modelPackageArn,
          description: result.decision.description,
        };
      case 'already-decided':
      case 'not-found': {
        const approvalStatus = result.outcome === 'not-found' ? 'Deleted' : result.approvalStatus;
        logger.info('The package was decided during its trial: left alone', { approvalStatus });
        count('AlreadyDecided');
        return { outcome: 'already-decided', modelPackageArn: result.modelPackageArn, approvalStatus };
      }
    }
  }

  return async (event, context) => runInvocation({ logger, metrics }, event, context, handle);
}

// Cold start: configuration, logger, metrics and clients are created once per execution environment.
const config = readConfig(process.env);

export const handler: OnlineGateHandler = createHandler({
  config,
  sageMaker: new SageMakerClient({}),
  s3: new S3Client({}),
  ssm: new SSMClient({}),
  ...handlerTelemetry(config),
});
