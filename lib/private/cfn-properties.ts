import { CfnResource, Stack } from 'aws-cdk-lib';

/**
 * The resolved properties of an L1 resource, as given to it: camelCase keys for aws-cdk-lib's
 * generated classes (CfnFunction, CfnEndpoint, ...), the template's PascalCase keys for a plain
 * CfnResource. Reads aws-cdk-lib's internal `_cfnProperties`, the only place that holds them for
 * every kind of L1; the discovery and classification code that needs them goes through here, so
 * a change of that internal is mended in one place (the monitoring and report tests would fail).
 */
export function resolvedPropertiesOf(resource: CfnResource): Record<string, unknown> {
  const properties = Stack.of(resource).resolve(
    (resource as unknown as { _cfnProperties: unknown })._cfnProperties,
  );
  return (properties ?? {}) as Record<string, unknown>;
}

/** A property by its L1 (camelCase) or template (PascalCase) name. */
export function propertyOf(properties: Record<string, unknown>, camelCaseName: string): unknown {
  return properties[camelCaseName] ?? properties[camelCaseName[0].toUpperCase() + camelCaseName.slice(1)];
}

/**
 * The resolved production variants of an endpoint's config, when the config is a resource of the
 * endpoint's own stack; undefined otherwise.
 */
export function productionVariantsOf(endpoint: CfnResource): Array<Record<string, unknown>> | undefined {
  const stack = Stack.of(endpoint);
  const reference = JSON.stringify(propertyOf(resolvedPropertiesOf(endpoint), 'endpointConfigName') ?? '');
  const config = stack.node
    .findAll()
    .find(
      (c): c is CfnResource =>
        CfnResource.isCfnResource(c) &&
        c.cfnResourceType === 'AWS::SageMaker::EndpointConfig' &&
        Stack.of(c) === stack &&
        reference.includes(`"${stack.resolve(stack.getLogicalId(c))}"`),
    );
  if (!config) {
    return undefined;
  }
  const variants = propertyOf(resolvedPropertiesOf(config), 'productionVariants');
  return Array.isArray(variants) ? (variants as Array<Record<string, unknown>>) : undefined;
}
