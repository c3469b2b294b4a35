import * as api from '../lib';

describe('public API', () => {
  test('exports every construct, the maturity contract and the error class', () => {
    for (const name of [
      'ArtifactStore',
      'ArtifactStorePrefix',
      'Workspace',
      'WorkspaceNetworkAccess',
      'DeliveryPipeline',
      'DeliverySource',
      'GitHubOidcDeployRole',
      'PlatformMonitoring',
      'ModelRegistry',
      'ExperimentTracking',
      'PipelineDefinition',
      'TrainingPipeline',
      'PipelineParameter',
      'ProcessingStep',
      'ConditionStep',
      'TrackingBackend',
      'BuiltInAlgorithmImage',
      'Level0Tier',
      'Level1Tier',
      'Level2Tier',
      'ReferenceWorkload',
      'ReleasePointer',
      'ServingSlot',
      'ServingMode',
      'RedundantDependsOnLintAcknowledgement',
      'releaseModel',
      'ReleaseError',
      'ExecutionVariable',
      'TuningStep',
      'ModelStep',
      'STEP_ARGUMENT_SHAPES',
      'releasePointerParameterName',
      'PlatformStack',
      'EnvironmentStage',
      'MaturityContract',
      'MaturityReport',
      'Capability',
      'MaturityLevel',
      'parsePlatformConfig',
      'MlopsValidationError',
    ]) {
      expect({ name, exported: typeof (api as Record<string, unknown>)[name] }).toEqual({
        name,
        exported: expect.stringMatching(/function|object/),
      });
    }
  });

  test('keeps internals private', () => {
    expect(Object.keys(api)).not.toEqual(expect.arrayContaining(['ProblemCollector']));
    // The cdk-nag acknowledgement helpers (acknowledgeWildcards, ...) are internal.
    expect(Object.keys(api).filter((k) => /^acknowledge/.test(k))).toEqual([]);
  });
});
