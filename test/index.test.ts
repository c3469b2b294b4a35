import { spawnSync } from 'child_process';
import * as path from 'path';
import * as api from '../lib';

const ROOT = path.join(__dirname, '..');

describe('public API', () => {
  test('exports exactly the constructs, option classes, maturity API, aspect and error class', () => {
    // GIVEN the names a user may import, written out by hand: a new export is a decision, not an accident
    const expected = [
      // maturity
      'BELOW_LEVEL_ZERO',
      'Capability',
      'MATURITY_REPORT_JSON',
      'MATURITY_REPORT_MARKDOWN',
      'MAX_MATURITY_LEVEL',
      'MIN_MATURITY_LEVEL',
      'MaturityContract',
      'MaturityLevel',
      'MaturityReport',
      'findAlwaysOnResources',
      'isMaturityLevel',
      'maturityLevelName',
      // level 0
      'ArtifactStore',
      'ArtifactStorePrefix',
      'Level0Tier',
      'Workspace',
      'WorkspaceNetworkAccess',
      // level 1
      'DEFAULT_SYNTH_COMMANDS',
      'DeliveryPipeline',
      'DeliverySource',
      'GitHubOidcDeployRole',
      'Level1Tier',
      'PlatformMonitoring',
      // level 2
      'BuiltInAlgorithmImage',
      'CapacitySize',
      'ConditionStep',
      'ExecutionVariable',
      'ExperimentTracking',
      'FailStep',
      'Join',
      'JsonGet',
      'LambdaStep',
      'Level2Tier',
      'PlatformModel',
      'MODEL_PACKAGE_STATE_CHANGE',
      'ModelRegistry',
      'ModelStep',
      'ParameterReference',
      'PipelineDefinition',
      'PipelineExpression',
      'PipelineParameter',
      'PipelineStep',
      'ProcessingStep',
      'REFERENCE_PIPELINE',
      'ReferenceTarget',
      'ReferenceWorkload',
      'RegisterModelStep',
      'ReleasePointer',
      'RequestStep',
      'SERVING_VARIANT_NAME',
      'CHALLENGER_VARIANT_NAME',
      'SHADOW_VARIANT_NAME',
      'ServingMode',
      'ServingSlot',
      'ServingVariant',
      'VariantWeight',
      'StepPropertyReference',
      'TrackingBackend',
      'TrainingPipeline',
      'TrafficShifting',
      'TrainingStep',
      'TuningStep',
      // level 3
      'ModelMonitoring',
      'MonitoringBaseline',
      'QualityProblemType',
      // the platform
      'DEFAULT_MODEL_NAME',
      'EnvironmentStage',
      'PlatformStack',
      // level 3: release on approval
      'ReleaseRole',
      'ReleaseWorkflow',
      'ServingDeployRole',
      // level 4: the online gate
      'LiveQualityMetric',
      'OnlineGateWorkflow',
      // level 4: the retraining loop
      'AutomationTarget',
      'ModelAutomation',
      // verification and errors
      'MlopsValidationError',
      'RedundantDependsOnLintAcknowledgement',
    ];
    // THEN the entry point exports those and nothing else: no config parser, release engine,
    // schema tables (STEP_ARGUMENT_SHAPES, shapeProblems) or naming helpers
    expect(Object.keys(api).sort()).toEqual([...expected].sort());
  });

  test('loading the library loads no AWS SDK client, no app config, nothing from bin/ or lambda/, and not the testing kit', () => {
    // GIVEN a fresh process, so that no other test has filled the module cache
    const script = `
      require('./lib');
      const loaded = Object.keys(require.cache).map((f) => require('path').relative(process.cwd(), f));
      console.log(JSON.stringify(loaded));
    `;
    const result = spawnSync(process.execPath, ['-r', 'esbuild-register', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    const loaded = JSON.parse(result.stdout) as string[];
    // THEN the library itself was loaded (a guard against checking an empty list) ...
    expect(loaded).toContain(path.join('lib', 'platform', 'platform-stack.ts'));
    // ... and none of the SDK, the config or the app
    expect(loaded.filter((f) => f.includes(`node_modules${path.sep}@aws-sdk${path.sep}`))).toEqual([]);
    expect(loaded.filter((f) => f.startsWith(path.join('lib', 'config') + path.sep))).toEqual([]);
    expect(loaded.filter((f) => f.startsWith(`bin${path.sep}`))).toEqual([]);
    expect(loaded.filter((f) => f.startsWith(`lambda${path.sep}`))).toEqual([]);
    // AND the testing kit is its own entry point, loaded only when imported
    expect(loaded.filter((f) => f.startsWith(path.join('lib', 'testing') + path.sep))).toEqual([]);
  });
});
