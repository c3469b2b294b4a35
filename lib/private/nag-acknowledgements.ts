import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * Acknowledges, on `scope`, the cdk-nag AwsSolutions-IAM5 findings that `statements` cause: one
 * acknowledgement per wildcard action and per wildcard resource, in the id form cdk-nag reports
 * (`AwsSolutions-IAM5[Action::s3:GetObject*]`, `AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]`).
 *
 * Used for wildcards that are the narrowest expression of a grant (objects under one bucket or
 * prefix, aws-cdk-lib's standard action groups), so that users who run cdk-nag see only findings
 * about their own choices. Acknowledgements on a construct cover its children, e.g. a role's
 * default policy.
 */
export function acknowledgeWildcards(
  scope: IConstruct,
  statements: iam.PolicyStatement[],
  reason: string,
  resourcesAreSerialized = false,
): void {
  const stack = Stack.of(scope);
  const ids = new Set<string>();
  for (const statement of statements) {
    if (statement.effect !== iam.Effect.ALLOW) {
      continue;
    }
    for (const action of statement.actions.filter((a) => a.includes('*'))) {
      ids.add(`AwsSolutions-IAM5[Action::${action}]`);
    }
    for (const resource of statement.resources) {
      const flat = flattenReference(
        resourcesAreSerialized && resource.startsWith('{') ? JSON.parse(resource) : stack.resolve(resource),
      );
      if (flat.includes('*')) {
        ids.add(`AwsSolutions-IAM5[Resource::${flat}]`);
      }
    }
  }
  for (const id of ids) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

/** Acknowledges the wildcards of a grant on the grantee's principal, when that is a construct. */
export function acknowledgeGrantWildcards(grantee: iam.IGrantable, grant: iam.Grant, reason: string): void {
  const principal = grantee.grantPrincipal;
  if (grant.principalStatements.length > 0 && isConstruct(principal)) {
    acknowledgeWildcards(principal, grant.principalStatements, reason);
  }
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings of every IAM policy under `scope` that a library
 * generated (e.g. CDK Pipelines' roles), computed from the resolved policy documents, so the
 * acknowledgements match exactly what is there and nothing added later.
 */
export function acknowledgeGeneratedPolicyWildcards(scope: IConstruct, reason: string): void {
  for (const c of scope.node.findAll()) {
    if (!(c instanceof iam.CfnPolicy)) {
      continue;
    }
    const doc = Stack.of(c).resolve(c.policyDocument) as { Statement?: Array<Record<string, unknown>> };
    const statements = (doc.Statement ?? []).map((st) => {
      const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
      return new iam.PolicyStatement({
        effect: st.Effect === 'Deny' ? iam.Effect.DENY : iam.Effect.ALLOW,
        actions: list(st.Action) as string[],
        // Keep each resolved resource as an opaque token-free value for flattening below.
        resources: list(st.Resource).map((r) => (typeof r === 'string' ? r : JSON.stringify(r))),
      });
    });
    acknowledgeWildcards(c, statements, reason, true);
  }
}

/** Renders a resolved CloudFormation value the way cdk-nag names it in finding ids. */
function flattenReference(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (typeof value === 'string') {
    return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if ('Fn::Sub' in node) {
    return flattenReference(node['Fn::Sub']);
  }
  if (Array.isArray(node['Fn::GetAtt'])) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if ('Fn::ImportValue' in node) {
    return flattenReference(node['Fn::ImportValue']);
  }
  if ('Ref' in node) {
    return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

function isConstruct(x: unknown): x is IConstruct {
  return typeof x === 'object' && x !== null && 'node' in x;
}
