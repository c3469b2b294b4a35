import { Template } from 'aws-cdk-lib/assertions';
import { createPlatformApp } from '../../bin/platform-app';
import { loadSynthesizedApp, threeAccountContext } from '../support/synthesized-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resources = Record<string, { Type: string; Properties: Json; Condition?: string }>;

// GIVEN the default app as `cdk synth` writes it: staging and prod serve in real time at level 3
const { stacks } = loadSynthesizedApp();
const resourcesOf = (name: string) =>
  (stacks.find((s) => s.stackName === name)!.template as Json).Resources as Resources;
const ofType = (name: string, type: string) =>
  Object.values(resourcesOf(name)).filter((r) => r.Type === type);
const MODELS = ['trip-duration', 'fare-amount'];

describe('model monitoring of the default app', () => {
  test.each(['staging', 'prod'])(
    "%s's real-time slots capture requests and responses to the artifact store",
    (env) => {
      const configs = ofType(`${env}-Serving`, 'AWS::SageMaker::EndpointConfig');
      expect(configs).toHaveLength(2);
      for (const config of configs) {
        expect(config.Properties.DataCaptureConfig).toMatchObject({
          EnableCapture: true,
          InitialSamplingPercentage: 100,
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        });
        expect(JSON.stringify(config.Properties.DataCaptureConfig.DestinationS3Uri)).toContain('/capture');
      }
    },
  );

  test.each(['staging', 'prod'])(
    '%s: per model, an hourly drift schedule, a daily quality job, and alarms that notify the topic, each with explicit missing-data treatment',
    (env) => {
      const platform = `${env}-Platform`;
      const rules = ofType(platform, 'AWS::Events::Rule').map((r) => JSON.stringify(r));
      const alarms = ofType(platform, 'AWS::CloudWatch::Alarm');
      const topic = Object.entries(resourcesOf(platform)).find(
        ([id, r]) => r.Type === 'AWS::SNS::Topic' && id.includes('AlarmTopic'),
      )![0];
      for (const model of MODELS) {
        const endpoint = `mlops-${env}-${model}`;
        const scheduled = rules.filter((r) => r.includes(`\\"endpointName\\":\\"${endpoint}\\"`));
        expect(scheduled.map((r) => JSON.parse(r).Properties.ScheduleExpression).sort()).toEqual([
          'rate(1 day)',
          'rate(1 hour)',
        ]);
        const mine = alarms.filter((a) =>
          (a.Properties.Dimensions ?? []).some(
            (d: Json) => d.Name === 'EndpointName' && d.Value === endpoint,
          ),
        );
        const byMetric: Record<string, Json> = Object.fromEntries(
          mine
            .filter((a) => ['DriftedFeatureShare', 'MaxFeaturePsi', 'Rmse'].includes(a.Properties.MetricName))
            .map((a) => [a.Properties.MetricName, a.Properties]),
        );
        // The RMSE bound is the model's registration gate: 10 minutes, 5 dollars.
        expect(
          Object.fromEntries(
            Object.entries(byMetric).map(([m, p]) => [m, [p.Threshold, p.TreatMissingData]]),
          ),
        ).toEqual({
          DriftedFeatureShare: [0.3, 'notBreaching'],
          MaxFeaturePsi: [0.2, 'notBreaching'],
          Rmse: [model === 'fare-amount' ? 5 : 10, 'notBreaching'],
        });
        for (const alarm of Object.values(byMetric)) {
          expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
        }
      }
    },
  );

  test('dev serves serverless, without capture: it has no model monitoring', () => {
    expect(
      ofType('dev-Platform', 'AWS::Events::Rule').some((r) => JSON.stringify(r).includes('DriftWorkflow')),
    ).toBe(false);
    expect(
      ofType('dev-Serving', 'AWS::SageMaker::EndpointConfig').every((c) => !c.Properties.DataCaptureConfig),
    ).toBe(true);
  });
});

describe('model monitoring across accounts', () => {
  // GIVEN dev, staging and prod in three accounts, built in-process without bundling
  const { stages } = createPlatformApp({ context: threeAccountContext() });
  const [dev, staging] = stages;

  test("dev's store lets staging and prod read the released models' drift baselines, and no other pipeline output", () => {
    const policies = Template.fromStack(dev.platform).findResources('AWS::S3::BucketPolicy');
    const reads = Object.values(policies)
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((st) => String(st.Sid).startsWith('ReleaseTargetsRead'));
    const text = JSON.stringify(reads);
    for (const model of MODELS) {
      expect(text).toContain(`/pipelines/${model}/*/preprocess/baseline/baseline.json`);
    }
    expect(text).not.toMatch(/\/pipelines\/[a-z-]+\/\*"/);
    expect(text).toMatch(/222222222222.*333333333333/);
  });

  test("staging's drift job reads baselines only in dev's account; its planner describes only dev's packages", () => {
    const template = JSON.stringify(Template.fromStack(staging.platform).findResources('AWS::IAM::Policy'));
    expect(template).toContain(':s3:::*/pipelines/fare-amount/*');
    expect(template).toContain('{"StringEquals":{"s3:ResourceAccount":"111111111111"}}');
    expect(template).toMatch(
      /sagemaker:eu-west-1:111111111111:model-package\/dev-platform-level2-fare-amount-modelregistry-[0-9a-f]{8}\/\*/,
    );
  });
});
