import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** What `normalizedTemplate` keeps or replaces. */
export interface NormalizeOptions {
  /**
   * Keep asset hashes (64 hexadecimal digits: asset object keys, bundled Lambda code, container
   * image tags) and CDK Pipelines' asset destination hashes. They change with every rebuild of an
   * asset, including a dependency bump or a touched comment, and say nothing about what deploys.
   *
   * @default false - each becomes `<asset-hash>` (and `<destination-hash>`)
   */
  readonly keepAssetHashes?: boolean;

  /**
   * Keep the `BootstrapVersion` parameter and the `CheckBootstrapVersion` rule that the default
   * stack synthesizer adds to every template.
   *
   * @default false - both are removed
   */
  readonly keepBootstrapVersion?: boolean;

  /**
   * Keep the `AWS::CDK::Metadata` resource (with its condition) and the `aws:asset:*` resource
   * metadata. The former encodes the CDK version and construct usage, the latter local asset paths.
   *
   * @default false - both are removed
   */
  readonly keepCdkMetadata?: boolean;

  /**
   * Keep the `aws:cdk:path` resource metadata (present when the app records construct paths, as
   * the CDK CLI does by default). It names the construct behind each logical id, which is what a
   * reader of a snapshot diff needs to tell a renamed construct (a replacement) from a changed one.
   *
   * @default true
   */
  readonly keepConstructPaths?: boolean;

  /**
   * Further replacements, applied to the template's JSON text after the built-in ones.
   *
   * @default - none
   */
  readonly replace?: ReadonlyArray<{ readonly pattern: RegExp; readonly placeholder: string }>;
}

type Json = Record<string, unknown>;

/**
 * The synthesized template of `stack` (or a template already read from a cloud assembly), with what
 * changes between builds of the same infrastructure replaced by stable placeholders, so that a
 * snapshot changes only when what would deploy changes. See NormalizeOptions for each replacement.
 */
export function normalizedTemplate(stackOrTemplate: Stack | Json, options: NormalizeOptions = {}): Json {
  const template = Stack.isStack(stackOrTemplate)
    ? (Template.fromStack(stackOrTemplate).toJSON() as Json)
    : (JSON.parse(JSON.stringify(stackOrTemplate)) as Json);

  if (!options.keepBootstrapVersion) {
    removeKey(template, 'Parameters', 'BootstrapVersion');
    removeKey(template, 'Rules', 'CheckBootstrapVersion');
  }
  const resources = (template.Resources ?? {}) as Record<string, Json>;
  if (!options.keepCdkMetadata) {
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type === 'AWS::CDK::Metadata') {
        delete resources[id];
      }
    }
    removeKey(template, 'Conditions', 'CDKMetadataAvailable');
  }
  for (const resource of Object.values(resources)) {
    const metadata = resource.Metadata as Json | undefined;
    if (!metadata) {
      continue;
    }
    for (const key of Object.keys(metadata)) {
      const asset = key.startsWith('aws:asset:');
      if (
        (asset && !options.keepCdkMetadata) ||
        (key === 'aws:cdk:path' && options.keepConstructPaths === false)
      ) {
        delete metadata[key];
      }
    }
    if (Object.keys(metadata).length === 0) {
      delete resource.Metadata;
    }
  }

  let text = JSON.stringify(template);
  if (!options.keepAssetHashes) {
    text = text
      .replace(/[0-9a-f]{64}/g, '<asset-hash>')
      // CDK Pipelines' asset publishing names each destination with a short hash of the asset.
      .replace(/(current_account-current_region)-[0-9a-f]{8}/g, '$1-<destination-hash>');
  }
  for (const { pattern, placeholder } of options.replace ?? []) {
    text = text.replace(pattern, placeholder);
  }
  return JSON.parse(text) as Json;
}

/** The part of jest's snapshot serializer plugin interface that a serializer implements. */
export interface SnapshotSerializer {
  /** Whether the serializer handles `value`. */
  test(value: unknown): boolean;
  /** Renders `value` through jest's own printer. */
  serialize(
    value: unknown,
    config: unknown,
    indentation: string,
    depth: number,
    refs: unknown,
    printer: (value: unknown, config: unknown, indentation: string, depth: number, refs: unknown) => string,
  ): string;
}

/**
 * A jest snapshot serializer that renders a Stack as its normalized template:
 * `expect.addSnapshotSerializer(createSnapshotSerializer())`, then `expect(stack).toMatchSnapshot()`.
 * It needs no test framework at run time: jest passes its printer in.
 */
export function createSnapshotSerializer(options: NormalizeOptions = {}): SnapshotSerializer {
  return {
    test: (value) => Stack.isStack(value),
    serialize: (value, config, indentation, depth, refs, printer) =>
      printer(normalizedTemplate(value as Stack, options), config, indentation, depth, refs),
  };
}

function removeKey(template: Json, section: string, key: string): void {
  const block = template[section] as Json | undefined;
  if (block && key in block) {
    delete block[key];
    if (Object.keys(block).length === 0) {
      delete template[section];
    }
  }
}
