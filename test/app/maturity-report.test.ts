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

  test('dev has its own workspace; staging and prod use the one in dev', () => {
    expect(byName.dev.capabilities).toEqual(['artifact-store', 'notebook-workspace']);
    expect(byName.dev.sharedCapabilities).toEqual({});
    expect(byName.prod.capabilities).toEqual(['artifact-store', 'notebook-workspace']);
    expect(byName.prod.sharedCapabilities).toEqual({ 'notebook-workspace': 'dev' });
  });

  test('names what is missing for the next level', () => {
    const level1 = Capability.requiredAt(1).map((c) => c.name);
    for (const env of report.environments.filter((e) => e.achievedLevel === 0)) {
      expect(env.missingForNextLevel).toEqual(level1);
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
    expect(markdown).toContain('| dev | 0 No MLOps | 0 No MLOps | ci-cd, automated-tests, ops-metrics | 0 |');
    expect(markdown).toContain('- notebook-workspace (provided by dev)');
  });
});
