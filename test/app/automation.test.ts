import { createPlatformApp } from '../../bin/platform-app';
import { pipelineDefinitionBody } from '../support/pipeline-body';
import { loadSynthesizedApp, threeAccountContext } from '../support/synthesized-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resources = Record<string, { Type: string; Properties: Json }>;

// GIVEN the default app as `cdk synth` writes it: dev trains and hosts the loop, prod (level 4) drives it
const { stacks, report } = loadSynthesizedApp();
const resourcesOf = (name: string) =>
  (stacks.find((s) => s.stackName === name)!.template as { Resources: Resources }).Resources;
const ofType = (name: string, type: string) =>
  Object.entries(resourcesOf(name)).filter(([, r]) => r.Type === type);
const MODELS = ['trip-duration', 'fare-amount'];
const LEVEL_FOUR = ['automated-retraining', 'approval-gate', 'automatic-release', 'automation-guardrails'];

/** The environment variables of dev's function whose env has `key` equal to `value` for `model`. */
function devFunctionEnv(model: string, key: string): Record<string, string> {
  const fns = ofType('dev-Platform', 'AWS::Lambda::Function')
    .map(([, r]) => r.Properties.Environment?.Variables as Record<string, string> | undefined)
    .filter((v) => v?.MODEL_NAME === model && v[key] !== undefined);
  expect(fns).toHaveLength(1);
  return fns[0]!;
}

/** Prod's drift and quality alarms of `model`: the ModelMonitoring alarms, by the model's endpoint. */
function prodMonitoringAlarmNames(model: string): string[] {
  return ofType('prod-Platform', 'AWS::CloudWatch::Alarm')
    .filter(([id]) => id.startsWith(`ModelMonitoring${model.replace(/-/g, '')}`))
    .filter(([id]) => /DriftedFeatureShareAlarm|MaxFeaturePsiAlarm|QualityAlarm/.test(id))
    .map(([, a]) => a.Properties.AlarmName as string)
    .sort();
}

describe('the level-4 loop of the default app', () => {
  test('prod reaches level 4 with every level-4 capability; staging stays at 3 and dev at 2, without them', () => {
    const byName = Object.fromEntries(report.environments.map((e) => [e.name, e]));
    expect(report.environments.map((e) => [e.name, e.declaredLevel, e.achievedLevel])).toEqual([
      ['dev', 2, 2],
      ['staging', 3, 3],
      ['prod', 4, 4],
    ]);
    expect(byName.prod.capabilities).toEqual(expect.arrayContaining(LEVEL_FOUR));
    expect(byName.prod.missingForNextLevel).toEqual([]);
    for (const env of ['dev', 'staging']) {
      expect(byName[env].capabilities.filter((c) => LEVEL_FOUR.includes(c))).toEqual([]);
    }
  });

  test.each(MODELS)("%s: prod's monitoring alarms have the names both sides derive", (model) => {
    expect(prodMonitoringAlarmNames(model)).toEqual([
      `mlops-prod-${model}-drifted-feature-share`,
      `mlops-prod-${model}-max-feature-psi`,
      `mlops-prod-${model}-model-quality`,
    ]);
  });

  test.each(MODELS)("%s: dev's retrain trigger watches exactly prod's alarms, by name", (model) => {
    const env = devFunctionEnv(model, 'WATCHED_ALARMS');
    expect([...(JSON.parse(env.WATCHED_ALARMS) as string[])].sort()).toEqual(prodMonitoringAlarmNames(model));
    expect(env.PAUSE_PARAMETER_NAME).toBe(`/mlops/dev/automation/${model}/retraining`);
    // The pause switch exists under that name, active
    expect(
      ofType('dev-Platform', 'AWS::SSM::Parameter').map(([, p]) => [p.Properties.Name, p.Properties.Value]),
    ).toContainEqual([env.PAUSE_PARAMETER_NAME, 'active']);
  });

  test.each(MODELS)("%s: dev's approval gate judges against the package prod serves", (model) => {
    const env = devFunctionEnv(model, 'CHAMPION_POINTER_NAME');
    const prodPointers = ofType('prod-Release', 'AWS::SSM::Parameter').map(([, p]) => p.Properties.Name);
    expect(prodPointers).toContain(env.CHAMPION_POINTER_NAME);
    expect(env.CHAMPION_POINTER_NAME).toBe(`/mlops/prod/serving/${model}/model-package-arn`);
  });

  test.each(MODELS)(
    "%s: prod's rule sends its alarms entering ALARM to dev's trigger, which it may invoke",
    (model) => {
      const triggerName = `mlops-dev-${model}-retrain-trigger`;
      expect(
        ofType('dev-Platform', 'AWS::Lambda::Function').map(([, f]) => f.Properties.FunctionName),
      ).toContain(triggerName);
      const rules = ofType('prod-Platform', 'AWS::Events::Rule').filter(
        ([, r]) => r.Properties.EventPattern?.['detail-type']?.[0] === 'CloudWatch Alarm State Change',
      );
      const [[, rule]] = rules.filter(([id]) => id.startsWith(`AutomationTarget${model.replace(/-/g, '')}`));
      expect(rule.Properties.EventPattern).toMatchObject({
        source: ['aws.cloudwatch'],
        detail: { state: { value: ['ALARM'] } },
      });
      // The watched alarms, by their ARNs in prod's template
      const alarmIds = ofType('prod-Platform', 'AWS::CloudWatch::Alarm')
        .filter(([, a]) => prodMonitoringAlarmNames(model).includes(a.Properties.AlarmName))
        .map(([id]) => id)
        .sort();
      expect(
        (rule.Properties.EventPattern.resources as Json[]).map((r) => r['Fn::GetAtt'][0]).sort(),
      ).toEqual(alarmIds);
      const target = JSON.stringify(rule.Properties.Targets[0].Arn);
      expect(target).toContain(`:function:${triggerName}`);
      const permissions = ofType('prod-Platform', 'AWS::Lambda::Permission').filter(([, p]) =>
        JSON.stringify(p.Properties.FunctionName).includes(triggerName),
      );
      expect(permissions).toHaveLength(1);
      expect(permissions[0][1].Properties.Principal).toBe('events.amazonaws.com');
    },
  );

  test.each(MODELS)(
    '%s: prod publishes where its production data is, and lets the production-data role read it',
    (model) => {
      const [[, parameter]] = ofType('prod-Platform', 'AWS::SSM::Parameter').filter(
        ([, p]) => p.Properties.Name === `/mlops/prod/automation/${model}/production-data`,
      );
      const value = JSON.stringify(parameter.Properties.Value);
      expect(value).toContain(`/capture/mlops-prod-${model}/`);
      expect(value).toContain(`/ground-truth/mlops-prod-${model}/`);
      expect(value).toContain('kmsKeyArn');
      const policies = ofType('prod-Platform', 'AWS::IAM::Policy').filter(([, p]) =>
        (p.Properties.Roles as Json[]).includes(`mlops-dev-${model}-production-data`),
      );
      const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
      const text = JSON.stringify(statements);
      expect(text).toContain(`/capture/mlops-prod-${model}/*`);
      expect(text).toContain(`/ground-truth/mlops-prod-${model}/*`);
      expect(text).toContain('kms:Decrypt');
      expect(text).not.toMatch(/s3:(Put|Delete)/);
    },
  );

  test.each(MODELS)(
    "%s: dev's pipeline first assembles prod's production data, with the role prod grants and prod's location",
    (model) => {
      const env = devFunctionEnv(model, 'PRODUCTION_DATA_PARAMETER_NAME');
      expect(env.PRODUCTION_DATA_PARAMETER_NAME).toBe(`/mlops/prod/automation/${model}/production-data`);
      const roles = ofType('dev-Platform', 'AWS::IAM::Role').filter(
        ([, r]) => r.Properties.RoleName === `mlops-dev-${model}-production-data`,
      );
      expect(roles).toHaveLength(1);
      const [[, pipeline]] = ofType('dev-Platform', 'AWS::SageMaker::Pipeline').filter(([id]) =>
        id.startsWith(`Level2${model.replace(/-/g, '')}`),
      );
      const body = pipelineDefinitionBody(pipeline);
      // The Lambda step runs first, and the preprocessing reads the file it returns
      const [first, second] = body.Steps;
      expect([first.Type, first.Name]).toEqual(['Lambda', 'AssembleProductionData']);
      expect(first.Arguments).toMatchObject({
        DataWindowStart: { Get: 'Parameters.DataWindowStart' },
        DataWindowEnd: { Get: 'Parameters.DataWindowEnd' },
        RetrainReason: { Get: 'Parameters.RetrainReason' },
      });
      expect(JSON.stringify(second.Arguments.ProcessingInputs)).toContain(
        "Steps.AssembleProductionData.OutputParameters['ProductionDataUrl']",
      );
    },
  );

  test('a level-4 loop across accounts fails at synth, naming both environments', () => {
    expect(() => createPlatformApp({ context: { ...threeAccountContext(), 'mlops:prod:level': 4 } })).toThrow(
      /supported only with the release source and the level-4 environment in the same account and region: 'dev' is in account 111111111111, region eu-west-1, 'prod' in account 333333333333/,
    );
  });
});
