import { CfnParameter, Stack, Stage, Token } from 'aws-cdk-lib';
import { PlatformConfig } from './config';
import { MaturityLevel } from '../lib/maturity/maturity-level';
import { describeValue } from '../lib/private/describe-value';
import { MODEL_NAME } from '../lib/private/patterns';
import { releasePointerParameterName } from '../lib/serving/naming';
import { ServingSlot } from '../lib/serving/serving-slot';
import { parseModelPackageArn, ReleaseError, ReleaseRequest, sameGroup } from '../lambda/shared/release';
import { createPlatformApp, PlatformApp } from './platform-app';

/**
 * A release named the way the platform app's operators name it: an environment of cdk.json and
 * one of its models.
 */
export interface EnvironmentReleaseRequest {
  /** The environment to release to: a key of `mlops.environments` in cdk.json. */
  readonly environment: string;
  /** The model package version to serve: a version of the model's own model package group. */
  readonly modelPackageArn: string;
  /**
   * The model to release, a key of the environment's `models` in cdk.json: each model has its own
   * serving slot, release pointer and model package group.
   *
   * @default - the environment's model, when it has exactly one
   */
  readonly modelName?: string;
}

/** What an environment's release resolves to in the app that deploys it. */
export interface EnvironmentReleaseTarget {
  readonly environment: string;
  readonly modelName: string;
  /** The engine's input: the stack, pointer, region and model package group as the app defines them. */
  readonly request: ReleaseRequest;
}

/** What a target is resolved from: the parsed config and the app's stages, one per environment. */
export interface ReleaseTargetSource {
  readonly config: PlatformConfig;
  readonly stages: readonly Stage[];
}

/** A release to a serving slot in a stack of the user's own: the stack and pointer are named directly. */
export interface StackReleaseRequest {
  readonly stackName: string;
  readonly pointerName: string;
  readonly modelPackageArn: string;
  /**
   * The stack's region.
   *
   * @default - the model package ARN's region
   */
  readonly region?: string;
}

/**
 * Builds the platform app in-process from cdk.json's context, without synthesizing it and without
 * bundling any asset: a release only needs the names the app gives its stacks and pointers.
 */
export function buildPlatformAppForRelease(context: Record<string, unknown>): PlatformApp {
  return createPlatformApp({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
}

/**
 * Resolves an environment's release from the app itself: the stack that holds the serving slot of
 * the environment's model (whatever its stage nesting or `stackName`), the pointer that slot reads,
 * the model package group it serves, and the stack's region when it is literal, else the package's.
 * Throws a ReleaseError for an unknown environment, one below level 2, a missing (with several
 * models), invalid or unknown model, a malformed ARN, a package of another model package group
 * than the model's, or an ARN from another region than the stack's.
 */
export function resolveEnvironmentTarget(
  source: ReleaseTargetSource,
  request: EnvironmentReleaseRequest,
): EnvironmentReleaseTarget {
  const { config } = source;
  if (typeof request.environment !== 'string' || request.environment === '') {
    throw new ReleaseError(
      'invalid-request',
      `environment ${describeValue(request.environment)} is invalid: name one of ${names(config)}`,
    );
  }
  const environment = config.environments.find((e) => e.name === request.environment);
  if (!environment) {
    throw new ReleaseError(
      'unknown-environment',
      `environment '${request.environment}' is not configured: use one of ${names(config)}, ` +
        `or add it to context.mlops.environments in cdk.json`,
    );
  }
  if (environment.level < MaturityLevel.AUTOMATED_TRAINING) {
    throw new ReleaseError(
      'no-serving-slot',
      `environment '${environment.name}' is at maturity level ${environment.level}, which has no serving slot: ` +
        `set context.mlops.environments.${environment.name}.level to ${MaturityLevel.AUTOMATED_TRAINING} or higher ` +
        `in cdk.json and deploy it (npx cdk deploy '${environment.name}/*'), then release`,
    );
  }
  const models = environment.models.map((m) => m.name);
  if (models.length === 0) {
    throw new ReleaseError(
      'no-serving-slot',
      `environment '${environment.name}' has no model, so no serving slot: add one to ` +
        `context.mlops.environments.${environment.name}.models in cdk.json and deploy it, then release`,
    );
  }
  const modelList = models.map((m) => `'${m}'`).join(', ');
  if (
    request.modelName !== undefined &&
    (typeof request.modelName !== 'string' || !MODEL_NAME.test(request.modelName))
  ) {
    throw new ReleaseError(
      'invalid-request',
      `model ${describeValue(request.modelName)} is invalid: a model name is 1-32 lower-case letters, digits ` +
        `and single hyphens, starting with a letter; environment '${environment.name}' has ${modelList}`,
    );
  }
  const arn = parseModelPackageArn(request.modelPackageArn);

  // createPlatformApp names each stage after its environment.
  const stage = source.stages.find((s) => s.node.id === environment.name);
  const slots = stage ? servingSlots(stage) : [];
  const slotOf = (model: string) =>
    slots.find((s) => s.pointerName === releasePointerParameterName(environment.name, model));

  let modelName = request.modelName;
  if (modelName === undefined) {
    if (models.length > 1) {
      // The model whose group the package is of, when there is one, to show the command in full.
      const owner = models.find((m) => {
        const group = groupOf(slotOf(m));
        return group !== undefined && sameGroup(arn.group, group);
      });
      throw new ReleaseError(
        'model-required',
        `environment '${environment.name}' has more than one model (${modelList}): name the one to release ` +
          `with --model, e.g. npm run release -- --env ${environment.name} --model ${owner ?? '<model>'} ` +
          `--model-package-arn ${arn.arn}`,
      );
    }
    modelName = models[0];
  } else if (!models.includes(modelName)) {
    throw new ReleaseError(
      'unknown-model',
      `environment '${environment.name}' has no model '${modelName}': its models are ${modelList}; ` +
        `name one of them with --model`,
    );
  }

  const slot = slotOf(modelName);
  const pointerName = releasePointerParameterName(environment.name, modelName);
  if (!stage || !slot) {
    throw new ReleaseError(
      'no-serving-slot',
      `environment '${environment.name}' has no serving slot reading ${pointerName} for model '${modelName}': ` +
        `the app defines a slot for each model of cdk.json, so check that the app in this directory is the ` +
        `one that deploys it`,
    );
  }
  const group = groupOf(slot);
  if (group !== undefined && !sameGroup(arn.group, group)) {
    const owner = models.find((m) => m !== modelName && sameGroup(arn.group, groupOf(slotOf(m)) ?? ''));
    throw new ReleaseError(
      'wrong-model-group',
      `model package '${arn.arn}' belongs to group '${arn.group}', but model '${modelName}' of environment ` +
        `'${environment.name}' serves group '${group}': release a version of '${group}'` +
        (owner ? `, or release this one to model '${owner}' (--model ${owner})` : ''),
    );
  }
  const stack = Stack.of(slot.slot);
  const stackRegion = literal(stack.region);
  if (stackRegion !== undefined && stackRegion !== arn.region) {
    throw new ReleaseError(
      'region-mismatch',
      `model package ARN '${arn.arn}' is in region ${arn.region}, but environment '${environment.name}' is in ` +
        `${stackRegion}: a serving slot serves packages of its own region; register the model in ` +
        `${stackRegion} and release that version's ARN`,
    );
  }
  return {
    environment: environment.name,
    modelName,
    request: {
      modelPackageArn: arn.arn,
      stackName: stack.stackName,
      pointerName,
      region: stackRegion ?? arn.region,
      account: literal(stack.account),
      modelPackageGroupName: group,
      deployCommand: `npx cdk deploy '${stage.node.path}/*'`,
    },
  };
}

/** The engine's input for a slot in a stack of the user's own; the region defaults to the ARN's. */
export function resolveStackTarget(request: StackReleaseRequest): ReleaseRequest {
  const arn = parseModelPackageArn(request.modelPackageArn);
  return {
    modelPackageArn: arn.arn,
    stackName: request.stackName,
    pointerName: request.pointerName,
    region: request.region ?? arn.region,
  };
}

interface FoundSlot {
  readonly slot: ServingSlot;
  /** The SSM parameter the slot's stack reads: the default of its SSM-typed stack parameter. */
  readonly pointerName: string;
}

function servingSlots(stage: Stage): FoundSlot[] {
  return stage.node
    .findAll()
    .filter((c): c is ServingSlot => c instanceof ServingSlot)
    .flatMap((slot) =>
      slot.node.children
        .filter(
          (c): c is CfnParameter =>
            c instanceof CfnParameter &&
            c.type === 'AWS::SSM::Parameter::Value<String>' &&
            typeof c.default === 'string',
        )
        .map((parameter) => ({ slot, pointerName: parameter.default as string })),
    );
}

/** The model package group a slot serves, when the app names it literally. */
function groupOf(found: FoundSlot | undefined): string | undefined {
  const group = found?.slot.modelRegistry?.modelPackageGroupName;
  return group === undefined ? undefined : literal(group);
}

function literal(value: string): string | undefined {
  return Token.isUnresolved(value) ? undefined : value;
}

function names(config: PlatformConfig): string {
  return config.environments.map((e) => e.name).join(', ') || '(none configured)';
}
