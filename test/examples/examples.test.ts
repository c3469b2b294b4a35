import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { normalizedTemplate } from '../../lib/testing';
import { EXAMPLES_DIR, linkBuiltPackage, ROOT } from '../support/built-package';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { formatFindings, nagV2Findings, reportFindings } from '../support/nag';

// The example apps use the library as users do: through the package name, resolved to the built
// package. Each is type-checked, synthesized as its own process the way `cdk synth` runs it (no
// credentials, no cdk.context.json, cdk-nag 3 registered by the app itself), linted with cfn-lint,
// and checked again in-process with cdk-nag 2's aspect.
const EXAMPLES = ['bring-your-own-bucket', 'serving-slot-alone', 'tiers-in-your-stack'];

type Build = (app: App) => Stack[];
/** The examples with the reference workload, whose step code is an asset. */
const SHIPS_STEP_CODE = ['bring-your-own-bucket', 'tiers-in-your-stack'];
const ESBUILD_REGISTER = require.resolve('esbuild-register');

/**
 * The kit as the examples' users load it: `cdk-mlops-maturity/testing` of the built package, the same
 * module instances as the constructs the examples create (the maturity contract and the classes the
 * cost assertions recognise are per module).
 */
function kit(): typeof import('../../lib/testing') & {
  MaturityLevel: typeof import('../../lib').MaturityLevel;
} {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (id: string) => require(require.resolve(id, { paths: [EXAMPLES_DIR] }));
  return { ...load('cdk-mlops-maturity/testing'), MaturityLevel: load('cdk-mlops-maturity').MaturityLevel };
}

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
  let inProcessStacks: Stack[] = [];

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`));
    // No AWS credentials, profile or region, and no context but what the app sets itself.
    synth = spawnSync(process.execPath, ['-r', ESBUILD_REGISTER, path.join(dir, 'main.ts')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...cleanEnv(), CDK_OUTDIR: outdir },
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
    expect(formatFindings(reportFindings(outdir))).toBe('');
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

  // cdk-nag 3 is covered by the app's own synth above (main.ts registers it); one in-process build
  // serves the cdk-nag 2 check and the cost assertions.
  test('cdk-nag 2 (its aspect, the common setup): zero errors and warnings', () => {
    const inProcess = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), `nag2-${name}-`)) });
    inProcessStacks = buildOf(dir)(inProcess);
    expect(formatFindings(nagV2Findings(inProcess))).toBe('');
  });

  test('every stack bills nothing while idle (the testing kit)', () => {
    expect(inProcessStacks.length).toBeGreaterThan(0);
    for (const stack of inProcessStacks) {
      kit().CostAssertions.of(stack).billsNothingWhileIdle();
    }
  });

  test('the normalized templates match their snapshots', () => {
    for (const stack of assembly.stacks) {
      expect(normalizedTemplate(stack.template)).toMatchSnapshot(stack.stackName);
    }
  });

  test('the normalized templates are byte-identical from another directory with touched step code', () => {
    // GIVEN a second copy of the example and of the built package, in another directory, whose step
    // code has a comment more (a rebuilt asset with the same behaviour)
    const other = copyExampleElsewhere(name);
    const otherOut = fs.mkdtempSync(path.join(os.tmpdir(), `example-other-${name}-`));
    const result = spawnSync(process.execPath, ['-r', ESBUILD_REGISTER, path.join(other, 'main.ts')], {
      cwd: other,
      encoding: 'utf8',
      env: { ...cleanEnv(), CDK_OUTDIR: otherOut },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const again = new CloudAssembly(otherOut);
    // THEN where the example ships step code the raw templates differ (the asset hash) ...
    const raw = (a: CloudAssembly) => a.stacks.map((st) => JSON.stringify(st.template)).join('\n');
    if (SHIPS_STEP_CODE.includes(name)) {
      expect(raw(again)).not.toBe(raw(assembly));
    }
    // AND each stack's normalized template is the same text as the one synthesized here
    expect(again.stacks.map((s) => s.stackName)).toEqual(assembly.stacks.map((s) => s.stackName));
    for (const stack of assembly.stacks) {
      const twin = again.getStackByName(stack.stackName);
      expect(JSON.stringify(normalizedTemplate(twin.template))).toBe(
        JSON.stringify(normalizedTemplate(stack.template)),
      );
    }
  });
});

test('the tiers example reaches level 2 (the testing kit)', () => {
  const stacks = buildOf(path.join(EXAMPLES_DIR, 'tiers-in-your-stack'))(new App());
  const platform = stacks.find((s) => s.stackName === 'TeamMlPlatform')!;
  const { MaturityAssertions, MaturityLevel } = kit();
  MaturityAssertions.of(platform).hasLevel(MaturityLevel.AUTOMATED_TRAINING);
  expect(MaturityAssertions.of(platform).missingForLevel(MaturityLevel.AUTOMATED_DEPLOYMENT)).toEqual([
    'release-on-approval',
    'staged-promotion',
    'deployment-guardrails',
    'variant-testing',
    'model-monitoring',
    'drift-detection',
    'model-quality',
  ]);
});

/** The example's `build`, loaded through the built package as a user's test would load it. */
function buildOf(dir: string): Build {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(dir, 'stacks')) as { build: Build }).build;
}

/** The environment without AWS credentials, profile or region, and without CDK context. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_')),
  );
}

/**
 * Copies an example and the built package (package.json, dist/, ml/) into a new directory, with a
 * comment appended to the step code; dependencies resolve to this repository's node_modules.
 */
function copyExampleElsewhere(name: string): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'example-clone-'));
  const examples = path.join(base, 'examples');
  const pkg = path.join(examples, 'node_modules', 'cdk-mlops-maturity');
  fs.cpSync(path.join(EXAMPLES_DIR, name), path.join(examples, name), { recursive: true });
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'ml'), path.join(pkg, 'ml'), {
    recursive: true,
    filter: (f) => !f.includes('__pycache__') && !f.includes('.pytest_cache'),
  });
  fs.appendFileSync(path.join(pkg, 'ml', 'preprocess.py'), '\n# touched: same behaviour\n');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(base, 'node_modules'), 'dir');
  return path.join(examples, name);
}
