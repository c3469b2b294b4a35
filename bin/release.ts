#!/usr/bin/env node
// npm run release -- --env <environment> --model-package-arn <arn> [--slot <name>]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import { parsePlatformConfig, PlatformConfig } from '../lib/config/environment-config';
import { ReleaseError, releaseModel, resolveReleaseTarget } from '../lib/serving/release';

const USAGE = `Usage: npm run release -- --env <environment> --model-package-arn <arn> [--slot <name>]

Releases an approved model package version to an environment's serving slot: checks the package
and the environment, writes the environment's release pointer (SSM) and updates its platform
stack, which then serves the package. If the update fails, the pointer is restored.

  --env                 an environment of cdk.json's mlops.environments, e.g. dev
  --model-package-arn   arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
  --slot                the serving slot (default: default)
  --help                this text

Run it from the repository root (it reads cdk.json there) with credentials for the environment's
account. Details: docs/release.md`;

/** Exit codes: 0 released or unchanged, 1 the release was refused or failed, 2 bad usage. */
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        env: { type: 'string' },
        'model-package-arn': { type: 'string' },
        slot: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const missing = ['env', 'model-package-arn'].filter((k) => !args[k as 'env' | 'model-package-arn']);
  if (missing.length > 0) {
    console.error(`Missing ${missing.map((k) => `--${k}`).join(' and ')}.\n\n${USAGE}`);
    return 2;
  }

  const cdkJson = path.join(process.cwd(), 'cdk.json');
  if (!fs.existsSync(cdkJson)) {
    console.error(`No cdk.json in ${process.cwd()}: run the release from the repository root.\n\n${USAGE}`);
    return 2;
  }
  let config: PlatformConfig;
  try {
    const context = (JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as { context?: Record<string, unknown> })
      .context;
    config = parsePlatformConfig(context ?? {});
  } catch (error) {
    console.error(`${cdkJson}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }

  const request = {
    environment: args.env as string,
    modelPackageArn: args['model-package-arn'] as string,
    config,
    slotName: args.slot,
  };
  try {
    const { region, pointerName, stackName } = resolveReleaseTarget(request);
    const interrupted = () => {
      console.error(
        `\nInterrupted. A stack update that started goes on in CloudFormation without this command, and ` +
          `nobody restores ${pointerName} if it fails: check it with aws cloudformation describe-stacks ` +
          `--stack-name ${stackName} --region ${region}, and run the release again (it picks up where the stack is).`,
      );
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    try {
      const result = await releaseModel(request, {
        ssm: new SSMClient({ region }),
        sageMaker: new SageMakerClient({ region }),
        cloudFormation: new CloudFormationClient({ region }),
        log: (line) => console.log(line),
      });
      console.log(
        result.status === 'unchanged'
          ? `Unchanged: ${result.environment} already serves ${result.current}.`
          : `Released: ${result.environment} serves ${result.current} (before: ${result.previous}).`,
      );
      return 0;
    } finally {
      process.removeListener('SIGINT', interrupted);
    }
  } catch (error) {
    // A ReleaseError's message names the problem and the fix; a stack trace would add nothing.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`\nRelease failed: ${message}\n`);
    if (!(error instanceof ReleaseError)) {
      console.error('This is not one of the checked failures; see docs/release.md.');
    }
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
