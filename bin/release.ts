#!/usr/bin/env node
// npm run release -- --env <environment> [--model <name>] --model-package-arn <arn>
// npm run release -- --env <environment> [--model <name>] --variant challenger|shadow [--model-package-arn <arn>] [--weight <percent>]
// npm run release -- --env <environment> [--model <name>] --promote [--variant challenger|shadow]
// npm run release -- --env <environment> [--model <name>] --stop-variant challenger|shadow
// npm run release -- --stack <name> --pointer <parameter> --model-package-arn <arn> [--region <region>]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AnyReleaseRequest, ReleaseError, releaseModel, ReleaseResult } from '../lambda/shared/release';
import {
  buildPlatformAppForRelease,
  resolveEnvironmentTarget,
  resolveStackTarget,
  resolveVariantTarget,
  VariantAction,
  VariantReleaseTarget,
} from './release-target';

const USAGE = `Usage: npm run release -- --env <environment> [--model <name>] --model-package-arn <arn>
       npm run release -- --env <environment> [--model <name>] --variant challenger|shadow [--model-package-arn <arn>] [--weight <percent>]
       npm run release -- --env <environment> [--model <name>] --promote [--variant challenger|shadow]
       npm run release -- --env <environment> [--model <name>] --stop-variant challenger|shadow
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
  --variant             with --env: release to the slot's challenger (A/B test: it answers --weight
                        percent of the requests) or shadow (it gets a copy of --weight percent of them,
                        unanswered) instead of its champion; --weight alone changes the share
  --weight              with --variant: the variant's share of the requests, 0 to 100 percent
  --promote             with --env: the champion takes the challenger's package (or the shadow's, with
                        --variant shadow) and the variant serves nothing, in one stack update
  --stop-variant        with --env: the variant (challenger or shadow) serves nothing
  --help                this text

With --env, run it from the repository root (it builds the app from cdk.json there); --stack needs
no cdk.json. Use credentials for the target's account. Details: docs/release.md`;

interface Target {
  readonly request: AnyReleaseRequest;
  /** What the slot is called in messages: `model trip-duration of dev` or `stack my-stack`. */
  readonly label: string;
  /** The line that reports the outcome, for a variant release. */
  readonly summary?: (result: ReleaseResult) => string;
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
        variant: { type: 'string' },
        weight: { type: 'string' },
        promote: { type: 'boolean' },
        'stop-variant': { type: 'string' },
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
  const variantOptions = (['variant', 'weight', 'promote', 'stop-variant'] as const).filter(
    (k) => args[k] !== undefined,
  );
  if (byStack && variantOptions.length > 0) {
    return usageError(
      `${variantOptions.map((k) => `--${k}`).join(' and ')} ${variantOptions.length > 1 ? 'apply' : 'applies'} to --env ` +
        'only: the variants are those the app gives the serving slot of a model.',
    );
  }
  const action = variantAction(args);
  if (typeof action === 'string') {
    return usageError(action);
  }
  const required = byStack
    ? ['stack', 'pointer', 'model-package-arn']
    : action
      ? ['env']
      : ['env', 'model-package-arn'];
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
    } else if (action) {
      const fromApp = variantTarget(args.env as string, args.model, action, args['model-package-arn']);
      if (typeof fromApp === 'number') {
        return fromApp;
      }
      target = fromApp;
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
  const { region, stackName } = request;
  const pointerNames = request.pointers ? request.pointers.map((p) => p.pointerName) : [request.pointerName];
  console.log(
    `Target: stack ${stackName}, ${pointerNames.length > 1 ? 'pointers' : 'pointer'} ${pointerNames.join(', ')}, region ${region}`,
  );
  const interrupted = () => {
    console.error(
      `\nInterrupted. A stack update that started goes on in CloudFormation without this command, and ` +
        `nobody restores ${pointerNames.join(' and ')} if it fails: check it with aws cloudformation describe-stacks ` +
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
    console.log(target.summary ? target.summary(result) : summary(target.label, result));
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
  const platform = platformApp();
  if (typeof platform === 'number') {
    return platform;
  }
  const resolved = resolveEnvironmentTarget(platform, { environment, modelPackageArn, modelName });
  return { request: resolved.request, label: `model ${resolved.modelName} of ${resolved.environment}` };
}

/** The platform app built from the working directory's cdk.json, or the exit code of a config error. */
function platformApp(): ReturnType<typeof buildPlatformAppForRelease> | number {
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
  return platform;
}

function summary(label: string, result: ReleaseResult): string {
  return result.status === 'unchanged'
    ? `Unchanged: ${label} already serves ${result.current}.`
    : `Released: ${label} serves ${result.current} (before: ${result.previous}).`;
}

interface VariantOptions {
  readonly action: VariantAction;
  readonly variant: string;
  readonly weightPercent?: number;
}

/**
 * What the variant options ask for, undefined without any, or the usage error: `--variant` with an
 * ARN (and maybe `--weight`) releases to the variant, with `--weight` alone changes its share;
 * `--promote` and `--stop-variant` stand alone.
 */
function variantAction(args: {
  variant?: string;
  weight?: string;
  promote?: boolean;
  'stop-variant'?: string;
  'model-package-arn'?: string;
}): VariantOptions | string | undefined {
  let weightPercent: number | undefined;
  if (args.weight !== undefined) {
    if (!/^\d{1,3}$/.test(args.weight) || Number(args.weight) > 100) {
      return `--weight '${args.weight}' is invalid: give the variant's share as a whole percentage from 0 to 100.`;
    }
    weightPercent = Number(args.weight);
  }
  if (args['stop-variant'] !== undefined) {
    const extra = (['variant', 'weight', 'promote', 'model-package-arn'] as const).filter(
      (k) => args[k] !== undefined,
    );
    if (extra.length > 0) {
      return `--stop-variant stands alone: leave out ${extra.map((k) => `--${k}`).join(' and ')}.`;
    }
    return { action: 'stop', variant: args['stop-variant'] };
  }
  if (args.promote) {
    const extra = (['weight', 'model-package-arn'] as const).filter((k) => args[k] !== undefined);
    if (extra.length > 0) {
      return `--promote takes the variant's own package: leave out ${extra.map((k) => `--${k}`).join(' and ')}.`;
    }
    return { action: 'promote', variant: args.variant ?? 'challenger' };
  }
  if (args.variant === undefined) {
    return args.weight === undefined ? undefined : '--weight applies to --variant only: name the variant.';
  }
  if (args['model-package-arn'] === undefined && weightPercent === undefined) {
    return `--variant ${args.variant} needs --model-package-arn (the package it serves) or --weight (its share), or both.`;
  }
  return {
    action: args['model-package-arn'] === undefined ? 'weight' : 'release',
    variant: args.variant,
    weightPercent,
  };
}

/** The variant's target as the app in cdk.json defines it, or the exit code of a config error. */
function variantTarget(
  environment: string,
  modelName: string | undefined,
  options: VariantOptions,
  modelPackageArn: string | undefined,
): Target | number {
  const platform = platformApp();
  if (typeof platform === 'number') {
    return platform;
  }
  const resolved = resolveVariantTarget(platform, {
    environment,
    modelName,
    ...options,
    modelPackageArn,
    defaultRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
  });
  const label = `model ${resolved.modelName} of ${resolved.environment}`;
  return { request: resolved.request, label, summary: (result) => variantSummary(resolved, label, result) };
}

/** What a variant release did, in one line. */
function variantSummary(target: VariantReleaseTarget, label: string, result: ReleaseResult): string {
  const { variant } = target;
  const [first, second] = result.pointers ?? [];
  if (result.status === 'unchanged') {
    return `Unchanged: the ${variant} of ${label} already is as asked (${(result.pointers ?? [])
      .map((p) => `${p.pointerName} = ${p.current}`)
      .join(', ')}).`;
  }
  const share = (p: { previous: string; current: string }) =>
    `${variant === 'shadow' ? 'receives a copy of' : 'answers'} ${p.current}% of the requests (before: ${p.previous}%)`;
  switch (target.action) {
    case 'release':
      return (
        `Released: the ${variant} of ${label} serves ${first.current} (before: ${first.previous})` +
        (second ? ` and ${share(second)}.` : '.')
      );
    case 'weight':
      return `Released: the ${variant} of ${label} ${share(first)}.`;
    case 'stop':
      return `Stopped: the ${variant} of ${label} serves nothing (before: ${first.previous}).`;
    case 'promote':
      return `Promoted: ${label} serves ${first.current} (before: ${first.previous}); its ${variant} serves nothing.`;
  }
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
