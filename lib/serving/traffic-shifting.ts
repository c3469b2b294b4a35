import { Duration, Token } from 'aws-cdk-lib';

/**
 * A share of a real-time variant's instances that a blue/green update turns on at a time, as a
 * percentage of the fleet or as a number of instances (SageMaker's `CapacitySize`).
 */
export class CapacitySize {
  /** `percentage` percent of the variant's instances (SageMaker `CAPACITY_PERCENT`). */
  public static percent(percentage: number): CapacitySize {
    return new CapacitySize('CAPACITY_PERCENT', percentage);
  }

  /** `count` instances of the variant (SageMaker `INSTANCE_COUNT`). */
  public static instances(count: number): CapacitySize {
    return new CapacitySize('INSTANCE_COUNT', count);
  }

  private constructor(
    /** @internal */ public readonly _type: 'CAPACITY_PERCENT' | 'INSTANCE_COUNT',
    /** @internal */ public readonly _value: number,
  ) {}

  /** The size as the factory that made it reads, e.g. `CapacitySize.percent(10)`, for messages. */
  public toString(): string {
    const value = Token.isUnresolved(this._value) ? '(token)' : String(this._value);
    return `CapacitySize.${this._type === 'CAPACITY_PERCENT' ? 'percent' : 'instances'}(${value})`;
  }
}

/** Options of a canary update. */
export interface CanaryTrafficShiftingOptions {
  /**
   * The canary: the part of the new fleet that takes traffic first. SageMaker allows at most half
   * of the variant's instances.
   */
  readonly size: CapacitySize;
  /**
   * How long the canary serves, watched by the rollback alarms, before the rest of the traffic
   * shifts (SageMaker's `WaitIntervalInSeconds`): whole seconds, at most one hour.
   */
  readonly wait: Duration;
}

/** Options of a linear update. */
export interface LinearTrafficShiftingOptions {
  /**
   * The part of the new fleet that each step turns on. SageMaker allows 10% to 50% of the variant's
   * instances.
   */
  readonly step: CapacitySize;
  /**
   * How long each step serves, watched by the rollback alarms, before the next one
   * (SageMaker's `WaitIntervalInSeconds`): whole seconds, at most one hour.
   */
  readonly interval: Duration;
}

/**
 * How a blue/green update of a real-time serving slot moves traffic from the old fleet to the new
 * one (SageMaker's `TrafficRoutingConfig`). At every step the slot's rollback alarms are watched;
 * when one fires, all traffic returns to the old fleet.
 */
export class TrafficShifting {
  /** All traffic moves to the new fleet at once, then the bake time runs. */
  public static allAtOnce(): TrafficShifting {
    return new TrafficShifting('ALL_AT_ONCE', undefined, Duration.seconds(0));
  }

  /** A canary takes part of the traffic for `wait`, then the rest moves and the bake time runs. */
  public static canary(options: CanaryTrafficShiftingOptions): TrafficShifting {
    return new TrafficShifting('CANARY', options.size, options.wait);
  }

  /**
   * Traffic moves in equal steps, each serving for `interval` before the next, then the bake time
   * runs.
   */
  public static linear(options: LinearTrafficShiftingOptions): TrafficShifting {
    return new TrafficShifting('LINEAR', options.step, options.interval);
  }

  private constructor(
    /** @internal */ public readonly _type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR',
    /** @internal */ public readonly _size: CapacitySize | undefined,
    /** @internal */ public readonly _wait: Duration,
  ) {}

  /** The shifting as the factory that made it reads, for messages. */
  public toString(): string {
    switch (this._type) {
      case 'ALL_AT_ONCE':
        return 'TrafficShifting.allAtOnce()';
      case 'CANARY':
        return `TrafficShifting.canary({ size: ${this._size}, wait: ${this._wait.toHumanString()} })`;
      case 'LINEAR':
        return `TrafficShifting.linear({ step: ${this._size}, interval: ${this._wait.toHumanString()} })`;
    }
  }
}
