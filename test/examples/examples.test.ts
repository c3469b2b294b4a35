import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks as AwsSolutionsChecksV2 } from 'cdk-nag-v2';
import { EXAMPLES_DIR, linkBuiltPackage, ROOT } from '../support/built-package';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { findingsOf, formatFindings, nagFindings, readValidationReport } from '../support/nag';

// The example apps use the library as users do: through the package name, resolved to the built
// package. Each is type-checked, synthesized as its own process the way `cdk synth` runs it (no
// credentials, no cdk.context.json, cdk-nag 3 registered by the app itself), linted with cfn-lint,
// and checked again in-process with cdk-nag 2's aspect.
const EXAMPLES = ['bring-your-own-bucket', 'serving-slot-alone', 'tiers-in-your-stack'];

type Build = (app: App) => Stack[];

beforeAll(() => linkBuiltPackage());

test('the examples type-check against the built package', () => {
  // GIVEN the examples' own tsconfig (no path mapping: the package resolves through node_modules)
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  // WHEN compiled
  const result = spawnSync(tsc, ['-p', path.join(EXAMPLES_DIR, 'tsconfig.json')], { encoding: 'utf8' });
  // THEN there are no errors
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

describe.each(EXAMPLES)('example %s', (name) => {
  const dir = path.join(EXAMPLES_DIR, name);
  let outdir: string;
  let assembly: CloudAssembly;
  let synth: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`));
    // No AWS credentials, profile or region, and no context but what the app sets itself.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_')),
    );
    synth = spawnSync(process.execPath, ['-r', 'esbuild-register', path.join(dir, 'main.ts')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...env, CDK_OUTDIR: outdir },
    });
    if (synth.status === 0) {
      assembly = new CloudAssembly(outdir);
    }
  });

  test('synthesizes as its own process, clean under cdk-nag 3, without a context lookup', () => {
    // THEN the app exited 0 (cdk-nag 3 is registered by the app: any unacknowledged finding fails it)
    expect(String(synth.stderr)).not.toMatch(/AwsSolutions-|Error/);
    expect(synth.status).toBe(0);
    // AND nothing asked for context (a lookup would need credentials) or fell back to a dummy value
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const report = readValidationReport(outdir);
    expect(formatFindings(report ? findingsOf(report) : [])).toBe('');
    for (const stack of assembly.stacks) {
      expect(JSON.stringify(stack.template)).not.toMatch(/dummy/i);
    }
    expect(assembly.stacks.length).toBeGreaterThanOrEqual(1);
  });

  test('cfn-lint reports nothing', () => {
    const files = assembly.stacks.map((s) => path.join(outdir, s.templateFile));
    const { matches, stderr } = cfnLint(['--', ...files]);
    expect(stderr).toBe('');
    expect(formatCfnLint(matches)).toEqual([]);
  });

  test('cdk-nag 3 in-process: zero findings', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { build } = require(path.join(dir, 'stacks')) as { build: Build };
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), `nag3-${name}-`)) });
    build(app);
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test('cdk-nag 2 (its aspect, the common setup): zero errors and warnings', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { build } = require(path.join(dir, 'stacks')) as { build: Build };
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), `nag2-${name}-`)) });
    Aspects.of(app).add(new AwsSolutionsChecksV2());
    const stacks = build(app);
    const findings = stacks.flatMap((stack) => [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ]);
    expect(findings.map((f) => `${f.id}: ${String(f.entry.data).split('\n')[0]}`)).toEqual([]);
  });
});
