import { Template } from 'aws-cdk-lib/assertions';
import { createPlatformApp } from '../../bin/platform-app';
import { EnvironmentStage } from '../../lib/platform/environment-stage';
import { loadSynthesizedApp, cdkJsonContext } from '../support/synthesized-app';
import {
  shapeProblems,
  STEP_ARGUMENT_SHAPES,
  STEP_REQUIRED_ARGUMENTS,
} from '../../lib/training/pipeline-definition';
import { allStepBodies, pipelineDefinitionBody } from '../support/pipeline-body';

type Resources = Record<string, { Type: string }>;

/** Logical id -> type of every resource and output of a stage's stacks. */
function logicalIds(stage: EnvironmentStage): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const stack of [stage.release!, stage.platform, stage.serving!]) {
    const template = Template.fromStack(stack).toJSON() as { Resources: Resources; Outputs?: object };
    for (const [id, resource] of Object.entries(template.Resources)) {
      ids[`${stack.stackName}/${id}`] = resource.Type;
    }
    for (const id of Object.keys(template.Outputs ?? {})) {
      ids[`${stack.stackName}/Outputs/${id}`] = 'Output';
    }
  }
  return ids;
}

/** The default app's dev, built in-process without bundling, with extra context on top of cdk.json's. */
function devStage(extra: Record<string, unknown> = {}): EnvironmentStage {
  const { stages } = createPlatformApp({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'mlops:env': 'dev', ...extra },
    analyticsReporting: false,
  });
  return stages[0];
}

describe('several models per environment', () => {
  const { stacks, report } = loadSynthesizedApp();

  test.each(['dev', 'staging', 'prod'])(
    'the default app: %s has two pipelines, model package groups and serving slots',
    (environment) => {
      const platform = stacks.find((s) => s.stackName === `${environment}-Platform`)!;
      const template = Template.fromJSON(platform.template);
      template.resourceCountIs('AWS::SageMaker::Pipeline', 2);
      template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 2);
      template.resourceCountIs('AWS::SageMaker::MlflowApp', 1);
      const serving = Template.fromJSON(
        stacks.find((s) => s.stackName === `${environment}-Serving`)!.template,
      );
      serving.resourceCountIs('AWS::SageMaker::Endpoint', 2);
      for (const model of ['trip-duration', 'fare-amount']) {
        serving.hasResourceProperties('AWS::SageMaker::Endpoint', {
          EndpointName: `mlops-${environment}-${model}`,
        });
      }
      const release = Template.fromJSON(
        stacks.find((s) => s.stackName === `${environment}-Release`)!.template,
      );
      for (const model of ['trip-duration', 'fare-amount']) {
        release.hasResourceProperties('AWS::SSM::Parameter', {
          Name: `/mlops/${environment}/serving/${model}/model-package-arn`,
          Value: 'none',
        });
      }
    },
  );

  test.each(['dev', 'staging', 'prod'])(
    "%s: both models' definitions pass the typed schema checks, each with its own target and gate",
    (environment) => {
      const platform = stacks.find((s) => s.stackName === `${environment}-Platform`)!;
      const pipelines = Object.entries(
        (
          platform.template as {
            Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
          }
        ).Resources,
      ).filter(([, r]) => r.Type === 'AWS::SageMaker::Pipeline');
      const gates: Record<string, unknown> = {};
      for (const [id, pipeline] of pipelines) {
        const steps = allStepBodies(pipelineDefinitionBody(pipeline));
        for (const step of steps) {
          const type = step.Type as keyof typeof STEP_ARGUMENT_SHAPES;
          const missing = (STEP_REQUIRED_ARGUMENTS[type] ?? []).filter(
            (k) => step.Arguments[k] === undefined,
          );
          expect([
            id,
            step.Name,
            shapeProblems(step.Arguments, STEP_ARGUMENT_SHAPES[type], 'Arguments'),
            missing,
          ]).toEqual([id, step.Name, [], []]);
        }
        const preprocess = steps.find((s) => s.Name === 'Preprocess')!;
        const body = pipelineDefinitionBody(pipeline);
        gates[id.startsWith('Level2fareamount') ? 'fare-amount' : 'trip-duration'] = {
          target: preprocess.Arguments.AppSpecification.ContainerArguments.includes('fare_amount'),
          maxRmse: body.Parameters.find((p) => p.Name === 'MaxRmse')!.DefaultValue,
        };
      }
      // The duration gate is in minutes, the fare gate in dollars.
      expect(gates).toEqual({
        'trip-duration': { target: false, maxRmse: 10 },
        'fare-amount': { target: true, maxRmse: 5 },
      });
    },
  );

  test('the maturity report lists both models of each environment with their resources', () => {
    for (const env of report.environments) {
      expect(env.models.map((m) => [m.name, m.endpointName, m.servingMode])).toEqual([
        ['trip-duration', `mlops-${env.name}-trip-duration`, env.name === 'dev' ? 'serverless' : 'realTime'],
        ['fare-amount', `mlops-${env.name}-fare-amount`, env.name === 'dev' ? 'serverless' : 'realTime'],
      ]);
      for (const model of env.models) {
        expect(model.pipelineName).toMatch(
          new RegExp(`^${env.name}-Platform-Level2-${model.name}-Training-`),
        );
        expect(model.modelPackageGroupName).toMatch(
          new RegExp(`^${env.name}-platform-level2-${model.name}-modelregistry-[0-9a-f]{8}$`),
        );
      }
      expect(env.notes).toEqual([]);
      expect(env.capabilities).toContain('multiple-models');
    }
  });

  // dev as cdk.json configures it, built once for the comparisons below.
  const two = logicalIds(devStage());

  test('adding a third model leaves every logical id of the first two unchanged', () => {
    // GIVEN dev with its two models, then with a third
    const three = logicalIds(devStage({ 'mlops:dev:models.fare-amount-v2.workload': 'fare-amount' }));
    // THEN every resource and output of the two-model dev is still there, with the same type
    const kept = Object.entries(two).filter(([id, type]) => three[id] === type);
    expect(kept.length).toBe(Object.keys(two).length);
    // AND the third model added its own pipeline, group, slot and pointer
    const added = Object.keys(three).filter((id) => !(id in two));
    expect(added.filter((id) => three[id] === 'AWS::SageMaker::Pipeline')).toEqual([
      expect.stringMatching(/^dev-Platform\/Level2fareamountv2TrainingPipeline[0-9A-F]{8}$/),
    ]);
    expect(added.filter((id) => three[id] === 'AWS::SSM::Parameter')).toEqual([
      expect.stringMatching(/^dev-Release\/Pointerfareamountv2[0-9A-F]{8}$/),
    ]);
    expect(added.filter((id) => three[id] === 'AWS::SageMaker::Endpoint')).toEqual([
      expect.stringMatching(/^dev-Serving\/fareamountv2Endpoint[0-9A-F]{8}$/),
    ]);
  });

  test('removing a model leaves the other one unchanged', () => {
    const one = logicalIds(
      devStage({
        'mlops:dev:models': JSON.stringify({ 'fare-amount': {} }),
      }),
    );
    const fareIds = Object.keys(one);
    expect(fareIds.every((id) => two[id] === one[id])).toBe(true);
  });
});
