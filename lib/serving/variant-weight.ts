import { CfnResource, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import {
  CHALLENGER_VARIANT,
  DEFAULT_SLOT_NAME,
  DEFAULT_VARIANT_WEIGHT_PERCENT,
  POINTER_NAME_PART,
  SHADOW_VARIANT,
  variantWeightParameterName,
} from './naming';
import { importParameter, parameterArnOf, ReleasePointerBase } from './pointer-parameter';
import { IReleasePointer } from './release-pointer';

/** Props of a VariantWeight. */
export interface VariantWeightProps {
  /** The environment the weight belongs to; part of the parameter's name. */
  readonly environmentName: string;
  /**
   * The serving slot's name, as its release pointer names it.
   *
   * @default 'default'
   */
  readonly slotName?: string;
  /** The variant whose share this is: `challenger` or `shadow`. */
  readonly variant: string;
  /**
   * Whether the parameter is deleted with the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The traffic share of a serving slot's variant, in whole percent from 0 to 100: the share of
 * requests a challenger answers (the champion answers the rest), or the share of requests copied
 * to a shadow. An SSM String parameter, `/mlops/<env>/serving/<slot>/variants/<variant>/weight`,
 * that the release command writes and the serving stack reads on every deployment, so a release
 * changes the split without `cdk deploy`.
 *
 * Like a `ReleasePointer`, CloudFormation creates it (with 10) and then never updates it: its
 * properties derive only from the names, so no deployment writes over a released share. It lives
 * in a stack deployed before the slot's.
 */
export class VariantWeight extends ReleasePointerBase {
  /**
   * Imports an existing weight parameter by its name. It adds no stack dependency: deploy the
   * parameter before the slot's stack.
   */
  public static fromParameterName(scope: Construct, id: string, parameterName: string): IReleasePointer {
    return importParameter(
      scope,
      id,
      parameterName,
      'VariantWeight.fromParameterName',
      "use an SSM parameter name such as '/mlops/dev/serving/default/variants/challenger/weight'",
    );
  }

  public readonly parameterName: string;
  public readonly parameterArn: string;
  /** The `AWS::SSM::Parameter` resource. */
  public readonly resource: CfnResource;

  constructor(scope: Construct, id: string, props: VariantWeightProps) {
    super(scope, id);
    const problems = new ProblemCollector(`VariantWeight '${this.node.path}'`);
    const fix = 'use letters, digits, dots, hyphens and underscores';
    problems.checkPattern('environmentName', props.environmentName, POINTER_NAME_PART, fix);
    problems.checkPattern('slotName', props.slotName, POINTER_NAME_PART, fix);
    problems.checkPattern(
      'variant',
      props.variant,
      POINTER_NAME_PART,
      `${fix}, e.g. '${CHALLENGER_VARIANT}' or '${SHADOW_VARIANT}'`,
    );
    const removal = problems.checkRetainOrDestroy(props.removalPolicy);
    problems.throwIfAny();

    const slot = props.slotName ?? DEFAULT_SLOT_NAME;
    this.parameterName = variantWeightParameterName(props.environmentName, slot, props.variant);
    this.parameterArn = parameterArnOf(this, this.parameterName);
    // A plain CfnResource with fixed properties, for the reasons ReleasePointer gives.
    this.resource = new CfnResource(this, 'Resource', {
      type: 'AWS::SSM::Parameter',
      properties: {
        Name: this.parameterName,
        Type: 'String',
        Value: String(DEFAULT_VARIANT_WEIGHT_PERCENT),
        Description: `Traffic share in percent of variant ${props.variant} of slot ${slot} of environment ${props.environmentName}. Written by the release command.`,
      },
    });
    this.resource.applyRemovalPolicy(removal);
  }
}
