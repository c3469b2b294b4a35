import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/3';

/*
 * The command as the npm script runs it (`node -r esbuild-register bin/release.ts`) transpiles its
 * sources in every process, about a second each. The cases below run bin/release.ts bundled once by
 * esbuild instead (its packages left to node_modules, as esbuild-register leaves them); the first
 * test runs it through esbuild-register, as `npm run release` does.
 */
const BUNDLE = path.join(ROOT, 'test', '.synth', `release-cli-${process.pid}.js`);

beforeAll(() => {
  esbuild.buildSync({
    entryPoints: [path.join(ROOT, 'bin', 'release.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outfile: BUNDLE,
    logLevel: 'error',
  });
});

afterAll(() => fs.rmSync(BUNDLE, { force: true }));

function cli(args: string[], cwd = ROOT, register = false) {
  // Every case here stops before creating an AWS client, so no request leaves the machine.
  const command = register
    ? ['-r', require.resolve('esbuild-register'), path.join(ROOT, 'bin', 'release.ts')]
    : [BUNDLE];
  const result = spawnSync(process.execPath, [...command, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A directory with its own cdk.json, or none, so that the run does not depend on the repository's config. */
function inDirectory<T>(cdkJson: object | undefined, run: (cwd: string) => T): T {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'release-cli-'));
  try {
    if (cdkJson) {
      fs.writeFileSync(path.join(cwd, 'cdk.json'), JSON.stringify(cdkJson));
    }
    return run(cwd);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

describe('npm run release (bin/release.ts)', () => {
  test('--help prints the usage and exits 0, run as npm run release runs it', () => {
    const { status, stdout } = cli(['--help'], ROOT, true);
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^Usage: npm run release -- --env <environment> \[--model <name>\] --model-package-arn <arn>/,
    );
    expect(stdout).toMatch(/--model {15}with --env: the model to release/);
    expect(stdout).toContain(
      'npm run release -- --stack <name> --pointer <parameter> --model-package-arn <arn> [--region <region>]',
    );
  });

  test('bad usage exits 2', () => {
    expect(cli(['--env', 'dev'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^Missing --model-package-arn\./),
    });
    expect(cli(['--environment', 'dev'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/Unknown option '--environment'/),
    });
    // --model replaced --slot.
    expect(cli(['--env', 'dev', '--slot', 'default', '--model-package-arn', ARN])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/Unknown option '--slot'/),
    });
  });

  test.each([
    [
      '--env with --stack',
      ['--env', 'dev', '--stack', 'dev-Platform', '--model-package-arn', ARN],
      /^--env and --stack are mutually exclusive: name an environment of cdk\.json, or a stack\./,
    ],
    [
      '--stack without --pointer',
      ['--stack', 'my-serving', '--model-package-arn', ARN],
      /^Missing --pointer\./,
    ],
    [
      '--model with --stack',
      ['--stack', 'my-serving', '--pointer', '/p', '--model', 'fare-amount', '--model-package-arn', ARN],
      /^--model applies to --env only\./,
    ],
    [
      'an empty --model with --stack',
      ['--stack', 'my-serving', '--pointer', '/p', '--model', '', '--model-package-arn', ARN],
      /^--model applies to --env only\./,
    ],
    [
      '--model without a value',
      ['--env', 'dev', '--model-package-arn', ARN, '--model'],
      /Option '--model <value>' argument missing/,
    ],
    [
      '--pointer and --region with --env',
      ['--env', 'dev', '--pointer', '/p', '--region', 'us-east-1', '--model-package-arn', ARN],
      /^--pointer and --region apply to --stack only\./,
    ],
  ])('%s is bad usage: exit 2', (_, args, message) => {
    expect(cli(args)).toMatchObject({ status: 2, stderr: expect.stringMatching(message) });
  });

  test('a refused release exits 1 with the message and no stack trace', () => {
    const { status, stderr } = cli(['--env', 'qa', '--model-package-arn', ARN]);
    expect(status).toBe(1);
    // The configured environments come from the repository's cdk.json.
    expect(stderr.trim()).toMatch(
      /^Release failed: environment 'qa' is not configured: use one of dev, .*, or add it to context\.mlops\.environments in cdk\.json$/,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  describe("--model, with the repository's cdk.json (models trip-duration and fare-amount)", () => {
    test('left out with two models: exit 1, naming the models and the command with --model', () => {
      const { status, stderr } = cli(['--env', 'dev', '--model-package-arn', ARN]);
      expect(status).toBe(1);
      expect(stderr.trim()).toBe(
        "Release failed: environment 'dev' has more than one model ('trip-duration', 'fare-amount'): name the " +
          `one to release with --model, e.g. npm run release -- --env dev --model <model> --model-package-arn ${ARN}`,
      );
    });

    test('a model the environment does not have: exit 1, listing its models', () => {
      const { status, stderr } = cli(['--env', 'dev', '--model', 'churn', '--model-package-arn', ARN]);
      expect(status).toBe(1);
      expect(stderr.trim()).toBe(
        "Release failed: environment 'dev' has no model 'churn': its models are 'trip-duration', 'fare-amount'; " +
          'name one of them with --model',
      );
    });

    test('an invalid model name: exit 1', () => {
      const { status, stderr } = cli(['--env', 'dev', '--model', 'Fare_Amount', '--model-package-arn', ARN]);
      expect(status).toBe(1);
      expect(stderr.trim()).toMatch(/^Release failed: model 'Fare_Amount' is invalid: a model name is /);
    });

    test("a package of another group than the model's: exit 1, before any AWS call", () => {
      const { status, stdout, stderr } = cli([
        '--env',
        'dev',
        '--model',
        'fare-amount',
        '--model-package-arn',
        ARN,
      ]);
      expect(status).toBe(1);
      expect(stderr.trim()).toMatch(
        new RegExp(
          `^Release failed: model package '${ARN}' belongs to group 'taxi-duration', but model 'fare-amount' of ` +
            "environment 'dev' serves group 'dev-platform-level2-fare-amount-modelregistry-[0-9a-f]{8}': release a version of",
        ),
      );
      expect(stdout).not.toMatch(/Target:/);
    });
  });

  test('an environment below level 2, from the cdk.json of the working directory, exits 1', () => {
    const config = { context: { mlops: { environments: { dev: { level: 1 } }, delivery: false } } };
    const { status, stderr } = inDirectory(config, (cwd) =>
      cli(['--env', 'dev', '--model-package-arn', ARN], cwd),
    );
    expect(status).toBe(1);
    expect(stderr.trim()).toMatch(
      /^Release failed: environment 'dev' is at maturity level 1, which has no serving slot/,
    );
  });

  test('an invalid cdk.json exits 1 and names the file', () => {
    const config = { context: { mlops: { environments: { dev: { level: 7 } }, delivery: false } } };
    const { status, stderr } = inDirectory(config, (cwd) =>
      cli(['--env', 'dev', '--model-package-arn', ARN], cwd),
    );
    expect(status).toBe(1);
    expect(stderr).toMatch(/cdk\.json: /);
    expect(stderr).not.toMatch(/Release failed/);
  });

  test('--stack needs no cdk.json: a malformed ARN is refused with exit 1', () => {
    const { status, stderr } = inDirectory(undefined, (cwd) =>
      cli(
        ['--stack', 'my-serving', '--pointer', '/team/model', '--model-package-arn', 'taxi-duration/3'],
        cwd,
      ),
    );
    expect(status).toBe(1);
    expect(stderr.trim()).toMatch(
      /^Release failed: model package ARN 'taxi-duration\/3' is not a model package version ARN/,
    );
  });

  test('--env without a cdk.json is bad usage: exit 2', () => {
    const { status, stderr } = inDirectory(undefined, (cwd) =>
      cli(['--env', 'dev', '--model-package-arn', ARN], cwd),
    );
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /^No cdk\.json in .*: run the release from the repository root, or name --stack\./,
    );
  });

  describe('variants: --variant, --weight, --promote, --stop-variant', () => {
    test.each([
      [
        '--variant with --stack',
        ['--stack', 'my-serving', '--pointer', '/p', '--variant', 'challenger', '--model-package-arn', ARN],
        /^--variant applies to --env only: the variants are those the app gives the serving slot of a model\./,
      ],
      [
        '--stop-variant with --weight',
        ['--env', 'dev', '--stop-variant', 'challenger', '--weight', '10'],
        /^--stop-variant stands alone: leave out --weight\./,
      ],
      [
        '--promote with --model-package-arn',
        ['--env', 'dev', '--promote', '--model-package-arn', ARN],
        /^--promote takes the variant's own package: leave out --model-package-arn\./,
      ],
      [
        '--weight without --variant',
        ['--env', 'dev', '--weight', '10'],
        /^--weight applies to --variant only/,
      ],
      [
        'a --weight that is no whole percentage',
        ['--env', 'dev', '--variant', 'challenger', '--weight', '150'],
        /^--weight '150' is invalid: give the variant's share as a whole percentage from 0 to 100\./,
      ],
      [
        '--variant with neither an ARN nor a weight',
        ['--env', 'dev', '--variant', 'shadow'],
        /^--variant shadow needs --model-package-arn \(the package it serves\) or --weight \(its share\), or both\./,
      ],
    ])('%s is bad usage: exit 2', (_, args, message) => {
      expect(cli(args)).toMatchObject({ status: 2, stderr: expect.stringMatching(message) });
    });

    test('--help lists the variant options', () => {
      const { stdout } = cli(['--help']);
      expect(stdout).toContain('--promote [--variant challenger|shadow]');
      expect(stdout).toMatch(
        /--stop-variant {8}with --env: the variant \(challenger or shadow\) serves nothing/,
      );
    });

    test.each([
      ['a release to it', ['--variant', 'challenger', '--model-package-arn', ARN]],
      ['a promotion', ['--promote']],
      ['a stop', ['--stop-variant', 'challenger']],
    ])(
      "a variant the app's slot does not offer is refused with exit 1, before any AWS call (%s)",
      (_, args) => {
        // The app of this cdk.json gives its one model's slot no challenger.
        const config = { context: { mlops: { environments: { dev: { level: 2 } }, delivery: false } } };
        const { status, stdout, stderr } = inDirectory(config, (cwd) => cli(['--env', 'dev', ...args], cwd));
        expect(status).toBe(1);
        expect(stderr.trim()).toMatch(
          /^Release failed: model 'trip-duration' of environment 'dev' offers no challenger variant: its serving slot offers no variant\./,
        );
        expect(stdout).not.toMatch(/Target:/);
      },
    );

    test('an unknown variant name is refused with exit 1', () => {
      const { status, stderr } = cli([
        '--env',
        'dev',
        '--model',
        'trip-duration',
        '--stop-variant',
        'canary',
      ]);
      expect(status).toBe(1);
      expect(stderr.trim()).toBe(
        "Release failed: variant 'canary' is invalid: name challenger (an A/B test) or shadow (a shadow test)",
      );
    });
  });
});
