import * as fs from 'fs';
import * as path from 'path';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { MaturityReportDocument } from '../../lib/maturity/maturity-report';

/** Where the global setup synthesizes the default app, shared by every layer test. */
export const SYNTH_DIR = path.join(__dirname, '..', '.synth');
export const SYNTH_OUTDIR = path.join(SYNTH_DIR, 'cdk.out');
export const SYNTH_ERROR_FILE = path.join(SYNTH_DIR, 'synth-error.txt');

/** The repository's cdk.json context: the tests synthesize exactly what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const file = path.join(__dirname, '..', '..', 'cdk.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}

/** The accounts of the three-account tests: the environments' and the delivery pipeline's. */
export const THREE_ACCOUNTS = { dev: '111111111111', staging: '222222222222', prod: '333333333333' } as const;

/**
 * cdk.json's context with dev, staging and prod each in its own account (`THREE_ACCOUNTS`, region
 * eu-west-1) and the pipeline in a fourth, for building the app in-process without bundling. Prod
 * is at level 3 here: the level-4 loop is supported within one account and region only.
 */
export function threeAccountContext(): Record<string, unknown> {
  return {
    ...cdkJsonContext(),
    'aws:cdk:bundling-stacks': [],
    'mlops:prod:level': 3,
    'mlops:delivery:account': '444444444444',
    'mlops:delivery:region': 'eu-west-1',
    ...Object.fromEntries(
      Object.entries(THREE_ACCOUNTS).flatMap(([env, account]) => [
        [`mlops:${env}:account`, account],
        [`mlops:${env}:region`, 'eu-west-1'],
      ]),
    ),
  };
}

/**
 * The context the CDK CLI adds on top of cdk.json. Path metadata matters beyond readability:
 * cfn-lint recognizes CDK templates by it and relaxes its style-only checks accordingly.
 */
export const CLI_CONTEXT = { 'aws:cdk:enable-path-metadata': true } as const;

/** One synthesized stack: its stage (environment), artifact id, template file and template. */
export interface SynthesizedStack {
  readonly environment: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: Record<string, unknown>;
}

/**
 * The default app as the global setup synthesized it. Throws the synth error when synthesis
 * failed, so every layer test reports the real cause.
 */
export function loadSynthesizedApp(): {
  stacks: SynthesizedStack[];
  report: MaturityReportDocument;
  outdir: string;
} {
  if (fs.existsSync(SYNTH_ERROR_FILE)) {
    throw new Error(`Synthesis of the default app failed:\n${fs.readFileSync(SYNTH_ERROR_FILE, 'utf8')}`);
  }
  const assembly = new CloudAssembly(SYNTH_OUTDIR);
  const toStack =
    (environment: string) =>
    (stack: CloudAssembly['stacks'][number]): SynthesizedStack => ({
      environment,
      stackName: stack.stackName,
      templateFile: path.join(stack.assembly.directory, stack.templateFile),
      template: stack.template as Record<string, unknown>,
    });
  // Platform-level stacks (the delivery pipeline) sit at the top; each environment in its stage.
  const stacks = [
    ...assembly.stacks.map(toStack('(platform)')),
    ...assembly.nestedAssemblies.flatMap((nested) =>
      nested.nestedAssembly.stacks.map(toStack(nested.displayName ?? nested.id)),
    ),
  ];
  const report = JSON.parse(
    fs.readFileSync(path.join(SYNTH_OUTDIR, 'maturity-report.json'), 'utf8'),
  ) as MaturityReportDocument;
  return { stacks, report, outdir: SYNTH_OUTDIR };
}
