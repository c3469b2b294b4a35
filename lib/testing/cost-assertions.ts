import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AlwaysOnResource, findAlwaysOnResources } from '../maturity/always-on';
import { NO_MODEL_RELEASED } from '../serving/naming';
import { ReleasePointer } from '../serving/release-pointer';
import { MlopsAssertionError } from './errors';
import { createdResources } from './conditions';

/** The values a deployment is evaluated with when deciding which conditional resources it creates. */
export interface IdleDeploymentOptions {
  /**
   * Values of the SSM parameters that SSM-typed stack parameters read, by SSM parameter name.
   *
   * @default - every ReleasePointer of the app holds `none`, the value CloudFormation creates it with
   */
  readonly ssmParameterValues?: Record<string, string>;

  /**
   * Values of stack parameters, by parameter name.
   *
   * @default - each parameter's default
   */
  readonly parameterValues?: Record<string, string>;
}

/**
 * The resources of `stack` that bill while nobody uses them (per hour or per instance), found by the
 * same classifier as the maturity report. Conditional ones (e.g. an endpoint that exists once a model
 * is released) are included, with `conditional: true`.
 */
export function alwaysOnResources(stack: Stack): AlwaysOnResource[] {
  return findAlwaysOnResources(stack).filter((r) => pathInStack(stack, r.path));
}

/**
 * Cost assertions on one stack: which resources bill while idle, and whether a fresh deployment
 * (conditions evaluated with the parameters' default values) bills nothing.
 *
 * @example
 * CostAssertions.of(stack).billsNothingWhileIdle();
 */
export class CostAssertions {
  public static of(stack: Stack): CostAssertions {
    return new CostAssertions(stack);
  }

  private constructor(private readonly stack: Stack) {}

  /** Every always-on resource of the stack, conditional ones included. */
  public alwaysOnResources(): AlwaysOnResource[] {
    return alwaysOnResources(this.stack);
  }

  /**
   * The always-on resources that a deployment with these values creates: unconditional ones, and
   * conditional ones whose condition holds.
   */
  public idleBillableResources(options: IdleDeploymentOptions = {}): AlwaysOnResource[] {
    const alwaysOn = this.alwaysOnResources();
    if (!alwaysOn.some((r) => r.conditional)) {
      return alwaysOn;
    }
    const template = Template.fromStack(this.stack).toJSON();
    let created: Record<string, string>;
    try {
      created = createdResources(template, {
        parameters: options.parameterValues,
        ssm: { ...this.releasePointerValues(), ...options.ssmParameterValues },
      });
    } catch (error) {
      throw new MlopsAssertionError(
        `Cannot tell which resources of stack ${this.stack.node.path} a deployment creates: ` +
          `${error instanceof Error ? error.message : String(error)} (options ssmParameterValues / parameterValues)`,
      );
    }
    return alwaysOn.filter((r) => !r.conditional || this.logicalIdOf(r.path) in created);
  }

  /** Throws, listing each resource and why it bills, when a deployment would bill while idle. */
  public billsNothingWhileIdle(options: IdleDeploymentOptions = {}): void {
    const billing = this.idleBillableResources(options);
    if (billing.length > 0) {
      throw new MlopsAssertionError(
        `Stack ${this.stack.node.path} bills while idle: ` +
          billing
            .map((r) => `${r.path} (${r.type}${r.model ? `, model ${r.model}` : ''}: ${r.reason})`)
            .join('; '),
      );
    }
  }

  private releasePointerValues(): Record<string, string> {
    const values: Record<string, string> = {};
    for (const c of this.stack.node.root.node.findAll()) {
      if (c instanceof ReleasePointer) {
        values[c.parameterName] = NO_MODEL_RELEASED;
      }
    }
    return values;
  }

  private logicalIdOf(path: string): string {
    const resource = this.stack.node.findAll().find((c) => c.node.path === path) as CfnResource;
    return this.stack.resolve(this.stack.getLogicalId(resource)) as string;
  }
}

function pathInStack(stack: Stack, path: string): boolean {
  const resource = stack.node.findAll().find((c) => c.node.path === path);
  return resource !== undefined && Stack.of(resource) === stack;
}
