import { ArnFormat, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import {
  DEFAULT_SLOT_NAME,
  NO_MODEL_RELEASED,
  POINTER_NAME_PART,
  releasePointerParameterName,
} from './naming';

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
export class ReleasePointer extends Construct {
  /** The parameter's name. */
  public readonly parameterName: string;
  /** The parameter's ARN. */
  public readonly parameterArn: string;
  /** The `AWS::SSM::Parameter` resource. */
  public readonly resource: CfnResource;

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
    const removal = problems.checkRetainOrDestroy(props.removalPolicy);
    problems.throwIfAny();

    const slot = props.slotName ?? DEFAULT_SLOT_NAME;
    this.parameterName = releasePointerParameterName(props.environmentName, slot);
    this.parameterArn = Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: this.parameterName.slice(1),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });

    // A plain CfnResource, not CfnParameter: it has no tag manager, so app-wide tags never touch it.
    // Its properties are fixed by the environment and slot names, so CloudFormation never updates
    // it, and an update is what would write the template's value over a released model.
    this.resource = new CfnResource(this, 'Resource', {
      type: 'AWS::SSM::Parameter',
      properties: {
        Name: this.parameterName,
        Type: 'String',
        Value: NO_MODEL_RELEASED,
        Description: `Model package ARN served by slot ${slot} of environment ${props.environmentName}, or none. Written by the release command.`,
      },
    });
    this.resource.applyRemovalPolicy(removal);
  }

  /** Grants reading the pointer. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resourceArns: [this.parameterArn],
    });
  }

  /** Grants writing the pointer (what the release command does). */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter', 'ssm:GetParameter'],
      resourceArns: [this.parameterArn],
    });
  }
}
