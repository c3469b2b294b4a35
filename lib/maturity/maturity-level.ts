/**
 * The levels of the MLOps maturity model. A level includes every level below it.
 */
export enum MaturityLevel {
  /** An encrypted, versioned artifact store and a notebook workspace; everything else is manual. */
  NO_MLOPS = 0,
  /** CI/CD, automated tests and operational metrics for the platform and its ML code. */
  DEVOPS = 1,
  /** Parametrized training pipeline, experiment tracking, model registry, one-command deployment. */
  AUTOMATED_TRAINING = 2,
  /** Release on approval, staged promotion with guardrails, variants and model monitoring. */
  AUTOMATED_DEPLOYMENT = 3,
  /** Retraining from production signals, automatic approval and release, with guardrails. */
  FULL_AUTOMATION = 4,
}

/** The lowest and highest level a platform can declare. */
export const MIN_MATURITY_LEVEL = MaturityLevel.NO_MLOPS;
export const MAX_MATURITY_LEVEL = MaturityLevel.FULL_AUTOMATION;

const LEVEL_NAMES: Record<MaturityLevel, string> = {
  [MaturityLevel.NO_MLOPS]: 'No MLOps',
  [MaturityLevel.DEVOPS]: 'DevOps, no MLOps',
  [MaturityLevel.AUTOMATED_TRAINING]: 'Automated training',
  [MaturityLevel.AUTOMATED_DEPLOYMENT]: 'Automated deployment',
  [MaturityLevel.FULL_AUTOMATION]: 'Full automation',
};

/** The model's name for a level, e.g. "Automated training" for 2. */
export function maturityLevelName(level: MaturityLevel): string {
  return LEVEL_NAMES[level];
}

/** True when `value` is one of the model's levels (an integer from 0 to 4). */
export function isMaturityLevel(value: unknown): value is MaturityLevel {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= MIN_MATURITY_LEVEL &&
    value <= MAX_MATURITY_LEVEL
  );
}
