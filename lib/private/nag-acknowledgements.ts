import { AspectPriority, Aspects, CfnResource, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** One cdk-nag finding that a construct accepts, in cdk-nag 3's id form, and why. */
export interface NagAcknowledgement {
  /** The rule id, with the finding in brackets for granular rules: `AwsSolutions-IAM5[Action::s3:GetObject*]`. */
  readonly id: string;
  readonly reason: string;
}

/**
 * Acknowledges cdk-nag findings on `scope` and every resource under it, for both ways users run
 * cdk-nag:
 *
 * - cdk-nag 3 (`Validations.of(app).addPlugins(...)`): `Validations.of(scope).acknowledge`.
 * - cdk-nag 2 (`Aspects.of(app).add(new AwsSolutionsChecks())`): the `cdk_nag` resource metadata
 *   that its `NagSuppressions` writes, `{ rules_to_suppress: [{ id, reason, applies_to? }] }`, on
 *   each CfnResource under `scope`. cdk-nag 2 takes granular findings as `applies_to`, not in the id.
 *
 * The cdk-nag 2 metadata is written by an aspect rather than here, because resources under `scope`
 * may be created after this call (a role's DefaultPolicy appears with its first statement). The
 * aspect runs with mutating priority, so on every resource it precedes cdk-nag 2's aspect (default
 * priority), whether the user adds that before or after constructing ours. No dependency on
 * cdk-nag is needed: both formats are plain metadata.
 */
export function acknowledgeNagFindings(scope: IConstruct, ...acknowledgements: NagAcknowledgement[]): void {
  if (acknowledgements.length === 0) {
    return;
  }
  Validations.of(scope).acknowledge(...acknowledgements);
  const pending = PENDING_SUPPRESSIONS.get(scope) ?? [];
  PENDING_SUPPRESSIONS.set(scope, [...pending, ...acknowledgements.map(toNagV2Suppression)]);
  const stack = Stack.of(scope);
  if (!STACKS_WITH_ASPECT.has(stack)) {
    STACKS_WITH_ASPECT.add(stack);
    Aspects.of(stack).add(new NagV2Suppressions(), { priority: AspectPriority.MUTATING });
  }
}

/** cdk-nag 2's stored form of a suppression (`NagSuppressionHelper.toCfnFormat`). */
interface NagV2Suppression {
  readonly id: string;
  readonly reason: string;
  readonly applies_to?: string[];
  readonly is_reason_encoded?: boolean;
}

const PENDING_SUPPRESSIONS = new WeakMap<IConstruct, NagV2Suppression[]>();
const STACKS_WITH_ASPECT = new WeakSet<Stack>();
const NAG_V2_METADATA_KEY = 'cdk_nag';

function toNagV2Suppression(acknowledgement: NagAcknowledgement): NagV2Suppression {
  // cdk-nag 2 rejects a finding in the id and wants it in applies_to instead.
  const granular = /^([^[\]]+)\[(.+)\]$/.exec(acknowledgement.id);
  const id = granular ? granular[1] : acknowledgement.id;
  const appliesTo = granular ? { applies_to: [granular[2]] } : {};
  // cdk-nag 2 stores reasons outside Latin-1 in base64, and decodes them when it reads them back.
  if ([...acknowledgement.reason].some((c) => c.codePointAt(0)! > 255)) {
    return {
      reason: Buffer.from(acknowledgement.reason).toString('base64'),
      id,
      ...appliesTo,
      is_reason_encoded: true,
    };
  }
  return { reason: acknowledgement.reason, id, ...appliesTo };
}

/** Copies the pending cdk-nag 2 suppressions of a resource and its enclosing scopes onto the resource. */
class NagV2Suppressions implements IAspect {
  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) {
      return;
    }
    const suppressions = node.node.scopes.flatMap((s) => PENDING_SUPPRESSIONS.get(s) ?? []);
    if (suppressions.length === 0) {
      return;
    }
    const existing = (node.getMetadata(NAG_V2_METADATA_KEY) as { rules_to_suppress?: NagV2Suppression[] })
      ?.rules_to_suppress;
    // Deduplicated like NagSuppressions does, so a second visit (aspect stabilization) changes nothing.
    const serialized = new Set([...(existing ?? []), ...suppressions].map((r) => JSON.stringify(r)));
    node.addMetadata(NAG_V2_METADATA_KEY, {
      rules_to_suppress: [...serialized].map((r) => JSON.parse(r) as NagV2Suppression),
    });
  }
}

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
  acknowledgeNagFindings(scope, ...[...ids].map((id) => ({ id, reason })));
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
