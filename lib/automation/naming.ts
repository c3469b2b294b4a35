import { createHash } from 'crypto';

/**
 * Names the level-4 loop shares between the release source (where a model retrains and its gate
 * runs) and the level-4 environment whose alarms and data drive it. The two sides are in different
 * stages, which cannot reference each other, so each side derives the other's names from the
 * environment and model names alone.
 */

/** IAM role names and Lambda function names are at most 64 characters. */
const MAX_NAME = 64;

/**
 * `parts` joined by hyphens; when longer than 64 characters, cut and ended with 8 hex digits of the
 * full name's SHA-256, so that two long names stay distinct.
 */
function boundedName(...parts: string[]): string {
  const full = parts.join('-');
  if (full.length <= MAX_NAME) {
    return full;
  }
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${hash}`;
}

/** The retrain trigger function of `modelName` in the release source `sourceEnvironment`. */
export function retrainTriggerFunctionName(sourceEnvironment: string, modelName: string): string {
  return boundedName('mlops', sourceEnvironment, modelName, 'retrain-trigger');
}

/**
 * The role of the function that assembles a model's production data (captured requests joined with
 * their ground truth) for retraining in the release source. The level-4 environment grants it read
 * access to its capture and ground-truth prefixes.
 */
export function productionDataRoleName(sourceEnvironment: string, modelName: string): string {
  return boundedName('mlops', sourceEnvironment, modelName, 'production-data');
}

/**
 * The role of a model's online-gate function (OnlineGateWorkflow) in the release source, which
 * judges the challenger on the level-4 environment's captures and ground truth: that environment
 * grants it read access to them, as it does the production-data role.
 */
export function onlineGateRoleName(sourceEnvironment: string, modelName: string): string {
  return boundedName('mlops', sourceEnvironment, modelName, 'online-gate');
}

/**
 * The SSM parameter in which a level-4 environment publishes where a model's production data is:
 * a JSON object `{"captureUrl": "s3://...", "groundTruthUrl": "s3://...", "kmsKeyArn": "..."}`.
 */
export function productionDataParameterName(environmentName: string, modelName: string): string {
  return `/mlops/${environmentName}/automation/${modelName}/production-data`;
}

/**
 * The pause switch of a model's retraining (an SSM String parameter, `active` or `paused`), in the
 * release source where the retrain trigger runs.
 */
export function pauseSwitchParameterName(sourceEnvironment: string, modelName: string): string {
  return `/mlops/${sourceEnvironment}/automation/${modelName}/retraining`;
}

/** The names of a model's monitoring alarms in an environment (ModelMonitoring's `alarmNames`). */
export interface ModelMonitoringAlarmNames {
  /** The alarm on the share of drifted features. */
  readonly driftedFeatureShare: string;
  /** The alarm on the largest feature PSI. */
  readonly maxFeaturePsi: string;
  /** The alarm on the model quality metric (RMSE or accuracy). */
  readonly quality: string;
}

/**
 * The drift and model-quality alarms of `modelName` in `environmentName`: the level-4
 * environment creates them under these names, and the release source's retrain trigger watches
 * them by these names.
 */
export function modelMonitoringAlarmNames(
  environmentName: string,
  modelName: string,
): ModelMonitoringAlarmNames {
  const prefix = `mlops-${environmentName}-${modelName}`;
  return {
    driftedFeatureShare: `${prefix}-drifted-feature-share`,
    maxFeaturePsi: `${prefix}-max-feature-psi`,
    quality: `${prefix}-model-quality`,
  };
}
