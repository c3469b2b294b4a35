#!/usr/bin/env node
// npm run release -- --env <environment> [--model <name>] --model-package-arn <arn>
// npm run release -- --stack <name> --pointer <parameter> --model-package-arn <arn> [--region <region>]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ReleaseError, releaseModel, ReleaseRequest } from '../lambda/shared/release';
import { buildPlatformAppForRelease, resolveEnvironmentTarget, resolveStackTarget } from './release-target';

const USAGE = `Usage: npm run release -- --env <environment> [--model <name>] --model-package-arn <arn>
       npm run release -- --stack <name> --pointer <parameter> --model-package-arn <arn> [--region <region>]

Releases an approved model package version to a serving slot: checks the package and the target,
writes the slot's release pointer (SSM) and updates the stack that reads it, which then serves the
package. If the update fails, the pointer is restored.

  --env                 an environment of cdk.json's mlops.environments, e.g. dev: the stack and the
                        pointer are the ones the platform app defines for it
  --model               with --env: the model to release, a key of the environment's models, e.g.
                        trip-duration (may be left out when the environment has one model); the
                        package must be a version of that model's model package group
  --stack               instead of --env: a stack of your own that holds a serving slot
  --pointer             with --stack: the release pointer (SSM parameter) that stack reads
  --region              with --stack: the stack's region (default: the model package ARN's)
  --model-package-arn   arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
  --help                this text

With --env, run it from the repository root (it builds the app from cdk.json there); --stack needs
no cdk.json. Use credentials for the target's account. Details: docs/release.md`;

interface Target {
  readonly request: ReleaseRequest;
  /** What the slot is called in messages: `model trip-duration of dev` or `stack my-stack`. */
  readonly label: string;
}

function usageError(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

/** Exit codes: 0 released or unchanged, 1 the release was refused or failed, 2 bad usage. */
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        env: { type: 'string' },
        'model-package-arn': { type: 'string' },
        model: { type: 'string' },
        stack: { type: 'string' },
        pointer: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.env !== undefined && args.stack !== undefined) {
    return usageError(
      '--env and --stack are mutually exclusive: name an environment of cdk.json, or a stack.',
    );
  }
  const byStack = args.stack !== undefined;
  const required = byStack ? ['stack', 'pointer', 'model-package-arn'] : ['env', 'model-package-arn'];
  const missing = required.filter((k) => !args[k as keyof typeof args]);
  if (missing.length > 0) {
    return usageError(`Missing ${missing.map((k) => `--${k}`).join(' and ')}.`);
  }
  const misplaced = (byStack ? ['model'] : ['pointer', 'region']).filter(
    (k) => args[k as keyof typeof args] !== undefined,
  );
  if (misplaced.length > 0) {
    return usageError(
      `${misplaced.map((k) => `--${k}`).join(' and ')} ${misplaced.length > 1 ? 'apply' : 'applies'} to ` +
        `${byStack ? '--env' : '--stack'} only.`,
    );
  }

  let target: Target;
  try {
    if (byStack) {
      target = {
        request: resolveStackTarget({
          stackName: args.stack as string,
          pointerName: args.pointer as string,
          region: args.region,
          modelPackageArn: args['model-package-arn'] as string,
        }),
        label: `stack ${args.stack}`,
      };
    } else {
      const fromApp = environmentTarget(args.env as string, args['model-package-arn'] as string, args.model);
      if (typeof fromApp === 'number') {
        return fromApp;
      }
      target = fromApp;
    }
  } catch (error) {
    return refused(error);
  }

  const { request } = target;
  const { region, pointerName, stackName } = request;
  console.log(`Target: stack ${stackName}, pointer ${pointerName}, region ${region}`);
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
        ? `Unchanged: ${target.label} already serves ${result.current}.`
        : `Released: ${target.label} serves ${result.current} (before: ${result.previous}).`,
    );
    return 0;
  } catch (error) {
    return refused(error);
  } finally {
    process.removeListener('SIGINT', interrupted);
  }
}

/** The environment's target as the app in cdk.json defines it, or the exit code of a config error. */
function environmentTarget(
  environment: string,
  modelPackageArn: string,
  modelName?: string,
): Target | number {
  const cdkJson = path.join(process.cwd(), 'cdk.json');
  if (!fs.existsSync(cdkJson)) {
    return usageError(
      `No cdk.json in ${process.cwd()}: run the release from the repository root, or name --stack.`,
    );
  }
  let platform;
  try {
    const context = (JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as { context?: Record<string, unknown> })
      .context;
    platform = buildPlatformAppForRelease(context ?? {});
  } catch (error) {
    console.error(`${cdkJson}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const resolved = resolveEnvironmentTarget(platform, { environment, modelPackageArn, modelName });
  return { request: resolved.request, label: `model ${resolved.modelName} of ${resolved.environment}` };
}

function refused(error: unknown): number {
  // A ReleaseError's message names the problem and the fix; a stack trace would add nothing.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`\nRelease failed: ${message}\n`);
  if (!(error instanceof ReleaseError)) {
    console.error('This is not one of the checked failures; see docs/release.md.');
  }
  return 1;
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
