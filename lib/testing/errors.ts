/**
 * What the testing kit's assertions throw. A plain Error subclass, so that any test framework (jest,
 * vitest, node:test, mocha) reports the message as the failure.
 */
export class MlopsAssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlopsAssertionError';
  }
}
