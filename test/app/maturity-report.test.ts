import { Capability } from '../../lib/maturity/capability';
import { loadSynthesizedApp } from '../support/synthesized-app';
import * as fs from 'fs';
import * as path from 'path';

// GIVEN the report the default app's synth wrote into the cloud assembly
const { report, outdir } = loadSynthesizedApp();
const byName = Object.fromEntries(report.environments.map((e) => [e.name, e]));

describe('maturity report of the default app', () => {
  test('lists every environment in config order with the documented fields', () => {
    expect(report.schemaVersion).toBe(1);
    expect(report.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    for (const env of report.environments) {
      expect(Object.keys(env).sort()).toEqual(
        [
          'achievedLevel',
          'alwaysOnResources',
          'capabilities',
          'declaredLevel',
          'missingForNextLevel',
          'name',
          'sharedCapabilities',
        ].sort(),
      );
    }
  });

  test('every environment achieves at least its declared level', () => {
    for (const env of report.environments) {
      expect({ name: env.name, ok: env.achievedLevel >= env.declaredLevel }).toEqual({
        name: env.name,
        ok: true,
      });
    }
  });

  test('every environment declares level 1 and shows the level-1 capabilities', () => {
    for (const env of report.environments) {
      expect(env.declaredLevel).toBe(1);
      expect(env.capabilities).toEqual([
        'artifact-store',
        'notebook-workspace',
        'ci-cd',
        'automated-tests',
        'ops-metrics',
      ]);
    }
  });

  test('dev has its own workspace; staging and prod use the one in dev; the pipeline delivers all', () => {
    const pipeline = { 'ci-cd': 'delivery-pipeline', 'automated-tests': 'delivery-pipeline' };
    expect(byName.dev.sharedCapabilities).toEqual(pipeline);
    expect(byName.prod.sharedCapabilities).toEqual({ 'notebook-workspace': 'dev', ...pipeline });
  });

  test('names what is missing for the next level', () => {
    const level2 = Capability.requiredAt(2).map((c) => c.name);
    for (const env of report.environments) {
      expect(env.achievedLevel).toBe(1);
      expect(env.missingForNextLevel).toEqual(level2);
    }
  });

  test('no environment has resources that bill while idle', () => {
    for (const env of report.environments) {
      expect({ name: env.name, alwaysOn: env.alwaysOnResources }).toEqual({ name: env.name, alwaysOn: [] });
    }
  });

  test('a Markdown version sits next to the JSON', () => {
    const markdown = fs.readFileSync(path.join(outdir, 'maturity-report.md'), 'utf8');
    expect(markdown).toMatch(/^# MLOps maturity report/);
    expect(markdown).toContain(
      '| dev | 1 DevOps, no MLOps | 1 DevOps, no MLOps | training-pipeline, experiment-tracking, model-registry, one-command-deployment | 0 |',
    );
    expect(markdown).toContain('- notebook-workspace (provided by dev)');
  });
});
