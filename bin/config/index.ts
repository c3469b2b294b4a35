// The platform app's config: what cdk.json (and `-c`) may say, and its parser. App configuration,
// not library API (docs/adr/0005-app-config-outside-the-library.md).
export * from './types';
export { parsePlatformConfig } from './parse';
