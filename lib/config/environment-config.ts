// The platform app's config moved to bin/config (docs/adr/0005-app-config-outside-the-library.md).
// This module only keeps the release engine, which still lives under lib/serving, compiling until
// it moves out of the library too; the library's entry point does not load it. Delete it then.
export * from '../../bin/config';
