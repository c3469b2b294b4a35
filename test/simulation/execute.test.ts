import {
  execute,
  LoopHandlers,
  matchesEventPattern,
  statesWaitingForAPerson,
} from '../../bin/simulation/loop';
import { SimulatedStateMachine } from '../../bin/simulation/synthesized-app';
import { DeployedTemplate } from '../../bin/simulation/template';

/*
 * The simulation's own machinery, without moto: a local execution never answers a person, and the
 * event-pattern match the alarm rule goes through.
 */

const NO_HANDLERS = { functions: {} } as unknown as LoopHandlers;

function machine(definition: Record<string, unknown>): SimulatedStateMachine {
  return {
    logicalId: 'Workflow',
    name: 'arn:aws:states:us-east-1:123456789012:stateMachine:workflow',
    definition,
    stack: new DeployedTemplate('dev-Platform', { Resources: {} }),
  };
}

/** A release to prod behind a manual approval, whose failure the definition catches. */
const WITH_APPROVAL = {
  StartAt: 'ApproveProd',
  States: {
    ApproveProd: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish.waitForTaskToken',
      Parameters: {
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:topic',
        Subject: 'Approve the release to prod',
      },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }],
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

describe('execute', () => {
  test('throws, naming the state, when a workflow waits for a person, even if its Catch would succeed', async () => {
    // GIVEN a definition with a task that waits for a task token
    expect(statesWaitingForAPerson(WITH_APPROVAL)).toEqual(['ApproveProd']);
    // WHEN it runs THEN nobody answers: the execution fails loudly
    await expect(execute(machine(WITH_APPROVAL), NO_HANDLERS, 'http://127.0.0.1:1', {})).rejects.toThrow(
      /waited for a person: ApproveProd \(Approve the release to prod\)/,
    );
  });

  test('runs a definition without one, its waits taking no time', async () => {
    const definition = {
      StartAt: 'Soak',
      States: { Soak: { Type: 'Wait', Seconds: 86400, Next: 'Done' }, Done: { Type: 'Succeed' } },
    };
    expect(statesWaitingForAPerson(definition)).toEqual([]);
    const run = await execute(machine(definition), NO_HANDLERS, 'http://127.0.0.1:1', { released: true });
    expect(run).toMatchObject({ succeeded: true, output: { released: true } });
  });

  test('runs the state machine a .sync task starts, and reads the Context Object it is given', async () => {
    const child = jest.fn(async (input: Record<string, unknown>) => ({
      succeeded: input.fail !== true,
      error: input.fail === true ? 'Release failed' : '',
      output: { released: input.modelPackageArn },
      notifications: [],
    }));
    const definition = (fail: boolean) => ({
      StartAt: 'Release',
      States: {
        Release: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: 'arn:release', Input: { modelPackageArn: 'arn:package', fail } },
          ResultSelector: { 'released.$': '$.Output.released' },
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }],
          Next: 'Started',
        },
        Started: {
          Type: 'Pass',
          Parameters: { 'at.$': '$$.State.EnteredTime', 'released.$': '$.released' },
          End: true,
        },
        Failed: { Type: 'Pass', Parameters: { 'cause.$': '$.failure.Cause' }, End: true },
      },
    });
    const options = {
      context: { State: { EnteredTime: '2026-11-21T09:00:00Z' } },
      stateMachines: { 'arn:release': child },
    };
    await expect(
      execute(machine(definition(false)), NO_HANDLERS, 'http://127.0.0.1:1', {}, options),
    ).resolves.toMatchObject({
      succeeded: true,
      output: { at: '2026-11-21T09:00:00Z', released: 'arn:package' },
    });
    const failed = await execute(machine(definition(true)), NO_HANDLERS, 'http://127.0.0.1:1', {}, options);
    expect(failed.output.cause).toMatch(/arn:release failed: Release failed/);
    expect(child).toHaveBeenCalledWith({ modelPackageArn: 'arn:package', fail: true });
  });
});

describe('matchesEventPattern', () => {
  const pattern = {
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    resources: [
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a',
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:b',
    ],
    detail: { state: { value: ['ALARM'] } },
  };
  const event = (alarm: string, state: string) => ({
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarm}`],
    detail: { state: { value: state } },
  });

  test('matches an event of a listed resource in a listed state only', () => {
    expect(matchesEventPattern(pattern, event('b', 'ALARM'))).toBe(true);
    expect(matchesEventPattern(pattern, event('b', 'OK'))).toBe(false);
    expect(matchesEventPattern(pattern, event('c', 'ALARM'))).toBe(false);
  });

  test('refuses a content filter rather than guessing', () => {
    expect(() => matchesEventPattern({ detail: { value: [{ prefix: 'A' }] } }, event('a', 'ALARM'))).toThrow(
      /content filter/,
    );
  });
});
