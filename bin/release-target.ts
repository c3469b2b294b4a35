import { CfnParameter, Stack, Stage, Token } from 'aws-cdk-lib';
import { PlatformConfig } from './config';
import { MaturityLevel } from '../lib/maturity/maturity-level';
import { describeValue } from '../lib/private/describe-value';
import { DEFAULT_SLOT_NAME, POINTER_NAME_PART, releasePointerParameterName } from '../lib/serving/naming';
import { ServingSlot } from '../lib/serving/serving-slot';
import { parseModelPackageArn, ReleaseError, ReleaseRequest } from '../lambda/shared/release';
import { createPlatformApp, PlatformApp } from './platform-app';

/** A release named the way the platform app's operators name it: an environment of cdk.json. */
export interface EnvironmentReleaseRequest {
  /** The environment to release to: a key of `mlops.environments` in cdk.json. */
  readonly environment: string;
  /** The model package version to serve. */
  readonly modelPackageArn: string;
  /**
   * The serving slot, when an environment has more than one.
   *
   * @default 'default'
   */
  readonly slotName?: string;
}

/** What an environment's release resolves to in the app that deploys it. */
export interface EnvironmentReleaseTarget {
  readonly environment: string;
  readonly slotName: string;
  /** The engine's input: the stack, pointer and region as the app defines them. */
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
 * Resolves an environment's release from the app itself: the stack that holds the environment's
 * serving slot (whatever its stage nesting or `stackName`), the pointer that slot reads, and the
 * stack's region when it is literal, else the package's. Throws a ReleaseError for an unknown
 * environment, one below level 2, an invalid or unknown slot, a malformed ARN, or an ARN from
 * another region than the stack's.
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
  const slotName = request.slotName ?? DEFAULT_SLOT_NAME;
  if (typeof slotName !== 'string' || !POINTER_NAME_PART.test(slotName)) {
    throw new ReleaseError(
      'invalid-request',
      `slot ${describeValue(slotName)} is invalid: use 1-64 letters, digits, dots, hyphens and underscores, ` +
        `or leave it out for the '${DEFAULT_SLOT_NAME}' slot`,
    );
  }
  const arn = parseModelPackageArn(request.modelPackageArn);

  // createPlatformApp names each stage after its environment.
  const stage = source.stages.find((s) => s.node.id === environment.name);
  const slots = stage ? servingSlots(stage) : [];
  const pointerName = releasePointerParameterName(environment.name, slotName);
  const slot = slots.find((s) => s.pointerName === pointerName);
  if (!stage || !slot) {
    const known = slots.map((s) => `'${slotNameOf(environment.name, s.pointerName)}'`).join(', ');
    throw new ReleaseError(
      'no-serving-slot',
      `environment '${environment.name}' has no serving slot '${slotName}'` +
        (known
          ? `: its slots are ${known}; name one of them, or leave the slot out for '${DEFAULT_SLOT_NAME}'`
          : ''),
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
    slotName,
    request: {
      modelPackageArn: arn.arn,
      stackName: stack.stackName,
      pointerName,
      region: stackRegion ?? arn.region,
      account: literal(stack.account),
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

function slotNameOf(environment: string, pointerName: string): string {
  // '|' cannot occur in a slot name, so it marks where the slot sits in the pointer's name.
  const [before, after] = releasePointerParameterName(environment, '|').split('|');
  return pointerName.startsWith(before) && pointerName.endsWith(after)
    ? pointerName.slice(before.length, pointerName.length - after.length)
    : pointerName;
}

function literal(value: string): string | undefined {
  return Token.isUnresolved(value) ? undefined : value;
}

function names(config: PlatformConfig): string {
  return config.environments.map((e) => e.name).join(', ') || '(none configured)';
}
