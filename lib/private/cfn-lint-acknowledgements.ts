import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cfn-lint W3005 on the handlers of aws-cdk-lib's own custom-resource providers in
 * `scope`'s stack (auto-delete objects, restrict default security group).
 *
 * aws-cdk-lib gives those handlers an explicit DependsOn on their role although they also GetAtt
 * it; the redundancy is harmless and the resources are not ours to change. The acknowledgement is
 * cfn-lint's own resource-level `Metadata.cfn-lint.config.ignore_checks`, so every other rule
 * still applies to them and W3005 still applies everywhere else.
 */
export function acknowledgeCdkProviderLint(scope: IConstruct): void {
  const stack = Stack.of(scope);
  for (const child of stack.node.children) {
    if (!child.node.id.endsWith('CustomResourceProvider')) {
      continue;
    }
    const handler = child.node.tryFindChild('Handler');
    if (handler && CfnResource.isCfnResource(handler)) {
      // Setting the same key again is a no-op, so calling this once per construct is safe.
      handler.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    }
  }
}
