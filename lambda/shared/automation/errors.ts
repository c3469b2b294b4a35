/** Why an evaluation report cannot be used. */
export type EvaluationReportErrorCode =
  /** The package names no report, or the object it names does not exist. */
  | 'report-missing'
  /** The object exists but is not a report: not JSON, too large, or a metric is absent or not a number. */
  | 'report-malformed';

/**
 * An evaluation report that cannot be used: the approval gate rejects the package with the
 * message as its reason. Failures that a retry may cure (throttling, access denied) are not
 * EvaluationReportErrors: they are thrown as they are.
 */
export class EvaluationReportError extends Error {
  constructor(
    public readonly code: EvaluationReportErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EvaluationReportError';
  }
}

/** Collects the problems of a handler's environment and throws one error that names them all. */
export class EnvironmentProblems {
  private readonly problems: string[] = [];

  constructor(private readonly what: string) {}

  add(problem: string): void {
    this.problems.push(problem);
  }

  throwIfAny(): void {
    if (this.problems.length > 0) {
      throw new Error(`The ${this.what} is misconfigured: ${this.problems.join('; ')}`);
    }
  }
}
