// The checks and the CloudFormation shape of a real-time slot's blue/green update: traffic
// shifting, bake time, execution timeout and rollback alarms. SageMaker's limits below are those of
// its API reference (TrafficRoutingConfig, CapacitySize, BlueGreenUpdatePolicy, AutoRollbackConfig).
import { Duration, Token } from 'aws-cdk-lib';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { ProblemCollector } from './errors';
import { CLOUDWATCH_ALARM_NAME } from './patterns';
import { CapacitySize, TrafficShifting } from '../serving/traffic-shifting';

/** WaitIntervalInSeconds and TerminationWaitInSeconds: 0 to 3600. */
export const MAX_WAIT_SECONDS = 3600;
/** A canary is at most half of the variant's instances (TrafficRoutingConfig.CanarySize). */
export const MAX_CANARY_PERCENT = 50;
/** A linear step is 10% to 50% of the variant's instances (TrafficRoutingConfig.LinearStepSize). */
export const LINEAR_STEP_PERCENT = { min: 10, max: 50 } as const;
/** MaximumExecutionTimeoutInSeconds: 600 to 28800. */
const MAX_EXECUTION_TIMEOUT_SECONDS = 28800;
/** AutoRollbackConfig.Alarms: 1 to 10. */
export const MAX_ROLLBACK_ALARMS = 10;
/**
 * The timeout covers provisioning the new fleet as well as the waits; SageMaker asks for more than
 * the waits, and instances take minutes to start, so the timeout leaves half an hour for them.
 */
const PROVISIONING_ALLOWANCE_SECONDS = 1800;
/** The timeout of an update with short waits, the slot's timeout before traffic shifting existed. */
const MIN_EXECUTION_TIMEOUT_SECONDS = 3600;

/**
 * A wait in whole seconds, as CloudFormation takes `cfnName`; a token must be a Duration in seconds,
 * which passes through as it is. Records a problem and returns undefined otherwise.
 */
export function waitSeconds(
  problems: ProblemCollector,
  prop: string,
  duration: Duration,
  noun: string,
  cfnName: string,
): number | undefined {
  if (duration.isUnresolved()) {
    try {
      return duration.toSeconds();
    } catch {
      problems.add(
        prop,
        duration.toHumanString(),
        `a token ${noun} must be given in seconds, as CloudFormation's ${cfnName} takes it: use Duration.seconds(token)`,
      );
      return undefined;
    }
  }
  const seconds = duration.toSeconds({ integral: false });
  if (seconds > MAX_WAIT_SECONDS) {
    problems.add(prop, duration.toHumanString(), 'use at most one hour');
    return undefined;
  }
  if (!Number.isInteger(seconds)) {
    problems.add(prop, duration.toHumanString(), `use whole seconds: SageMaker's ${cfnName} is an integer`);
    return undefined;
  }
  return seconds;
}

/** What the blue/green update of a real-time slot is made of. */
export interface BlueGreenUpdateInput {
  readonly trafficShifting: TrafficShifting;
  /** TerminationWaitInSeconds, or undefined when the bake time was refused. */
  readonly bakeTimeSeconds: number | undefined;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** The names of the slot's own rollback alarms, which count against SageMaker's limit. */
  readonly slotAlarmNames: string[];
  /** More alarms, by name, that also roll an update back. */
  readonly extraAlarmNames: string[] | undefined;
}

/** The parts of DeploymentConfig that depend on the traffic shifting. */
export interface BlueGreenUpdate {
  readonly trafficRoutingConfiguration: sagemaker.CfnEndpoint.TrafficRoutingConfigProperty;
  readonly maximumExecutionTimeoutInSeconds: number;
}

/**
 * Checks the update against SageMaker's limits, recording each problem under `mode.<prop>`, and
 * returns its traffic routing and execution timeout.
 */
export function blueGreenUpdate(problems: ProblemCollector, input: BlueGreenUpdateInput): BlueGreenUpdate {
  const shifting = input.trafficShifting;
  const wait =
    shifting._type === 'ALL_AT_ONCE'
      ? 0
      : waitSeconds(
          problems,
          `mode.trafficShifting.${shifting._type === 'CANARY' ? 'wait' : 'interval'}`,
          shifting._wait,
          `${shifting._type === 'CANARY' ? 'canary wait' : 'linear interval'}`,
          'WaitIntervalInSeconds',
        );
  const sizeOk = shifting._size === undefined || checkSize(problems, shifting, input);
  checkAlarmNames(problems, input);

  const steps = sizeOk ? stepsWithWait(shifting, input.maxInstances) : undefined;
  const waits =
    steps === undefined || wait === undefined || input.bakeTimeSeconds === undefined
      ? undefined
      : [steps, wait, input.bakeTimeSeconds].some((n) => Token.isUnresolved(n))
        ? undefined
        : steps * wait + input.bakeTimeSeconds;
  if (waits !== undefined && waits + PROVISIONING_ALLOWANCE_SECONDS > MAX_EXECUTION_TIMEOUT_SECONDS) {
    problems.add(
      'mode.trafficShifting',
      shifting.toString(),
      `its waits and the bake time add up to ${Duration.seconds(waits).toHumanString()}, and SageMaker ends an ` +
        `update after at most ${Duration.seconds(MAX_EXECUTION_TIMEOUT_SECONDS).toHumanString()}, which must also ` +
        `leave ${Duration.seconds(PROVISIONING_ALLOWANCE_SECONDS).toHumanString()} to provision the new fleet: ` +
        'shorten the interval or the bake time, or take larger steps',
    );
  }

  const size = shifting._size && { type: shifting._size._type, value: shifting._size._value };
  return {
    trafficRoutingConfiguration: {
      type: shifting._type,
      waitIntervalInSeconds: wait ?? 0,
      ...(shifting._type === 'CANARY' ? { canarySize: size } : {}),
      ...(shifting._type === 'LINEAR' ? { linearStepSize: size } : {}),
    },
    maximumExecutionTimeoutInSeconds:
      // A token wait cannot be added up at synth: allow SageMaker's longest update.
      waits === undefined
        ? MAX_EXECUTION_TIMEOUT_SECONDS
        : Math.max(MIN_EXECUTION_TIMEOUT_SECONDS, waits + PROVISIONING_ALLOWANCE_SECONDS),
  };
}

/**
 * How many times an update waits `WaitIntervalInSeconds`: once for a canary, once per step of a
 * linear update (on the largest fleet autoscaling may reach), never all at once. Undefined for a token.
 */
function stepsWithWait(shifting: TrafficShifting, maxInstances: number): number | undefined {
  const size = shifting._size;
  if (shifting._type === 'ALL_AT_ONCE' || size === undefined) {
    return 0;
  }
  if (shifting._type === 'CANARY') {
    return 1;
  }
  if (Token.isUnresolved(size._value) || Token.isUnresolved(maxInstances)) {
    return undefined;
  }
  return Math.ceil(size._type === 'CAPACITY_PERCENT' ? 100 / size._value : maxInstances / size._value);
}

/** SageMaker's bounds of a canary (at most half the fleet) or of a linear step (10% to 50%). */
function checkSize(
  problems: ProblemCollector,
  shifting: TrafficShifting,
  input: BlueGreenUpdateInput,
): boolean {
  const size = shifting._size as CapacitySize;
  const canary = shifting._type === 'CANARY';
  const prop = `mode.trafficShifting.${canary ? 'size' : 'step'}`;
  const value = size._value;
  if (Token.isUnresolved(value)) {
    return true;
  }
  const before = problems.count;
  if (!Number.isInteger(value) || value < 1) {
    problems.add(prop, size.toString(), 'use a whole number of at least 1');
  } else if (size._type === 'CAPACITY_PERCENT') {
    if (canary && value > MAX_CANARY_PERCENT) {
      problems.add(
        prop,
        size.toString(),
        `SageMaker allows a canary of at most ${MAX_CANARY_PERCENT}% of the new fleet: use CapacitySize.percent(n) ` +
          `with n from 1 to ${MAX_CANARY_PERCENT}`,
      );
    } else if (!canary && (value < LINEAR_STEP_PERCENT.min || value > LINEAR_STEP_PERCENT.max)) {
      const { min, max } = LINEAR_STEP_PERCENT;
      problems.add(
        prop,
        size.toString(),
        `SageMaker's linear steps are ${min}% to ${max}% of the new fleet: use CapacitySize.percent(n) with n from ` +
          `${min} to ${max}`,
      );
    }
  } else if (!Token.isUnresolved(input.minInstances) && !Token.isUnresolved(input.maxInstances)) {
    const { minInstances: min, maxInstances: max } = input;
    if (value * 2 > min) {
      const all = value >= min ? ' (it would shift all traffic at once)' : '';
      problems.add(
        prop,
        size.toString(),
        `${instances(value)} is more than half of the ${instances(min)} the variant runs at minInstances${all}, and ` +
          `SageMaker allows ${canary ? 'a canary' : 'a linear step'} of at most 50%: use a percentage, or raise ` +
          `minInstances to at least ${value * 2}`,
      );
    } else if (!canary && value * 10 < max) {
      problems.add(
        prop,
        size.toString(),
        `${instances(value)} is less than 10% of the ${instances(max)} autoscaling may reach (maxInstances), and ` +
          "SageMaker's linear steps are 10% to 50% of the fleet: use a percentage, a larger step, or lower maxInstances",
      );
    }
  }
  return problems.count === before;
}

function instances(n: number): string {
  return `${n} instance${n === 1 ? '' : 's'}`;
}

/** SageMaker's limit on the number of rollback alarms, and CloudWatch's form of their names. */
function checkAlarmNames(problems: ProblemCollector, input: BlueGreenUpdateInput): void {
  const names = input.extraAlarmNames;
  if (names === undefined) {
    return;
  }
  if (Token.isUnresolved(names) || !Array.isArray(names)) {
    problems.add(
      'mode.rollbackAlarmNames',
      names,
      'give an array of alarm names (each one may be a token, such as alarm.alarmName), so they can be counted',
    );
    return;
  }
  const room = MAX_ROLLBACK_ALARMS - input.slotAlarmNames.length;
  if (names.length > room) {
    problems.add(
      'mode.rollbackAlarmNames',
      names,
      `SageMaker watches at most ${MAX_ROLLBACK_ALARMS} alarms in an update and the slot's own ` +
        `${input.slotAlarmNames.length} are among them: give at most ${room}`,
    );
  }
  const seen = new Set(input.slotAlarmNames.filter((n) => !Token.isUnresolved(n)));
  names.forEach((name, index) => {
    const prop = `mode.rollbackAlarmNames[${index}]`;
    if (Token.isUnresolved(name)) {
      return;
    }
    if (typeof name !== 'string' || !CLOUDWATCH_ALARM_NAME.test(name)) {
      problems.add(
        prop,
        name,
        'use the name of a CloudWatch alarm in this account and region: 1 to 255 characters, not only spaces, ' +
          'without control characters',
      );
    } else if (seen.has(name)) {
      problems.add(
        prop,
        name,
        "it is already watched (one of the slot's own alarms or an earlier name): give each alarm once",
      );
    }
    seen.add(name);
  });
}
