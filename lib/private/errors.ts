import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { describeValue } from './describe-value';

export { describeValue };

/**
 * The error every construct and config parser of this library throws for input it cannot accept.
 *
 * The message names what was wrong, the value that was given and how to fix it, so that a failed
 * synth points straight at the line to change.
 */
export class MlopsValidationError extends Error {
  /** Each problem found, one per entry, in the order they were found. */
  public readonly problems: string[];

  constructor(subject: string, problems: string[]) {
    const body = problems.length === 1 ? ` ${problems[0]}` : problems.map((p) => `\n  - ${p}`).join('');
    super(`${subject}:${body}`);
    this.name = 'MlopsValidationError';
    this.problems = problems;
  }
}

/**
 * Collects problems while validating input, then throws them as one MlopsValidationError.
 *
 * Constructors check every prop before failing, so a user fixes all mistakes in one round.
 */
export class ProblemCollector {
  private readonly problems: string[] = [];

  constructor(private readonly subject: string) {}

  /** Records a problem: `prop` is the prop or key, `value` what was given, `fix` what to do. */
  public add(prop: string, value: unknown, fix: string): void {
    this.problems.push(`${prop} ${describeValue(value)} is invalid: ${fix}`);
  }

  /**
   * Records a problem when `value` is given, is not a token, and does not match `pattern`: the
   * common check of optional names that SageMaker or IAM constrain.
   */
  public checkPattern(prop: string, value: string | undefined, pattern: RegExp, fix: string): void {
    if (value !== undefined && !Token.isUnresolved(value) && !pattern.test(value)) {
      this.add(prop, value, fix);
    }
  }

  /**
   * The removal policy to apply, `value` or RETAIN, recording a problem for any other than RETAIN
   * or DESTROY (snapshots and retain-on-update-or-delete do not apply to the platform's resources).
   */
  public checkRetainOrDestroy(
    value: RemovalPolicy | undefined,
    fix: string = 'use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY',
  ): RemovalPolicy {
    const policy = value ?? RemovalPolicy.RETAIN;
    if (policy !== RemovalPolicy.RETAIN && policy !== RemovalPolicy.DESTROY) {
      this.add('removalPolicy', policy, fix);
    }
    return policy;
  }

  /**
   * A latency in microseconds, the unit SageMaker reports its latency metrics in, for an alarm
   * threshold; records a problem and returns undefined for a token, which CloudFormation cannot convert.
   */
  public latencyMicroseconds(prop: string, value: Duration): number | undefined {
    if (value.isUnresolved()) {
      this.add(
        prop,
        value.toHumanString(),
        'the alarm threshold is in microseconds, a conversion CloudFormation cannot do: give a literal Duration',
      );
      return undefined;
    }
    return value.toMilliseconds() * 1000;
  }

  /** How many problems have been recorded so far. */
  public get count(): number {
    return this.problems.length;
  }

  /** Records a problem that is not about one value. */
  public addMessage(message: string): void {
    this.problems.push(message);
  }

  /** Throws an MlopsValidationError when any problem was recorded. */
  public throwIfAny(): void {
    if (this.problems.length > 0) {
      throw new MlopsValidationError(this.subject, this.problems);
    }
  }
}
