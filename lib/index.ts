// Public API of cdk-mlops-maturity: constructs, their props and option classes, the maturity API,
// the verification aspect and the error class. Re-exports only. Named lists where a module also
// holds internals; the app's config (bin/config) and the release engine are not library API.
export * from './maturity';
export * from './storage/artifact-store';
export * from './workspace/workspace';
export * from './delivery/delivery-pipeline';
export { GitHubOidcDeployRole } from './delivery/github-oidc-deploy-role';
export type { DeployTarget, GitHubOidcDeployRoleProps } from './delivery/github-oidc-deploy-role';
export * from './monitoring/platform-monitoring';
export { ModelMonitoring, MonitoringBaseline, QualityProblemType } from './monitoring/model-monitoring';
export type {
  ModelMonitoringAlarmNamesProps,
  ModelMonitoringProps,
  ModelMonitorScheduleOptions,
  ReleasedModelBaselineOptions,
} from './monitoring/model-monitoring';
export * from './registry/model-registry';
export * from './tracking/experiment-tracking';
export * from './training/builtin-algorithm-image';
// The pipeline definition model; its schema tables and renderers are internal.
export {
  ConditionStep,
  ExecutionVariable,
  FailStep,
  Join,
  JsonGet,
  LambdaStep,
  ModelStep,
  ParameterReference,
  PipelineDefinition,
  PipelineExpression,
  PipelineParameter,
  PipelineStep,
  ProcessingStep,
  RegisterModelStep,
  RequestStep,
  StepPropertyReference,
  TrainingStep,
  TuningStep,
} from './training/pipeline-definition';
export type {
  ComparisonType,
  ConditionStepProps,
  LambdaOutputParameter,
  LambdaOutputType,
  LambdaStepProps,
  ModelStepProps,
  PipelineCondition,
  PipelineDefinitionProps,
  PipelineObject,
  PipelineReference,
  PipelineStepOptions,
  PipelineStepType,
  PipelineValue,
  PipelineValueType,
  ProcessingStepProps,
  PropertyFile,
  RegisterModelStepProps,
  RequestStepProps,
  TrainingStepProps,
  TuningStepProps,
} from './training/pipeline-definition';
export * from './training/training-pipeline';
export * from './training/reference-workload';
export * from './serving/release-pointer';
export * from './serving/serving-slot';
export * from './serving/serving-variant';
export * from './serving/traffic-shifting';
export * from './serving/variant-weight';
export * from './tiers/level0-tier';
export * from './tiers/level1-tier';
export * from './tiers/level2-tier';
export { PlatformModel } from './tiers/platform-model';
export type { PlatformModelOptions, PlatformModelProps } from './tiers/platform-model';
export * from './platform/platform-stack';
export type {
  EnvironmentReleaseAutomation,
  EnvironmentReleaseSource,
  EnvironmentReleaseTarget,
  EnvironmentReleaseTargetModel,
} from './platform/release-automation';
// Level 3, release on approval (docs/adr/0006).
export { ReleaseWorkflow } from './release/release-workflow';
export type {
  ReleaseHealthCheck,
  ReleaseWorkflowProps,
  ReleaseWorkflowTarget,
} from './release/release-workflow';
export { ReleaseRole } from './release/release-role';
export type { ReleaseRoleProps } from './release/release-role';
export { ServingDeployRole } from './release/serving-deploy-role';
export type { ServingDeployRoleProps } from './release/serving-deploy-role';
export * from './platform/environment-stage';
// Level 4, the retraining loop: the release source's side and the level-4 environment's side.
export { ModelAutomation } from './automation/model-automation';
export type { ModelAutomationProps, ModelAutomationThreshold } from './automation/model-automation';
export * from './automation/automation-target';
export type {
  EnvironmentAutomationSource,
  EnvironmentModelAutomation,
  EnvironmentOnlineGate,
} from './platform/retraining-loop';
export * from './verification/redundant-depends-on';
export { MlopsValidationError } from './private/errors';
export { LiveQualityMetric, OnlineGateWorkflow } from './automation/online-gate-workflow';
export type { OnlineGateWorkflowProps } from './automation/online-gate-workflow';
