#!/usr/bin/env node
// npm run audit -- --model <name> [--env <environment>] [--limit N] [--json]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import { EnvironmentConfig, parsePlatformConfig, PlatformConfig } from './config';
import { releasePointerParameterName, variantPointerParameterName } from '../lib/serving/naming';
import {
  AuditClients,
  AuditEnvironment,
  AuditError,
  formatAuditTrail,
  readAuditTrail,
} from '../lambda/shared/audit';

export const DEFAULT_LIMIT = 10;
/** SSM keeps the last 100 versions of a parameter: no limit can show more. */
export const MAX_LIMIT = 100;

const USAGE = `Usage: npm run audit -- --model <name> [--env <environment>] [--limit <n>] [--json]

Prints the audit trail of a model, per environment that serves it (in promotion order): the package
each release pointer serves and since when, the pipeline execution that produced it, the alarm or
schedule that started that execution and its data window, the approval gate's verdict and numbers,
and the pointer's switches, newest first. Everything is read from what the platform already
records (SSM parameter history, the model registry, SageMaker Pipelines); nothing is changed.

  --model   the model, a key of the environments' models in cdk.json, e.g. trip-duration
  --env     only this environment of cdk.json's mlops.environments, e.g. prod (default: every
            environment that serves the model)
  --limit   switches shown per pointer, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})
  --json    print the trail as JSON instead of tables
  --help    this text

Run it from the repository root (it reads cdk.json there), with credentials that may read the
environments' parameters, model packages and pipeline executions. Details: docs/audit.md`;

/** Where main reads and writes; the tests give their own. */
export interface AuditIo {
  readonly cwd: string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly clients: AuditClients;
}

/** SDK clients, one per region, with the default credential chain. */
export function sdkClients(): AuditClients {
  const ssm = new Map<string, SSMClient>();
  const sageMaker = new Map<string, SageMakerClient>();
  const once = <T>(cache: Map<string, T>, region: string | undefined, make: () => T): T => {
    const key = region ?? '';
    if (!cache.has(key)) {
      cache.set(key, make());
    }
    return cache.get(key)!;
  };
  return {
    ssm: (region) => once(ssm, region, () => new SSMClient(region ? { region } : {})),
    sageMaker: (region) => once(sageMaker, region, () => new SageMakerClient(region ? { region } : {})),
  };
}

/** The environments of the config that serve `modelName`, with their pointers. */
export function auditEnvironments(config: PlatformConfig, modelName: string): AuditEnvironment[] {
  const source = config.release.source?.environment;
  return config.allEnvironments
    .filter((e) => e.models.some((m) => m.name === modelName))
    .map((e) => auditEnvironment(e, modelName, e.name === source));
}

function auditEnvironment(
  environment: EnvironmentConfig,
  modelName: string,
  releaseSource: boolean,
): AuditEnvironment {
  const model = environment.models.find((m) => m.name === modelName)!;
  const variant = model.serving.mode === 'realTime' ? model.serving.variant?.kind : undefined;
  return {
    name: environment.name,
    level: environment.level,
    ...(environment.region ? { region: environment.region } : {}),
    releaseSource,
    pointers: [
      { slot: 'champion', pointerName: releasePointerParameterName(environment.name, modelName) },
      ...(variant
        ? [{ slot: variant, pointerName: variantPointerParameterName(environment.name, modelName, variant) }]
        : []),
    ],
  };
}

/** Exit codes: 0 the trail was printed, 1 the config or an AWS read failed, 2 bad usage. */
export async function main(argv: string[], io: AuditIo): Promise<number> {
  const usageError = (message: string): number => {
    io.err(`${message}\n\n${USAGE}`);
    return 2;
  };
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        env: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  if (!args.model) {
    return usageError('Missing --model.');
  }
  let limit = DEFAULT_LIMIT;
  if (args.limit !== undefined) {
    limit = Number(args.limit);
    if (!/^\d+$/.test(args.limit) || limit < 1 || limit > MAX_LIMIT) {
      return usageError(
        `--limit '${args.limit}' is invalid: give a whole number of switches from 1 to ${MAX_LIMIT} (SSM keeps ${MAX_LIMIT} versions).`,
      );
    }
  }

  const cdkJson = path.join(io.cwd, 'cdk.json');
  if (!fs.existsSync(cdkJson)) {
    return usageError(`No cdk.json in ${io.cwd}: run the audit from the repository root.`);
  }
  let config: PlatformConfig;
  try {
    const context = (JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as { context?: Record<string, unknown> })
      .context;
    config = parsePlatformConfig(context ?? {});
  } catch (error) {
    io.err(`${cdkJson}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }

  let environments = auditEnvironments(config, args.model);
  if (environments.length === 0) {
    const models = [...new Set(config.allEnvironments.flatMap((e) => e.models.map((m) => m.name)))];
    return usageError(
      `No environment of ${cdkJson} serves a model '${args.model}': ` +
        (models.length > 0
          ? `its models are ${models.join(', ')}.`
          : 'no environment is at level 2 or higher.'),
    );
  }
  if (args.env !== undefined) {
    const chosen = environments.filter((e) => e.name === args.env);
    if (chosen.length === 0) {
      const known = config.allEnvironments.some((e) => e.name === args.env);
      return usageError(
        `--env '${args.env}' ${known ? `does not serve model '${args.model}'` : `is not an environment of ${cdkJson}`}: ` +
          `the environments serving it are ${environments.map((e) => e.name).join(', ')}.`,
      );
    }
    environments = chosen;
  }

  try {
    const trail = await readAuditTrail(io.clients, { modelName: args.model, environments, limit });
    io.out(args.json ? JSON.stringify(trail, null, 2) : formatAuditTrail(trail, limit));
    return 0;
  } catch (error) {
    io.err(`Audit failed: ${error instanceof Error ? error.message : String(error)}`);
    if (!(error instanceof AuditError)) {
      io.err('This is not one of the checked failures; see docs/audit.md.');
    }
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    cwd: process.cwd(),
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    clients: sdkClients(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
