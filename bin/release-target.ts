import { CfnParameter, Stack, Stage, Token } from 'aws-cdk-lib';
import { PlatformConfig } from './config';
import { MaturityLevel } from '../lib/maturity/maturity-level';
import { describeValue } from '../lib/private/describe-value';
import { MODEL_NAME } from '../lib/private/patterns';
import { CHALLENGER_VARIANT, releasePointerParameterName, SHADOW_VARIANT } from '../lib/serving/naming';
import { ServingSlot } from '../lib/serving/serving-slot';
import { ServingVariant } from '../lib/serving/serving-variant';
import {
  ModelPackageVersionArn,
  parseModelPackageArn,
  PointerRelease,
  PointersReleaseRequest,
  ReleaseError,
  ReleaseRequest,
  sameGroup,
} from '../lambda/shared/release';
import { createPlatformApp, PlatformApp } from './platform-app';
import { EnvironmentStage } from '../lib/platform/environment-stage';

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
  const found = resolveSlot(source, request.environment, request.modelName, () =>
    parseModelPackageArn(request.modelPackageArn),
  );
  const arn = found.arn!;
  const { environment, modelName, slot, stage } = found;
  const group = checkGroup(found, arn);
  const stack = Stack.of(slot);
  const stackRegion = checkRegion(found, arn);
  return {
    environment,
    modelName,
    request: {
      modelPackageArn: arn.arn,
      stackName: stack.stackName,
      pointerName: releasePointerParameterName(environment, modelName),
      region: stackRegion ?? arn.region,
      account: literal(stack.account),
      modelPackageGroupName: group,
      deployCommand: `npx cdk deploy '${stage.node.path}/*'`,
    },
  };
}

/** What to do with a variant of a model's serving slot. */
export type VariantAction =
  /** Serve `modelPackageArn` from the variant (and set its weight, when given). */
  | 'release'
  /** Set the variant's traffic share alone. */
  | 'weight'
  /** Serve nothing from the variant: its pointer becomes `none`. */
  | 'stop'
  /** The champion takes the variant's package, and the variant serves nothing: one update. */
  | 'promote';

/** A release to a variant (challenger or shadow) of an environment's model, named as operators name it. */
export interface VariantReleaseRequest {
  /** The environment: a key of `mlops.environments` in cdk.json. */
  readonly environment: string;
  /**
   * The model, a key of the environment's `models`.
   *
   * @default - the environment's model, when it has exactly one
   */
  readonly modelName?: string;
  /** `challenger` (A/B test) or `shadow`. */
  readonly variant: string;
  readonly action: VariantAction;
  /** With `release`: the model package version the variant serves, a version of the model's group. */
  readonly modelPackageArn?: string;
  /** With `release` (optional) and `weight`: the variant's share of the requests, whole percent 0-100. */
  readonly weightPercent?: number;
  /**
   * The region to release in when the environment names none and no ARN is given (a weight change,
   * a stop, a promotion), e.g. the AWS_REGION of the credentials.
   *
   * @default - the environment's region, else the ARN's
   */
  readonly defaultRegion?: string;
}

/** What a variant release resolves to: the engine's input, several pointers of the slot's stack. */
export interface VariantReleaseTarget {
  readonly environment: string;
  readonly modelName: string;
  readonly variant: string;
  readonly action: VariantAction;
  readonly request: PointersReleaseRequest;
}

/**
 * Resolves a release to a variant from the app itself: the variant's pointer and weight as the
 * model's ServingSlot reads them (`slot.challenger`, `slot.shadow`), and the champion's pointer for
 * a promotion. Throws a ReleaseError for the cases `resolveEnvironmentTarget` refuses, for a
 * variant the slot does not offer, and for a share that is not a whole percentage from 0 to 100.
 */
export function resolveVariantTarget(
  source: ReleaseTargetSource,
  request: VariantReleaseRequest,
): VariantReleaseTarget {
  const variants = [CHALLENGER_VARIANT, SHADOW_VARIANT];
  if (!variants.includes(request.variant)) {
    throw new ReleaseError(
      'invalid-request',
      `variant ${describeValue(request.variant)} is invalid: name ${CHALLENGER_VARIANT} (an A/B test) or ${SHADOW_VARIANT} (a shadow test)`,
    );
  }
  const weight = request.weightPercent;
  if (weight !== undefined && !(Number.isInteger(weight) && weight >= 0 && weight <= 100)) {
    throw new ReleaseError(
      'invalid-request',
      `weight ${describeValue(weight)} is invalid: give the ${request.variant}'s share of the requests as a whole percentage from 0 to 100`,
    );
  }
  const found = resolveSlot(source, request.environment, request.modelName, () =>
    request.modelPackageArn === undefined ? undefined : parseModelPackageArn(request.modelPackageArn),
  );
  const { environment, modelName, slot, stage } = found;
  const offered: Record<string, ServingVariant | undefined> = {
    [CHALLENGER_VARIANT]: slot.challenger,
    [SHADOW_VARIANT]: slot.shadow,
  };
  const variant = offered[request.variant];
  if (!variant) {
    const others = variants.filter((v) => offered[v]);
    throw new ReleaseError(
      'unknown-variant',
      `model '${modelName}' of environment '${environment}' offers no ${request.variant} variant: its serving slot ` +
        `${others.length ? `offers ${others.join(' and ')}` : 'offers no variant'}. Name ${others.length ? `--variant ${others[0]}` : 'another model'}, ` +
        `or give the slot a ${request.variant} (ServingSlot prop ${request.variant}) and deploy the environment (npx cdk deploy '${stage.node.path}/*')`,
    );
  }
  const pointerName = literalName(variant.pointer.parameterName, `${request.variant} pointer`);
  const weightName = literalName(variant.weight.parameterName, `${request.variant} weight`);
  const stack = Stack.of(slot);
  const arn = found.arn;
  let group = literalGroup(found);
  let stackRegion = literal(stack.region);
  let pointers: PointerRelease[];
  switch (request.action) {
    case 'release': {
      if (!arn) {
        throw new ReleaseError(
          'invalid-request',
          `a release to the ${request.variant} needs the model package version it serves: give --model-package-arn`,
        );
      }
      group = checkGroup(found, arn);
      stackRegion = checkRegion(found, arn);
      pointers = [
        { pointerName, modelPackageArn: arn.arn },
        ...(weight === undefined ? [] : [{ pointerName: weightName, weightPercent: weight }]),
      ];
      break;
    }
    case 'weight':
      if (weight === undefined) {
        throw new ReleaseError(
          'invalid-request',
          `a weight change needs the ${request.variant}'s share: give --weight`,
        );
      }
      pointers = [{ pointerName: weightName, weightPercent: weight }];
      break;
    case 'stop':
      pointers = [{ pointerName, modelPackageArn: 'none' }];
      break;
    case 'promote':
      pointers = [
        { pointerName: releasePointerParameterName(environment, modelName), copyFrom: pointerName },
        { pointerName, modelPackageArn: 'none' },
      ];
      break;
  }
  return {
    environment,
    modelName,
    variant: request.variant,
    action: request.action,
    request: {
      stackName: stack.stackName,
      region: stackRegion ?? arn?.region ?? request.defaultRegion ?? regionRequired(environment),
      account: literal(stack.account),
      modelPackageGroupName: group,
      deployCommand: `npx cdk deploy '${stage.node.path}/*'`,
      pointers,
    },
  };
}

interface ResolvedSlot {
  readonly environment: string;
  readonly modelName: string;
  readonly models: readonly string[];
  readonly stage: Stage;
  readonly slot: ServingSlot;
  readonly arn?: ModelPackageVersionArn;
  readonly slotOf: (model: string) => FoundSlot | undefined;
}

/**
 * The serving slot of an environment's model, as the app defines it. `parseArn` runs where the
 * ARN has always been checked (after the model name, before the model is chosen), so that a
 * malformed ARN is reported before a missing --model.
 */
function resolveSlot(
  source: ReleaseTargetSource,
  environmentName: string,
  requestedModel: string | undefined,
  parseArn: () => ModelPackageVersionArn | undefined,
): ResolvedSlot {
  const { config } = source;
  if (typeof environmentName !== 'string' || environmentName === '') {
    throw new ReleaseError(
      'invalid-request',
      `environment ${describeValue(environmentName)} is invalid: name one of ${names(config)}`,
    );
  }
  const environment = config.environments.find((e) => e.name === environmentName);
  if (!environment) {
    throw new ReleaseError(
      'unknown-environment',
      `environment '${environmentName}' is not configured: use one of ${names(config)}, ` +
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
    requestedModel !== undefined &&
    (typeof requestedModel !== 'string' || !MODEL_NAME.test(requestedModel))
  ) {
    throw new ReleaseError(
      'invalid-request',
      `model ${describeValue(requestedModel)} is invalid: a model name is 1-32 lower-case letters, digits ` +
        `and single hyphens, starting with a letter; environment '${environment.name}' has ${modelList}`,
    );
  }
  const arn = parseArn();

  // createPlatformApp names each stage after its environment.
  const stage = source.stages.find((s) => s.node.id === environment.name);
  const slots = stage ? servingSlots(stage) : [];
  const slotOf = (model: string) =>
    slots.find((s) => s.pointerName === releasePointerParameterName(environment.name, model));

  let modelName = requestedModel;
  if (modelName === undefined) {
    if (models.length > 1) {
      // The model whose group the package is of, when there is one, to show the command in full.
      const owner =
        arn &&
        models.find((m) => {
          const group = groupOf(slotOf(m));
          return group !== undefined && sameGroup(arn.group, group);
        });
      throw new ReleaseError(
        'model-required',
        `environment '${environment.name}' has more than one model (${modelList}): name the one to release ` +
          `with --model, e.g. npm run release -- --env ${environment.name} --model ${owner ?? '<model>'}` +
          (arn ? ` --model-package-arn ${arn.arn}` : ''),
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
  return { environment: environment.name, modelName, models, stage, slot: slot.slot, arn, slotOf };
}

/** The slot's group, checked against the package's: a package of another model's group is refused. */
function checkGroup(found: ResolvedSlot, arn: ModelPackageVersionArn): string | undefined {
  const { environment, modelName, models, slotOf } = found;
  const group = literalGroup(found);
  // An environment that a release automation promotes to also serves the source's approved versions.
  const source = found.stage instanceof EnvironmentStage ? found.stage.platform.releaseSource : undefined;
  const sourceGroup = source?.modelPackageGroupNames[modelName];
  if (sourceGroup !== undefined && sameGroup(arn.group, sourceGroup)) {
    return sourceGroup;
  }
  if (group !== undefined && !sameGroup(arn.group, group)) {
    const owner = models.find((m) => m !== modelName && sameGroup(arn.group, groupOf(slotOf(m)) ?? ''));
    throw new ReleaseError(
      'wrong-model-group',
      `model package '${arn.arn}' belongs to group '${arn.group}', but model '${modelName}' of environment ` +
        `'${environment}' serves group '${group}'` +
        (sourceGroup
          ? ` and the approved versions of '${sourceGroup}' (environment ${source!.environmentName})`
          : '') +
        `: release a version of '${group}'` +
        (owner ? `, or release this one to model '${owner}' (--model ${owner})` : ''),
    );
  }
  return group;
}

/** The stack's literal region, checked against the package's. */
function checkRegion(found: ResolvedSlot, arn: ModelPackageVersionArn): string | undefined {
  const stackRegion = literal(Stack.of(found.slot).region);
  if (stackRegion !== undefined && stackRegion !== arn.region) {
    throw new ReleaseError(
      'region-mismatch',
      `model package ARN '${arn.arn}' is in region ${arn.region}, but environment '${found.environment}' is in ` +
        `${stackRegion}: a serving slot serves packages of its own region; register the model in ` +
        `${stackRegion} and release that version's ARN`,
    );
  }
  return stackRegion;
}

function literalGroup(found: ResolvedSlot): string | undefined {
  const group = found.slot.modelRegistry?.modelPackageGroupName;
  return group === undefined ? undefined : literal(group);
}

function literalName(name: string, what: string): string {
  if (Token.isUnresolved(name)) {
    throw new ReleaseError(
      'no-serving-slot',
      `the ${what} of the serving slot is a token, not a parameter name the release can write: give the slot a ` +
        'ReleasePointer and a VariantWeight (or import them by literal names)',
    );
  }
  return name;
}

function regionRequired(environment: string): never {
  throw new ReleaseError(
    'invalid-request',
    `environment '${environment}' names no region, and nothing in this release does: set AWS_REGION (the region ` +
      `the environment is deployed in), or context.mlops.environments.${environment}.region in cdk.json`,
  );
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
