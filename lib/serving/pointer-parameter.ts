// What release pointers and variant weights share: SSM parameters a release writes and a serving
// stack reads. Not public API.
import { ArnFormat, Resource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import type { IReleasePointer } from './release-pointer';

/**
 * An SSM parameter name: one plain name, or a hierarchy of up to 15 levels with a leading slash.
 * SSM reserves names that start with `aws` or `ssm`.
 */
export const PARAMETER_NAME = /^(?!\/?(?:aws|ssm))(?:[a-zA-Z0-9_.-]{1,1011}|(?:\/[a-zA-Z0-9_.-]+){1,15})$/i;

/**
 * An SSM parameter that a release writes and a serving stack reads: a release pointer, or a
 * variant's weight (`VariantWeight`).
 */
export abstract class ReleasePointerBase extends Resource implements IReleasePointer {
  public abstract readonly parameterName: string;
  public abstract readonly parameterArn: string;

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resourceArns: [this.parameterArn],
    });
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter', 'ssm:GetParameter'],
      resourceArns: [this.parameterArn],
    });
  }
}

/** The ARN of a parameter of the scope's account and region. */
export function parameterArnOf(scope: Construct, parameterName: string): string {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(parameterName)) {
    // The leading slash cannot be stripped from a token at synth; a token name is taken to be
    // hierarchical (starting with '/'), as every release pointer's name is.
    return `${stack.formatArn({ service: 'ssm', resource: 'parameter', arnFormat: ArnFormat.NO_RESOURCE_NAME })}${parameterName}`;
  }
  return stack.formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: parameterName.replace(/^\//, ''),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * An existing parameter imported by name, checked first: `importer` names the calling importer in
 * the error, `fix` says what a valid name looks like.
 */
export function importParameter(
  scope: Construct,
  id: string,
  parameterName: string,
  importer: string,
  fix: string,
): IReleasePointer {
  const problems = new ProblemCollector(`${importer} '${scope.node.path}/${id}'`);
  problems.checkPattern('parameterName', parameterName, PARAMETER_NAME, fix);
  problems.throwIfAny();
  class Import extends ReleasePointerBase {
    public readonly parameterName = parameterName;
    public readonly parameterArn = parameterArnOf(scope, parameterName);
  }
  return new Import(scope, id);
}
