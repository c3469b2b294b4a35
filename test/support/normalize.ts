/**
 * Makes a template stable across builds for snapshot comparison: asset hashes change with every
 * dependency bump and say nothing about the infrastructure, so they become a placeholder.
 */
export function normalizeTemplate(template: unknown): unknown {
  return JSON.parse(
    JSON.stringify(template)
      .replace(/[0-9a-f]{64}/g, '<asset-hash>')
      // CDK Pipelines' asset publishing names each destination with a short hash of the asset.
      .replace(/(current_account-current_region)-[0-9a-f]{8}/g, '$1-<destination-hash>'),
  );
}
