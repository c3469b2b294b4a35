import { CfnResource, IResource, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { importParameter, parameterArnOf, ReleasePointerBase } from './pointer-parameter';
import {
  CHALLENGER_VARIANT,
  DEFAULT_SLOT_NAME,
  NO_MODEL_RELEASED,
  POINTER_NAME_PART,
  releasePointerParameterName,
  SHADOW_VARIANT,
  variantPointerParameterName,
} from './naming';

/**
 * A release pointer: the SSM parameter naming the model package version a serving slot serves, or
 * `none`. Created with `ReleasePointer`, or imported with `ReleasePointer.fromParameterName`.
 */
export interface IReleasePointer extends IResource {
  /**
   * The parameter's name, e.g. `/mlops/dev/serving/default/model-package-arn`.
   *
   * @attribute
   */
  readonly parameterName: string;
  /**
   * The parameter's ARN.
   *
   * @attribute
   */
  readonly parameterArn: string;

  /** Grants reading the pointer (`ssm:GetParameter`, `ssm:GetParameters`). */
  grantRead(grantee: iam.IGrantable): iam.Grant;
  /** Grants writing the pointer (what the release command does): `ssm:PutParameter`, `ssm:GetParameter`. */
  grantWrite(grantee: iam.IGrantable): iam.Grant;
}

/** Props of a ReleasePointer. */
export interface ReleasePointerProps {
  /** The environment the pointer belongs to; part of the parameter's name. */
  readonly environmentName: string;
  /**
   * The serving slot's name, when an environment has more than one.
   *
   * @default 'default'
   */
  readonly slotName?: string;
  /**
   * The slot's variant this pointer serves, besides its champion: `challenger` (an A/B test) or
   * `shadow`; the parameter is then `/mlops/<env>/serving/<slot>/variants/<variant>/model-package-arn`.
   *
   * @default - the slot's champion (its production variant `AllTraffic`)
   */
  readonly variant?: string;
  /**
   * Whether the parameter is deleted with the stack. Keep RETAIN where a release must survive
   * re-creating the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The release pointer of a serving slot: an SSM String parameter holding the model package ARN
 * that the slot serves, or `none`. The release command writes it; the serving stack reads it on
 * every deployment through an SSM-typed stack parameter.
 *
 * CloudFormation creates the parameter with `none` and then never touches it: its properties
 * derive only from the environment and slot names and it carries no tags, so no deployment
 * updates it (an update would write `none` over the released model). The serving stack resolves
 * the parameter before it creates anything, so the pointer lives in a stack deployed before it
 * (the app's `<env>-Release` stack).
 *
 * With RETAIN (the default), deleting the stack keeps the parameter and the release it records;
 * to re-create the stack afterwards, delete the parameter first or import it into the new stack.
 */
export class ReleasePointer extends ReleasePointerBase {
  /**
   * Imports an existing pointer by its parameter name, e.g. one created by another app, or by the
   * release stack of another CDK app.
   *
   * An imported pointer adds no stack dependency: deploy the stack that creates the parameter
   * before the stack of a serving slot that reads it. A token name must start with `/`.
   */
  public static fromParameterName(scope: Construct, id: string, parameterName: string): IReleasePointer {
    return importParameter(
      scope,
      id,
      parameterName,
      'ReleasePointer.fromParameterName',
      "use an SSM parameter name such as '/mlops/dev/serving/default/model-package-arn' (letters, digits, " +
        "'_', '.', '-', levels separated by '/' after a leading '/', not starting with aws or ssm)",
    );
  }

  /** The parameter's name. */
  public readonly parameterName: string;
  /** The parameter's ARN. */
  public readonly parameterArn: string;
  /** The `AWS::SSM::Parameter` resource. */
  public readonly resource: CfnResource;
  /** The variant the pointer serves, when it is not the slot's champion. */
  public readonly variant?: string;

  constructor(scope: Construct, id: string, props: ReleasePointerProps) {
    super(scope, id);
    const problems = new ProblemCollector(`ReleasePointer '${this.node.path}'`);
    problems.checkPattern(
      'environmentName',
      props.environmentName,
      POINTER_NAME_PART,
      'use letters, digits, dots, hyphens and underscores',
    );
    problems.checkPattern(
      'slotName',
      props.slotName,
      POINTER_NAME_PART,
      'use letters, digits, dots, hyphens and underscores',
    );
    problems.checkPattern(
      'variant',
      props.variant,
      POINTER_NAME_PART,
      `use letters, digits, dots, hyphens and underscores, e.g. '${CHALLENGER_VARIANT}' or '${SHADOW_VARIANT}'`,
    );
    const removal = problems.checkRetainOrDestroy(props.removalPolicy);
    problems.throwIfAny();

    const slot = props.slotName ?? DEFAULT_SLOT_NAME;
    this.variant = props.variant;
    this.parameterName =
      props.variant === undefined
        ? releasePointerParameterName(props.environmentName, slot)
        : variantPointerParameterName(props.environmentName, slot, props.variant);
    this.parameterArn = parameterArnOf(this, this.parameterName);

    // A plain CfnResource, not CfnParameter: it has no tag manager, so app-wide tags never touch it.
    // Its properties are fixed by the environment and slot names, so CloudFormation never updates
    // it, and an update is what would write the template's value over a released model.
    this.resource = new CfnResource(this, 'Resource', {
      type: 'AWS::SSM::Parameter',
      properties: {
        Name: this.parameterName,
        Type: 'String',
        Value: NO_MODEL_RELEASED,
        Description:
          props.variant === undefined
            ? `Model package ARN served by slot ${slot} of environment ${props.environmentName}, or none. Written by the release command.`
            : `Model package ARN served by variant ${props.variant} of slot ${slot} of environment ${props.environmentName}, or none. Written by the release command.`,
      },
    });
    this.resource.applyRemovalPolicy(removal);
  }
}
