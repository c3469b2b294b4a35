import { CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { resolvedPropertiesOf } from '../private/cfn-properties';

/**
 * Acknowledges cfn-lint W3005 on resources whose DependsOn names a resource that their properties
 * already reference (Ref or GetAtt), and only there.
 *
 * aws-cdk-lib adds such explicit dependencies in several L2s (Lambda functions and custom-resource
 * providers on their roles, CodePipeline on its role). They are redundant, not wrong, and the
 * resources are aws-cdk-lib's to shape. The acknowledgement is cfn-lint's own resource metadata
 * (`Metadata.cfn-lint.config.ignore_checks`), so every other rule still applies to the resource.
 *
 * For apps that run cfn-lint on their templates: add it per Stage or Stack, e.g.
 * `Aspects.of(stack).add(new RedundantDependsOnLintAcknowledgement())`. (An aspect on the App does
 * not reach stages that CDK Pipelines synthesizes on their own.)
 */
export class RedundantDependsOnLintAcknowledgement implements IAspect {
  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) {
      return;
    }
    // Resource-level dependencies, and construct-level ones (node.addDependency on the resource or
    // an enclosing L2), which CDK turns into DependsOn at synth.
    const constructDependencies = node.node.scopes
      .flatMap((s) => s.node.dependencies)
      .flatMap((d) => d.node.findAll());
    const dependencies = [...node.obtainDependencies(), ...constructDependencies].filter(
      (d): d is CfnResource => CfnResource.isCfnResource(d),
    );
    if (dependencies.length === 0) {
      return;
    }
    const stack = Stack.of(node);
    const properties = JSON.stringify(resolvedPropertiesOf(node));
    const redundant = dependencies.some((d) => {
      if (Stack.of(d) !== stack) {
        return false;
      }
      const id = stack.resolve(stack.getLogicalId(d));
      return properties.includes(`{"Ref":"${id}"}`) || properties.includes(`{"Fn::GetAtt":["${id}",`);
    });
    if (redundant) {
      node.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    }
  }
}
