import { IConstruct } from 'constructs';
import { Capability } from '../maturity/capability';
import { BELOW_LEVEL_ZERO, MaturityContract } from '../maturity/maturity-contract';
import { isMaturityLevel, MaturityLevel, maturityLevelName } from '../maturity/maturity-level';
import { MlopsAssertionError } from './errors';

/**
 * Assertions on the maturity of a composition, read from the same MaturityContract that synth
 * enforces: the contract declared on the scope (or its nearest ancestor), else the one contract
 * declared under it. Capabilities are registered as the tiers are constructed, so no synth is
 * needed.
 *
 * @example
 * MaturityAssertions.of(stack).hasLevel(MaturityLevel.AUTOMATED_TRAINING);
 */
export class MaturityAssertions {
  /** The assertions of the contract that covers `scope`; throws when there is none, or several. */
  public static of(scope: IConstruct): MaturityAssertions {
    const own = MaturityContract.of(scope);
    if (own) {
      return new MaturityAssertions(own);
    }
    const below = MaturityContract.findAll(scope);
    if (below.length === 1) {
      return new MaturityAssertions(below[0]);
    }
    const where = scope.node.path || '(app)';
    throw new MlopsAssertionError(
      below.length === 0
        ? `No maturity contract covers '${where}': declare one with MaturityContract.declare(scope, ` +
            `{ environmentName, declaredLevel }) on the stack or stage that holds the tiers`
        : `${below.length} maturity contracts are declared under '${where}' ` +
            `(${below.map((c) => c.environmentName).join(', ')}): call MaturityAssertions.of() on one environment's scope`,
    );
  }

  private constructor(private readonly contract: MaturityContract) {}

  /** The environment the contract belongs to. */
  public get environmentName(): string {
    return this.contract.environmentName;
  }

  /** The highest level whose capabilities, and those of every level below, are present; -1 below 0. */
  public get achievedLevel(): number {
    return this.contract.achievedLevel;
  }

  /** The names of the capabilities present, shared ones included, in level order. */
  public get capabilities(): string[] {
    return this.contract.capabilities.map((c) => c.name);
  }

  /** Throws unless the composition reaches `level`; the message lists every missing capability. */
  public hasLevel(level: MaturityLevel): void {
    checkLevel(level);
    const missing = this.contract.missingFor(level);
    if (missing.length > 0) {
      const achieved = this.contract.achievedLevel;
      throw new MlopsAssertionError(
        `Environment '${this.environmentName}' does not reach maturity level ${level} ` +
          `(${maturityLevelName(level)}): it ${
            achieved === BELOW_LEVEL_ZERO
              ? 'does not reach level 0'
              : `reaches level ${achieved} (${maturityLevelName(achieved as MaturityLevel)})`
          }. Missing: ${describe(missing)}`,
      );
    }
  }

  /** Throws unless the capability (by name, e.g. `model-registry`, or Capability) is present. */
  public hasCapability(capability: string | Capability): void {
    const wanted = typeof capability === 'string' ? Capability.fromName(capability) : capability;
    if (!wanted) {
      throw new MlopsAssertionError(
        `'${String(capability)}' is not a capability of the maturity model: use one of ${Capability.all()
          .map((c) => c.name)
          .join(', ')}`,
      );
    }
    if (!this.contract.capabilities.includes(wanted)) {
      const present = this.capabilities;
      throw new MlopsAssertionError(
        `Environment '${this.environmentName}' lacks capability ${describe([wanted])}. ` +
          `Present: ${present.length > 0 ? present.join(', ') : '(none)'}`,
      );
    }
  }

  /** The names of the capabilities missing to reach `level` (empty when it is reached). */
  public missingForLevel(level: MaturityLevel): string[] {
    checkLevel(level);
    return this.contract.missingFor(level).map((c) => c.name);
  }
}

function describe(capabilities: Capability[]): string {
  return capabilities.map((c) => `${c.name} (level ${c.level}: ${c.description})`).join(', ');
}

function checkLevel(level: unknown): void {
  if (!isMaturityLevel(level)) {
    throw new MlopsAssertionError(
      `level ${String(level)} is not a maturity level: use an integer from 0 to 4`,
    );
  }
}
