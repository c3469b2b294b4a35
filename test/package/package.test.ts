import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertBuiltPackageIsFresh } from '../support/built-package';

/**
 * The package as a user installs it from the registry: built by `prepack` with tsconfig.build.json,
 * packed by `npm pack`, installed into a project of its own. One build and one pack serve every test.
 */
const ROOT = path.join(__dirname, '..', '..');
const REPOSITORY = 'https://github.com/cdk-mlops-maturity/cdk-mlops-maturity';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackResult {
  readonly filename: string;
  readonly files: Array<{ path: string }>;
}

function npm(args: string[], cwd: string): string {
  // npm writes lifecycle output to stdout before the JSON; --silent keeps the JSON alone there.
  return execFileSync(NPM, ['--silent', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

let workDir: string;
let tarball: string;
let packed: string[];
let dryRun: string[];

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mlops-maturity-package-'));
  // `npm test` builds dist/ before jest, so the pack skips prepack's rebuild: other test files read
  // dist/ at the same time. The dry run lists what `npm publish` would ship.
  assertBuiltPackageIsFresh();
  const [result] = JSON.parse(
    npm(['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], ROOT),
  ) as PackResult[];
  tarball = path.join(workDir, result.filename);
  packed = result.files.map((f) => f.path);
  const [listed] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as PackResult[];
  dryRun = listed.files.map((f) => f.path);
}, 120_000);

afterAll(() => {
  if (workDir) {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});

describe('npm pack', () => {
  test('ships the built library, its step code, README, CHANGELOG and LICENSE', () => {
    // GIVEN the file list of `npm pack --dry-run --json`
    // THEN it has what a user needs at run time and reads on the registry page
    expect(dryRun).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'package.json',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/testing/index.js',
        'dist/lib/testing/index.d.ts',
        'dist/lib/training/reference-workload.js',
        'ml/run_step.py',
        'ml/preprocess.py',
        'ml/evaluate.py',
        'ml/requirements-step.txt',
      ]),
    );
    // AND the real pack ships the same files
    expect([...packed].sort()).toEqual([...dryRun].sort());
  });

  test('ships no tests, examples, benchmarks, app, scratch files or TypeScript sources but the handlers', () => {
    // GIVEN the file list of `npm pack --dry-run --json`
    // THEN nothing of the repository's own tooling is in it: TypeScript sources only of the Lambda
    // handlers, which NodejsFunction bundles at the user's synth, and the three import-free lib
    // modules they share with the constructs
    const handlerSources = (f: string) =>
      /^lambda\/[\w-]+\/([\w-]+\/)?[\w.-]+\.ts$/.test(f) ||
      f === 'lib/private/describe-value.ts' ||
      f === 'lib/private/patterns.ts' ||
      f === 'lib/serving/naming.ts';
    const unwanted = dryRun.filter(
      (f) =>
        (/^(test|examples|bench|bin|scratch|scripts|lambda|docs)\//.test(f) && !handlerSources(f)) ||
        /(^|\/)tests\//.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts') && !handlerSources(f)) ||
        /\.(tsbuildinfo|map)$/.test(f) ||
        /(^|\/)(cdk\.out|node_modules|\.synth|__pycache__)\//.test(f),
    );
    expect(unwanted).toEqual([]);
    // AND every handler's entry is shipped
    const handlers = fs
      .readdirSync(path.join(ROOT, 'lambda'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'shared')
      .map((d) => `lambda/${d.name}/index.ts`);
    expect(handlers.length).toBeGreaterThan(5);
    expect(handlers.filter((h) => !dryRun.includes(h))).toEqual([]);
    // AND every compiled file comes from lib/ only
    expect(dryRun.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/lib/'))).toEqual([]);
  });

  test('the license is the Apache License 2.0 that package.json declares, with our notice only', () => {
    // GIVEN the LICENSE file and package.json
    const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      license: string;
    };
    // THEN it is the full standard text, with the project's copyright notice and no one else's
    expect(manifest.license).toBe('Apache-2.0');
    expect(license).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license.match(/^[ \t]*Copyright .*$/gm)).toEqual([
      '   Copyright 2026 The cdk-mlops-maturity authors',
    ]);
  });

  test('package.json points at the repository, its issues and its README', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      repository: { type: 'git', url: `git+${REPOSITORY}.git` },
      homepage: `${REPOSITORY}#readme`,
      bugs: { url: `${REPOSITORY}/issues` },
    });
  });
});

describe('shipped type declarations', () => {
  test('hold no @internal member', () => {
    // GIVEN every .d.ts the pack ships (built by prepack with stripInternal)
    const declarations = packed.filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(10);
    // THEN none mentions @internal or declares an internal, underscore-prefixed member such as `_kind`
    const leaks = declarations.flatMap((f) => {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      return [
        ...(text.includes('@internal') ? [`${f}: @internal`] : []),
        ...[
          ...text.matchAll(
            /(?:^|[\s;{])(?:(?:public|protected|readonly|static)\s+)*(_[A-Za-z]\w*)\??\s*[:(]/gm,
          ),
        ].map((m) => `${f}: ${m[1]}`),
      ];
    });
    expect(leaks).toEqual([]);
  });
});

describe('README links to docs', () => {
  test('every link into the repository resolves on the registry page', () => {
    // GIVEN the README's markdown links, and the decision that docs/ is not packed: links to it are absolute
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1].split('#')[0])
      .filter((l) => l !== '');
    const intoRepository = links.filter((l) => l.startsWith(`${REPOSITORY}/`));
    const relative = links.filter((l) => !/^[a-z]+:/.test(l));
    expect(intoRepository.filter((l) => l.includes('/docs/')).length).toBeGreaterThan(5);
    // THEN each absolute link names a file or folder that exists here under the same path, on main
    const missing = intoRepository.filter((l) => {
      const m = /^\/(blob|tree)\/main\/(.+)$/.exec(l.substring(REPOSITORY.length));
      return !m || !fs.existsSync(path.join(ROOT, decodeURIComponent(m[2])));
    });
    expect(missing).toEqual([]);
    // AND each relative link names a file the package ships, so it resolves on the registry's page too
    expect(relative.filter((l) => !packed.includes(path.posix.normalize(l)))).toEqual([]);
  });
});

describe('the packed tarball, installed into a project of its own', () => {
  test('imports and synthesizes a stack with an ArtifactStore and the reference workload', () => {
    // GIVEN a scratch project with the tarball and the peer dependencies, from the local npm cache
    const project = path.join(workDir, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
    );
    const peer = (name: string) =>
      (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    npm(
      [
        'install',
        tarball,
        `aws-cdk-lib@${peer('aws-cdk-lib')}`,
        `constructs@${peer('constructs')}`,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
      ],
      project,
    );
    // AND a plain JavaScript CDK app that uses the package by name
    fs.writeFileSync(
      path.join(project, 'app.js'),
      `
const { App, Stack } = require('aws-cdk-lib');
const { ArtifactStore, ModelRegistry, ReferenceWorkload } = require('cdk-mlops-maturity');
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
const artifactStore = new ArtifactStore(stack, 'Store');
const modelRegistry = new ModelRegistry(stack, 'Registry');
new ReferenceWorkload(stack, 'Workload', { artifactStore, modelRegistry });
// The main entry point must not have loaded the testing kit; the kit's subpath resolves.
const kitLoadedByMain = Object.keys(require.cache).some((f) => f.includes('testing'));
const { CostAssertions, normalizedTemplate } = require('cdk-mlops-maturity/testing');
CostAssertions.of(stack).billsNothingWhileIdle();
const normalized = normalizedTemplate(stack);
require('fs').writeFileSync('kit.json', JSON.stringify({ kitLoadedByMain, normalized }));
app.synth();
`,
    );
    // WHEN it runs with node
    execFileSync(process.execPath, ['app.js'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // THEN the template has the store's bucket
    const template = JSON.parse(
      fs.readFileSync(path.join(project, 'cdk.out', 'Consumer.template.json'), 'utf8'),
    ) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::S3::Bucket');
    expect(types).toContain('AWS::SageMaker::Pipeline');
    // AND cdk-mlops-maturity/testing resolved through the package's exports, loaded only on request
    const kit = JSON.parse(fs.readFileSync(path.join(project, 'kit.json'), 'utf8')) as {
      kitLoadedByMain: boolean;
      normalized: { Parameters?: Record<string, unknown> };
    };
    expect(kit.kitLoadedByMain).toBe(false);
    expect(kit.normalized.Parameters?.BootstrapVersion).toBeUndefined();
    expect(JSON.stringify(kit.normalized)).toContain('<asset-hash>');
    // AND the step code asset was found inside the installed package: its staged copy has the steps,
    // the step requirements, and none of the pytest tests
    const staged = fs
      .readdirSync(path.join(project, 'cdk.out'))
      .map((d) => path.join(project, 'cdk.out', d))
      .filter((d) => fs.statSync(d).isDirectory() && fs.existsSync(path.join(d, 'run_step.py')));
    expect(staged).toHaveLength(1);
    const stepFiles = filesUnder(staged[0]).map((f) => path.relative(staged[0], f));
    expect(stepFiles).toEqual(
      expect.arrayContaining(['run_step.py', 'preprocess.py', 'requirements-step.txt']),
    );
    expect(stepFiles.filter((f) => f.startsWith('tests'))).toEqual([]);
    expect(fs.existsSync(path.join(project, 'node_modules', 'cdk-mlops-maturity', 'ml', 'run_step.py'))).toBe(
      true,
    );
  }, 90_000);

  test("a construct with Lambda handlers finds them in the package, and they bundle from the package's sources", () => {
    // GIVEN the project above, and an app with a release workflow; bundling skipped, as the consumer
    // has no esbuild of its own (NodejsFunction still checks that each entry file exists)
    const project = path.join(workDir, 'consumer');
    fs.writeFileSync(
      path.join(project, 'release.js'),
      `
const { App, Stack } = require('aws-cdk-lib');
const { ModelRegistry, ReleasePointer, ReleaseWorkflow } = require('cdk-mlops-maturity');
const app = new App({ outdir: 'cdk.out.release', context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'Release');
new ReleaseWorkflow(stack, 'Workflow', {
  modelName: 'churn',
  modelRegistry: new ModelRegistry(stack, 'Registry'),
  targets: [{
    environmentName: 'prod',
    stackName: 'churn-serving-prod',
    pointer: ReleasePointer.fromParameterName(stack, 'Pointer', '/mlops/prod/serving/churn/model-package-arn'),
  }],
});
app.synth();
`,
    );
    // WHEN it runs
    execFileSync(process.execPath, ['release.js'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // THEN it synthesized the state machine and its functions
    const template = JSON.parse(
      fs.readFileSync(path.join(project, 'cdk.out.release', 'Release.template.json'), 'utf8'),
    ) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::StepFunctions::StateMachine');
    expect(types.filter((t) => t === 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(2);
    // AND every shipped handler bundles from the installed package as NodejsFunction bundles it
    // (the AWS SDK left to the runtime), its runtime dependencies resolved from the consumer's
    // node_modules
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const lambdaDir = path.join(project, 'node_modules', 'cdk-mlops-maturity', 'lambda');
    const handlers = fs
      .readdirSync(lambdaDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'shared')
      .map((d) => d.name);
    for (const handler of handlers) {
      const result = esbuild.buildSync({
        entryPoints: [path.join(lambdaDir, handler, 'index.ts')],
        bundle: true,
        platform: 'node',
        target: 'node20',
        external: ['@aws-sdk/*'],
        write: false,
        absWorkingDir: project,
        logLevel: 'silent',
      });
      expect({
        handler,
        errors: result.errors.length,
        bytes: result.outputFiles[0].contents.length > 1000,
      }).toEqual({
        handler,
        errors: 0,
        bytes: true,
      });
    }
  }, 90_000);
});
