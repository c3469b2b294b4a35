import { IConstruct } from 'constructs';
import { Capability } from './capability';
import { AlwaysOnResource, findAlwaysOnResources } from './always-on';
import { isMaturityLevel, MAX_MATURITY_LEVEL, MaturityLevel, maturityLevelName } from './maturity-level';
import { attributeToModel, ModelSummary, modelRegisteredOn, registerModel } from './model-summary';
import { ProblemCollector } from '../private/errors';

/** Capabilities registered per providing construct. */
const provided = new WeakMap<IConstruct, Set<Capability>>();
/** Contracts per scope they were declared on. */
const contracts = new WeakMap<IConstruct, MaturityContract>();

/** The achieved level of an environment that lacks a level-0 capability. */
export const BELOW_LEVEL_ZERO = -1;

/** Props of `MaturityContract.declare`. */
export interface MaturityContractProps {
  /** Name of the environment (or platform) the contract is for, as shown in reports and errors. */
  readonly environmentName: string;
  /** The maturity level the environment must reach; synth fails when it does not. */
  readonly declaredLevel: MaturityLevel;
}

/** A capability that another environment provides for this one, such as a shared notebook workspace. */
export interface SharedCapability {
  readonly capability: Capability;
  /** The environment that provides it. */
  readonly fromEnvironment: string;
}

/** The maturity of one environment, as written in the maturity report. */
export interface EnvironmentMaturity {
  readonly name: string;
  readonly declaredLevel: MaturityLevel;
  readonly achievedLevel: number;
  /** Names of every capability present, provided here or shared from another environment. */
  readonly capabilities: string[];
  /** Capabilities provided by another environment: capability name -> environment name. */
  readonly sharedCapabilities: Record<string, string>;
  /** Names of the capabilities still missing for `achievedLevel + 1`; empty at the top level. */
  readonly missingForNextLevel: string[];
  /** Resources that bill while the environment is idle, whatever happens. */
  readonly alwaysOnResources: AlwaysOnResource[];
  /**
   * Resources that bill while idle only while their CloudFormation condition holds, e.g. a
   * real-time serving endpoint once a model has been released.
   */
  readonly conditionalAlwaysOnResources: AlwaysOnResource[];
  /** The models the environment runs (level 2 and up), in tree order. */
  readonly models: ModelSummary[];
  /** Observations that are not failures, e.g. an environment that runs a single model. */
  readonly notes: string[];
}

/**
 * The maturity contract of one environment: the level it declares and the capabilities that the
 * constructs below its scope provide.
 *
 * Declare it on the scope that holds an environment (a Stage or Stack); tier constructs inside
 * register what they provide with `MaturityContract.provide`. At synth, the contract fails
 * validation with the list of missing capabilities when the declared level is not reached.
 *
 * @example
 * const contract = MaturityContract.declare(stage, { environmentName: 'dev', declaredLevel: MaturityLevel.NO_MLOPS });
 * new Level0Tier(stack, 'Level0');
 */
export class MaturityContract {
  /**
   * Declares the contract of the environment held by `scope`.
   *
   * @throws when `scope` already has a contract or the props are invalid
   */
  public static declare(scope: IConstruct, props: MaturityContractProps): MaturityContract {
    const problems = new ProblemCollector(`MaturityContract at '${scope.node.path || '(app)'}'`);
    if (!isMaturityLevel(props.declaredLevel)) {
      problems.add('declaredLevel', props.declaredLevel, 'use an integer from 0 to 4 (MaturityLevel)');
    }
    if (!props.environmentName || !/^[A-Za-z][A-Za-z0-9-]*$/.test(props.environmentName)) {
      problems.add(
        'environmentName',
        props.environmentName,
        'use letters, digits and hyphens, starting with a letter',
      );
    }
    if (contracts.has(scope)) {
      problems.addMessage(
        'a maturity contract is already declared on this scope; declare one per environment',
      );
    }
    problems.throwIfAny();
    const contract = new MaturityContract(scope, props);
    contracts.set(scope, contract);
    return contract;
  }

  /** The contract declared on `scope` or its nearest ancestor, if any. */
  public static of(scope: IConstruct): MaturityContract | undefined {
    for (const s of [...scope.node.scopes].reverse()) {
      const contract = contracts.get(s);
      if (contract) {
        return contract;
      }
    }
    return undefined;
  }

  /** Every contract declared in the tree under `root` (including on `root`), in tree order. */
  public static findAll(root: IConstruct): MaturityContract[] {
    return root.node
      .findAll()
      .map((c) => contracts.get(c))
      .filter((c): c is MaturityContract => c !== undefined);
  }

  /**
   * Registers that `provider` provides `capabilities`. Tier constructs call this for themselves;
   * the contract of the enclosing environment counts them.
   */
  public static provide(provider: IConstruct, ...capabilities: Capability[]): void {
    let set = provided.get(provider);
    if (!set) {
      set = new Set();
      provided.set(provider, set);
    }
    for (const c of capabilities) {
      set.add(c);
    }
  }

  /**
   * Registers that `scope` holds one model (its pipeline, registry group and serving slot), for
   * the maturity report; resources below `scope` are reported as the model's.
   */
  public static registerModel(scope: IConstruct, summary: ModelSummary): void {
    registerModel(scope, summary);
  }
  /**
   * Records that the constructs below `scope`, outside the model's own scope, belong to the model
   * named `modelName` (e.g. its serving slot in a serving stack), for the report's always-on list.
   */
  public static attributeToModel(scope: IConstruct, modelName: string): void {
    attributeToModel(scope, modelName);
  }

  /** The capabilities `construct` itself registered (not its children). */
  public static providedBy(construct: IConstruct): Capability[] {
    return [...(provided.get(construct) ?? [])];
  }

  public readonly environmentName: string;
  public readonly declaredLevel: MaturityLevel;
  private readonly shared = new Map<Capability, string>();

  private constructor(
    /** The scope the contract covers. */
    public readonly scope: IConstruct,
    props: MaturityContractProps,
  ) {
    this.environmentName = props.environmentName;
    this.declaredLevel = props.declaredLevel;
    scope.node.addValidation({ validate: () => this.validate() });
  }

  /**
   * Records that another environment provides `capability` for this one, e.g. a single notebook
   * workspace in dev serving the whole platform.
   */
  public shareCapability(capability: Capability, fromEnvironment: string): void {
    this.shared.set(capability, fromEnvironment);
  }

  /** Capabilities provided below the contract's scope, plus those shared from other environments. */
  public get capabilities(): Capability[] {
    const present = new Set<Capability>(this.shared.keys());
    for (const construct of this.scope.node.findAll()) {
      for (const c of provided.get(construct) ?? []) {
        present.add(c);
      }
    }
    return Capability.all().filter((c) => present.has(c));
  }

  /** Capabilities shared from other environments. */
  public get sharedCapabilities(): SharedCapability[] {
    return [...this.shared].map(([capability, fromEnvironment]) => ({ capability, fromEnvironment }));
  }

  /** The highest level whose capabilities, and those of every level below, are all present. */
  public get achievedLevel(): number {
    const present = new Set(this.capabilities);
    let achieved = BELOW_LEVEL_ZERO;
    for (let level = 0; level <= MAX_MATURITY_LEVEL; level++) {
      if (Capability.requiredAt(level).some((c) => !present.has(c))) {
        break;
      }
      achieved = level;
    }
    return achieved;
  }

  /** The capabilities missing to reach `level`. */
  public missingFor(level: MaturityLevel): Capability[] {
    const present = new Set(this.capabilities);
    return Capability.requiredUpTo(level).filter((c) => !present.has(c));
  }

  /** The capabilities missing for the level above the achieved one; empty at the top level. */
  public get missingForNextLevel(): Capability[] {
    const next = this.achievedLevel + 1;
    return next > MAX_MATURITY_LEVEL ? [] : this.missingFor(next as MaturityLevel);
  }

  /**
   * Resources under the contract's scope that bill while idle, conditional ones included (see
   * `AlwaysOnResource.conditional`).
   */
  public get alwaysOnResources(): AlwaysOnResource[] {
    return findAlwaysOnResources(this.scope);
  }

  /** The models registered below the contract's scope, in tree order. */
  public get models(): ModelSummary[] {
    return this.scope.node
      .findAll()
      .map((c) => modelRegisteredOn(c))
      .filter((m): m is ModelSummary => m !== undefined);
  }

  /** Observations for the report that are not failures. */
  public get notes(): string[] {
    const models = this.models;
    if (models.length === 1) {
      return [
        `runs one model (${models[0].name}); the platform runs any number side by side ` +
          `(${Capability.MULTIPLE_MODELS.name}): add a model to train and serve another case`,
      ];
    }
    return [];
  }

  /** This environment's entry in the maturity report. */
  public toReport(): EnvironmentMaturity {
    const alwaysOn = this.alwaysOnResources;
    return {
      name: this.environmentName,
      declaredLevel: this.declaredLevel,
      achievedLevel: this.achievedLevel,
      capabilities: this.capabilities.map((c) => c.name),
      sharedCapabilities: Object.fromEntries(
        this.sharedCapabilities.map((s) => [s.capability.name, s.fromEnvironment]),
      ),
      missingForNextLevel: this.missingForNextLevel.map((c) => c.name),
      alwaysOnResources: alwaysOn.filter((r) => !r.conditional),
      conditionalAlwaysOnResources: alwaysOn.filter((r) => r.conditional),
      models: this.models,
      notes: this.notes,
    };
  }

  private validate(): string[] {
    const missing = this.missingFor(this.declaredLevel);
    if (missing.length === 0) {
      return [];
    }
    const achieved = this.achievedLevel;
    const achievedText =
      achieved === BELOW_LEVEL_ZERO
        ? 'does not reach level 0'
        : `reaches level ${achieved} (${maturityLevelName(achieved as MaturityLevel)})`;
    const list = missing.map((c) => `${c.name} (level ${c.level}: ${c.description})`).join(', ');
    return [
      `Environment '${this.environmentName}' declares maturity level ${this.declaredLevel} ` +
        `(${maturityLevelName(this.declaredLevel)}) but ${achievedText}. Missing capabilities: ${list}. ` +
        `Fix: add the tiers that provide them, or lower the declared level to ${Math.max(achieved, 0)}.`,
    ];
  }
}
