import { loadSynthesizedApp } from '../support/synthesized-app';
import * as fs from 'fs';
import * as path from 'path';

// GIVEN the report the default app's synth wrote into the cloud assembly
const { report, outdir } = loadSynthesizedApp();
const byName = Object.fromEntries(report.environments.map((e) => [e.name, e]));

describe('maturity report of the default app', () => {
  test('lists every environment in config order with the documented fields', () => {
    expect(report.schemaVersion).toBe(2);
    expect(report.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    for (const env of report.environments) {
      expect(Object.keys(env).sort()).toEqual(
        [
          'achievedLevel',
          'alwaysOnResources',
          'capabilities',
          'conditionalAlwaysOnResources',
          'declaredLevel',
          'missingForNextLevel',
          'models',
          'name',
          'notes',
          'sharedCapabilities',
        ].sort(),
      );
    }
  });

  test('dev declares and reaches level 2, staging level 3, prod level 4', () => {
    expect(report.environments.map((e) => [e.name, e.declaredLevel, e.achievedLevel])).toEqual([
      ['dev', 2, 2],
      ['staging', 3, 3],
      ['prod', 4, 4],
    ]);
  });

  test('every environment shows the capabilities of levels 0 to 2; staging and prod also those of level 3, prod those of level 4', () => {
    // The maturity model's levels 0, 1 and 2 (DESIGN.md), written out rather than read from Capability.
    const upToLevel2 = [
      'artifact-store',
      'notebook-workspace',
      'ci-cd',
      'automated-tests',
      'ops-metrics',
      'training-pipeline',
      'experiment-tracking',
      'model-registry',
      'one-command-deployment',
      'multiple-models',
    ];
    // Staging and prod serve in real time, with blue/green updates that roll back on alarms, and are
    // released to from dev's approvals, in order, with a test variant each, and their captured
    // traffic is monitored for drift and quality; dev serves serverless and releases elsewhere.
    const level3 = [
      'deployment-guardrails',
      'release-on-approval',
      'staged-promotion',
      'variant-testing',
      'model-monitoring',
      'drift-detection',
      'model-quality',
    ];
    // Prod's drift and quality alarms drive dev's retraining loop, whose gate judges against prod's
    // model, and releases reach prod without a person.
    const level4 = ['automated-retraining', 'approval-gate', 'automatic-release', 'automation-guardrails'];
    const guarded = { dev: [], staging: level3, prod: [...level3, ...level4] };
    for (const env of report.environments) {
      expect({ name: env.name, capabilities: [...env.capabilities].sort() }).toEqual({
        name: env.name,
        capabilities: [...upToLevel2, ...guarded[env.name as keyof typeof guarded]].sort(),
      });
    }
  });

  test('dev has its own workspace; staging and prod use the one in dev; the pipeline delivers all', () => {
    const pipeline = { 'ci-cd': 'delivery-pipeline', 'automated-tests': 'delivery-pipeline' };
    expect(byName.dev.sharedCapabilities).toEqual(pipeline);
    expect(byName.staging.sharedCapabilities).toEqual({ 'notebook-workspace': 'dev', ...pipeline });
    expect(byName.prod.sharedCapabilities).toEqual({ 'notebook-workspace': 'dev', ...pipeline });
  });

  test('names what is missing for the next level: level 3 for dev, level 4 for staging, nothing for prod', () => {
    const level4 = ['automated-retraining', 'approval-gate', 'automatic-release', 'automation-guardrails'];
    expect(report.environments.map((e) => [e.name, e.missingForNextLevel])).toEqual([
      [
        'dev',
        [
          'release-on-approval',
          'staged-promotion',
          'deployment-guardrails',
          'variant-testing',
          'model-monitoring',
          'drift-detection',
          'model-quality',
        ],
      ],
      ['staging', level4],
      ['prod', []],
    ]);
  });

  test('no environment has resources that bill while idle before a model is released', () => {
    for (const env of report.environments) {
      expect({ name: env.name, alwaysOn: env.alwaysOnResources }).toEqual({ name: env.name, alwaysOn: [] });
    }
  });

  test("dev's serverless slot never bills while idle; the real-time slots of staging and prod do once released", () => {
    expect(byName.dev.conditionalAlwaysOnResources).toEqual([]);
    for (const name of ['staging', 'prod']) {
      expect(
        byName[name].conditionalAlwaysOnResources.map((r) => [r.type, r.path, r.conditional, r.model]),
      ).toEqual([
        ['AWS::SageMaker::Endpoint', `${name}/Serving/trip-duration/Endpoint`, true, 'trip-duration'],
        ['AWS::SageMaker::Endpoint', `${name}/Serving/fare-amount/Endpoint`, true, 'fare-amount'],
      ]);
    }
  });

  test('a Markdown version sits next to the JSON', () => {
    const markdown = fs.readFileSync(path.join(outdir, 'maturity-report.md'), 'utf8');
    expect(markdown).toMatch(/^# MLOps maturity report/);
    expect(markdown).toContain(
      '| dev | 2 Automated training | 2 Automated training | trip-duration, fare-amount | release-on-approval, staged-promotion, deployment-guardrails, variant-testing, model-monitoring, drift-detection, model-quality | 0 | 0 |',
    );
    expect(markdown).toContain(
      '| prod | 4 Full automation | 4 Full automation | trip-duration, fare-amount | - | 0 | 2 |',
    );
    expect(markdown).toContain('- notebook-workspace (provided by dev)');
    // Each environment's section lists its models with their resources.
    expect(markdown).toContain('| model | pipeline | model package group | endpoint | serving |');
    expect(markdown).toMatch(
      /\| fare-amount \| `prod-Platform-Level2-fare-amount-Training-[^`]+` \| `prod-platform-level2-fare-amount-modelregistry-[0-9a-f]{8}` \| `mlops-prod-fare-amount` \| realTime \|/,
    );
    expect(markdown).toContain(
      '- `AWS::SageMaker::Endpoint` at `prod/Serving/fare-amount/Endpoint` (model fare-amount): real-time endpoint instances bill per hour',
    );
  });
});
