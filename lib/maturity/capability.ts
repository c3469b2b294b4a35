import { MaturityLevel } from './maturity-level';

// Module-level so it exists before the static fields below construct their instances.
const registry = new Map<string, Capability>();

/**
 * A named capability of the MLOps maturity model, and the level that first requires it.
 *
 * Tier constructs register the capabilities they provide with `MaturityContract.provide`; the
 * contract of an environment compares them with what its declared level requires.
 */
export class Capability {
  // Level 0: no MLOps
  public static readonly ARTIFACT_STORE = new Capability(
    'artifact-store',
    MaturityLevel.NO_MLOPS,
    'Encrypted, versioned artifact store',
  );
  public static readonly NOTEBOOK_WORKSPACE = new Capability(
    'notebook-workspace',
    MaturityLevel.NO_MLOPS,
    'Notebook workspace (SageMaker Studio)',
  );

  // Level 1: DevOps, no MLOps
  public static readonly CI_CD = new Capability(
    'ci-cd',
    MaturityLevel.DEVOPS,
    'CI/CD that tests and releases the platform and its ML code',
  );
  public static readonly AUTOMATED_TESTS = new Capability(
    'automated-tests',
    MaturityLevel.DEVOPS,
    'Automated tests gate every release',
  );
  public static readonly OPS_METRICS = new Capability(
    'ops-metrics',
    MaturityLevel.DEVOPS,
    'Operational metrics, dashboards and alerts',
  );

  // Level 2: automated training
  public static readonly TRAINING_PIPELINE = new Capability(
    'training-pipeline',
    MaturityLevel.AUTOMATED_TRAINING,
    'Parametrized training pipeline (SageMaker Pipelines)',
  );
  public static readonly EXPERIMENT_TRACKING = new Capability(
    'experiment-tracking',
    MaturityLevel.AUTOMATED_TRAINING,
    'Experiment tracking (SageMaker managed MLflow)',
  );
  public static readonly MODEL_REGISTRY = new Capability(
    'model-registry',
    MaturityLevel.AUTOMATED_TRAINING,
    'Model registry (model package groups)',
  );
  public static readonly ONE_COMMAND_DEPLOYMENT = new Capability(
    'one-command-deployment',
    MaturityLevel.AUTOMATED_TRAINING,
    'One-command deployment of a registered model',
  );
  public static readonly MULTIPLE_MODELS = new Capability(
    'multiple-models',
    MaturityLevel.AUTOMATED_TRAINING,
    'Any number of models side by side, each with its own pipeline, registry group and serving slot',
  );

  // Level 3: automated deployment
  public static readonly RELEASE_ON_APPROVAL = new Capability(
    'release-on-approval',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'Release when a model package is approved in the registry',
  );
  public static readonly STAGED_PROMOTION = new Capability(
    'staged-promotion',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'Staged promotion (staging, then prod)',
  );
  public static readonly DEPLOYMENT_GUARDRAILS = new Capability(
    'deployment-guardrails',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'Blue/green canary or linear deployment with alarm rollback',
  );
  public static readonly VARIANT_TESTING = new Capability(
    'variant-testing',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'A/B and shadow variants',
  );
  public static readonly MODEL_MONITORING = new Capability(
    'model-monitoring',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'Model monitoring: data drift, model quality, endpoint health',
  );
  public static readonly DRIFT_DETECTION = new Capability(
    'drift-detection',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'Data drift detection: captured requests compared with the training baseline on a schedule, alarmed',
  );
  public static readonly MODEL_QUALITY = new Capability(
    'model-quality',
    MaturityLevel.AUTOMATED_DEPLOYMENT,
    'Model quality: predictions joined with ground truth on a schedule, alarmed',
  );

  // Level 4: full automation
  public static readonly AUTOMATED_RETRAINING = new Capability(
    'automated-retraining',
    MaturityLevel.FULL_AUTOMATION,
    'Retraining triggered by production metrics and schedules',
  );
  public static readonly APPROVAL_GATE = new Capability(
    'approval-gate',
    MaturityLevel.FULL_AUTOMATION,
    'Automatic approval gate comparing challenger with champion',
  );
  public static readonly AUTOMATIC_RELEASE = new Capability(
    'automatic-release',
    MaturityLevel.FULL_AUTOMATION,
    'Automatic release through environments',
  );
  public static readonly AUTOMATION_GUARDRAILS = new Capability(
    'automation-guardrails',
    MaturityLevel.FULL_AUTOMATION,
    'Automation guardrails: cooldown, caps, pause switch, audit trail',
  );

  /** Every capability of the model, in level order. */
  public static all(): Capability[] {
    return [...registry.values()];
  }

  /** The capabilities first required at `level`. */
  public static requiredAt(level: MaturityLevel): Capability[] {
    return Capability.all().filter((c) => c.level === level);
  }

  /** The capabilities a platform needs to reach `level`: those of `level` and every level below. */
  public static requiredUpTo(level: MaturityLevel): Capability[] {
    return Capability.all().filter((c) => c.level <= level);
  }

  /** The capability named `name`, or undefined. */
  public static fromName(name: string): Capability | undefined {
    return registry.get(name);
  }

  private constructor(
    /** Stable kebab-case name, as written in the maturity report. */
    public readonly name: string,
    /** The lowest level that requires this capability. */
    public readonly level: MaturityLevel,
    /** What the capability means, for reports and error messages. */
    public readonly description: string,
  ) {
    registry.set(name, this);
  }

  public toString(): string {
    return this.name;
  }
}
