// Free of imports: the Lambda runtime engines (lambda/shared/) quote values the same way as the
// constructs, without bundling aws-cdk-lib.

/** Renders a value for an error message: strings quoted, everything else as JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  if (value === undefined) {
    return '(undefined)';
  }
  try {
    return `'${JSON.stringify(value)}'`;
  } catch {
    return `'${String(value)}'`;
  }
}
