import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { PlatformMonitoring } from '../../lib/monitoring/platform-monitoring';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry } from '../../lib/registry/model-registry';
import {
  ReleaseWorkflow,
  ReleaseWorkflowProps,
  ReleaseWorkflowTarget,
} from '../../lib/release/release-workflow';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import type { ReleaseStepEvent } from '../../lambda/release-step';
import type { ReleaseStep } from '../../lambda/shared/release';
import { formatFindings, nagFindings } from '../support/nag';
import { XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  StackStatus,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { quietHandlerLogs } from './support/quiet-logs';
import { handler } from '../../lambda/release-step';
import { parseReleaseInput } from '../../lambda/release-step/release-change';
import { StateMachine, aslValidator } from '../../bin/simulation/local-step-functions';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const PACKAGE = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips-fare/7';

/** Staging's health gate in the health scenarios: the slot's endpoint, its two alarms and a smoke request. */
const STAGING_HEALTH = {
  endpointName: 'mlops-staging-fare-amount',
  alarmNames: ['mlops-staging-fare-amount-rollback-errors', 'mlops-staging-fare-amount-rollback-latency'],
  smokeTest: { contentType: 'text/csv', body: '3.1,14,2,18.5,132,236' },
};

function workflow(props: Partial<ReleaseWorkflowProps> = {}, withTopic = true, stagingHealth = false) {
  // Bundling is not the subject here: the CLI's bundling-stacks context skips it.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const releases = new Stack(app, 'Releases', { env: ENV });
  const pointer = (env: string) =>
    new ReleasePointer(releases, `Pointer-${env}`, { environmentName: env, slotName: 'fare-amount' });
  const stack = new Stack(app, 'Automation', { env: ENV });
  const construct = new ReleaseWorkflow(stack, 'Release', {
    modelName: 'fare-amount',
    modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', 'trips-fare'),
    targets: [
      {
        environmentName: 'staging',
        stackName: 'staging-Platform',
        pointer: pointer('staging'),
        ...(stagingHealth ? { healthCheck: STAGING_HEALTH } : {}),
      },
      { environmentName: 'prod', stackName: 'prod-Platform', pointer: pointer('prod'), manualApproval: true },
    ],
    notificationTopic: withTopic ? new sns.Topic(stack, 'Topic', { enforceSSL: true }) : undefined,
    ...props,
  });
  return { app, stack, construct, template: Template.fromStack(stack) };
}

/**
 * A workflow releasing to staging alone, in an app of its own; bundling is on only when asked,
 * the subject of one test.
 */
function stagingWorkflow(target: Partial<ReleaseWorkflowTarget> = {}, bundle = false) {
  const app = new App(bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } });
  const releases = new Stack(app, 'Releases', { env: ENV });
  const stack = new Stack(app, 'Automation', { env: ENV });
  new ReleaseWorkflow(stack, 'Release', {
    modelName: 'fare-amount',
    modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', 'trips-fare'),
    targets: [
      {
        environmentName: 'staging',
        stackName: 'staging-Platform',
        pointer: new ReleasePointer(releases, 'Pointer', {
          environmentName: 'staging',
          slotName: 'fare-amount',
        }),
        ...target,
      },
    ],
  });
  return { app, stack };
}

type Json = Record<string, unknown>;

/** The state machine's definition with CloudFormation intrinsics replaced by placeholder ARNs. */
function definitionOf(template: Template): Json {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const flatten = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const [fn, args] = Object.entries(v as Json)[0];
    if (fn === 'Fn::Join') {
      const [sep, parts] = args as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if (fn === 'Fn::GetAtt') return 'arn:aws:lambda:eu-west-1:111111111111:function:release-step';
    if (fn === 'Ref') {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': 'eu-west-1',
        'AWS::AccountId': '111111111111',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[args as string] ?? 'arn:aws:sns:eu-west-1:111111111111:releases';
    }
    throw new Error(`unexpected intrinsic ${fn}`);
  };
  return JSON.parse(flatten((machine.Properties as Json).DefinitionString));
}

describe('ReleaseWorkflow', () => {
  const built = workflow();
  const definition = definitionOf(built.template);

  test('a standard workflow, traced and fully logged, with a step function bundled from lambda/', () => {
    built.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'release-fare-amount',
          RELEASE_POLL_INTERVAL_SECONDS: '30',
          RELEASE_TIMEOUT_SECONDS: '3600',
        },
      },
    });
  });

  test('the definition is valid Amazon States Language', () => {
    const result = aslValidator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('releases to staging, then prod, each started, checked until done, then the next', () => {
    const states = definition.States as Record<string, Json>;
    expect(definition.StartAt).toBe('CheckInput');
    expect(states.CheckInput.Next).toBe('StartStaging');
    expect(Object.keys(states).sort()).toEqual(
      [
        'CheckInput',
        'StartStaging',
        'StagingOutcome',
        'WaitStaging',
        'CheckStaging',
        'StagingUpdateFailed',
        'NotifyStagingFailed',
        'NotifyStagingRefused',
        'StagingReleased',
        'ApproveProd',
        'NotifyProdNotApproved',
        'StartProd',
        'ProdOutcome',
        'WaitProd',
        'CheckProd',
        'ProdUpdateFailed',
        'NotifyProdFailed',
        'NotifyProdRefused',
        'ProdReleased',
        'ReleaseFailed',
        'Released',
      ].sort(),
    );
    expect(states.StagingReleased.Next).toBe('ApproveProd');
    expect(states.ApproveProd.Next).toBe('StartProd');
    // The approval request carries the task token and waits for it, at most three days.
    expect(states.ApproveProd).toMatchObject({
      Resource: 'arn:aws:states:::sns:publish.waitForTaskToken',
      TimeoutSeconds: 3 * 86400,
      Parameters: {
        Message: {
          request: 'Approve the release of model fare-amount to prod',
          'release.$': '$.release.description',
          'modelPackageArn.$': '$.release.modelPackageArn',
          'taskToken.$': '$$.Task.Token',
        },
      },
    });
    expect(states.ProdReleased.Next).toBe('Released');
    // The start names only the target (stack, pointers, region and the group it serves) and the
    // checked input.
    expect((states.StartStaging.Parameters as Json).Payload).toEqual({
      action: 'start',
      target: {
        stackName: 'staging-Platform',
        pointerName: '/mlops/staging/serving/fare-amount/model-package-arn',
        region: 'eu-west-1',
        modelPackageGroupName: 'trips-fare',
        variants: {
          challenger: {
            pointerName: '/mlops/staging/serving/fare-amount/variants/challenger/model-package-arn',
            weightName: '/mlops/staging/serving/fare-amount/variants/challenger/weight',
          },
          shadow: {
            pointerName: '/mlops/staging/serving/fare-amount/variants/shadow/model-package-arn',
            weightName: '/mlops/staging/serving/fare-amount/variants/shadow/weight',
          },
        },
      },
      'release.$': '$.release',
    });
    // The input is checked first, whole; a malformed one ends the execution at once.
    expect(states.CheckInput).toMatchObject({
      Parameters: { Payload: { action: 'plan', 'input.$': '$' } },
      ResultPath: '$.release',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'ReleaseFailed' }],
    });
  });

  test('the step role writes only the two pointers and updates only the two stacks', () => {
    const [policy] = Object.values(built.template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes('cloudformation:UpdateStack'),
    );
    const statements = (policy.Properties as { PolicyDocument: { Statement: Json[] } }).PolicyDocument
      .Statement;
    const ssmWrites = statements.filter((s) => JSON.stringify(s.Action).includes('ssm:PutParameter'));
    expect(JSON.stringify(ssmWrites)).toContain(
      'parameter/mlops/staging/serving/fare-amount/model-package-arn',
    );
    expect(JSON.stringify(ssmWrites)).toContain('parameter/mlops/prod/serving/fare-amount/model-package-arn');
    expect(JSON.stringify(ssmWrites)).not.toContain('parameter/*');
    const stacks = statements.find((s) => s.Sid === 'UpdateTheServingStacks')!;
    expect(JSON.stringify(stacks.Resource)).toMatch(/stack\/staging-Platform\/\*.*stack\/prod-Platform\/\*/);
    expect(JSON.stringify(statements)).not.toContain('iam:PassRole');
  });

  test("an approval of the registry's group invokes the trigger, which may start only this workflow", () => {
    built.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: {
          ModelPackageGroupName: ['trips-fare'],
          ModelApprovalStatus: ['Approved'],
        },
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 4 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TriggerDeadLetters'), 'Arn'] } },
        }),
      ],
    });
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('ReleaseStateMachine') },
          MODEL_PACKAGE_GROUP_NAME: 'trips-fare',
          MODEL_NAME: 'fare-amount',
          POWERTOOLS_METRICS_NAMESPACE: 'cdk-mlops-maturity/Release',
          POWERTOOLS_SERVICE_NAME: 'release-trigger-fare-amount',
        },
      },
      DeadLetterConfig: {
        TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TriggerDeadLetters'), 'Arn'] },
      },
    });
    const [triggerPolicy] = Object.entries(built.template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.includes('TriggerRole'))
      .map(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    const starts = triggerPolicy.filter((s) => JSON.stringify(s.Action).includes('states:'));
    expect(starts).toEqual([
      expect.objectContaining({
        Action: 'states:StartExecution',
        Resource: { Ref: expect.stringMatching(/^ReleaseStateMachine/) },
      }),
    ]);
  });

  test('both handlers bundle with esbuild, without Docker', () => {
    // GIVEN the workflow synthesized with bundling on
    const { app } = stagingWorkflow({}, true);
    const assembly = app.synth();
    // THEN each function's asset holds one minified index.js, with the AWS SDK left to the runtime
    const bundles = fs
      .readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => path.join(assembly.directory, d, 'index.js'))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f, 'utf8'));
    expect(bundles).toHaveLength(2);
    for (const code of bundles) {
      expect(code).toContain('require("@aws-sdk/');
      expect(code.length).toBeGreaterThan(10_000);
    }
    expect(bundles.some((code) => code.includes('release step event must be'))).toBe(true);
    expect(bundles.some((code) => code.includes('SageMaker Model Package State Change'))).toBe(true);
  });

  test('no cdk-nag findings', () => {
    expect(formatFindings(nagFindings(built.app))).toBe('');
  });

  test.each<[string, Partial<ReleaseWorkflowProps>, RegExp]>([
    ['no targets', { targets: [] }, /targets '\[\]' is invalid: give at least one environment to release to/],
    ['a bad model name', { modelName: 'Fare' }, /modelName 'Fare' is invalid/],
    [
      'a too short poll',
      { pollInterval: Duration.seconds(1) },
      /pollInterval '1 second' is invalid: use 5 seconds to 5 minutes/,
    ],
  ])('%s fails naming the prop', (_case, props, message) => {
    expect(() => workflow(props)).toThrow(MlopsValidationError);
    expect(() => workflow(props)).toThrow(message);
  });

  test('a manual approval without a topic fails naming the target', () => {
    expect(() => stagingWorkflow({ manualApproval: true })).toThrow(
      /targets\[0\]\.manualApproval 'true' is invalid: the approval request \(with its task token\) is published to notificationTopic/,
    );
  });

  test('a release role needs the serving role and the source environment, each named', () => {
    const releaseRole = (stack: Stack) =>
      iam.Role.fromRoleArn(stack, 'StagingRelease', 'arn:aws:iam::111111111111:role/mlops-staging-release');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Automation', { env: ENV });
    expect(
      () =>
        new ReleaseWorkflow(stack, 'Release', {
          modelName: 'fare-amount',
          modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', 'trips-fare'),
          targets: [
            {
              environmentName: 'staging',
              stackName: 'staging-Serving',
              pointer: ReleasePointer.fromParameterName(
                stack,
                'Pointer',
                '/mlops/staging/serving/fare-amount/model-package-arn',
              ),
              releaseRole: releaseRole(stack),
            },
          ],
        }),
    ).toThrow(
      /sourceEnvironmentName \(undefined\) is invalid: targets\[0\] \(staging\) has a releaseRole.*\n.*targets\[0\]\.cloudFormationRoleArn \(undefined\) is invalid: give the environment's serving deploy role/,
    );
  });

  test('notifyOnSuccess without a topic fails naming both', () => {
    expect(() => workflow({ notifyOnSuccess: true }, false)).toThrow(
      /notifyOnSuccess 'true' is invalid: give notificationTopic too/,
    );
  });
});

/**
 * What a fake step function does per environment: `done` at once, `updating` for `checks` checks
 * and then done, a failed update, or a refusal (the engine's ReleaseError, as the handler throws it).
 */
type Script = { outcome: 'done' | 'failed' | 'refused'; checks?: number; previous?: string };

function fakeStep(script: Record<string, Script>, calls: string[]) {
  const remaining: Record<string, number> = {};
  const released: Record<string, string> = {};
  return async (input: { Payload: ReleaseStepEvent }): Promise<{ Payload: ReleaseStep }> => {
    const event = input.Payload;
    if (event.action === 'plan') {
      return { Payload: parseReleaseInput(event.input) as never };
    }
    const request = event.action === 'check' ? event.token.request : event.target;
    const env = request.stackName.split('-')[0];
    calls.push(`${event.action} ${env}`);
    const plan = script[env];
    if (event.action === 'start') {
      if (plan.outcome === 'refused') {
        const error = new Error(
          '[model-package-not-approved] model package is PendingManualApproval: approve it',
        );
        error.name = 'ReleaseRefused';
        throw error;
      }
      remaining[env] = plan.checks ?? 0;
      released[env] = event.release.modelPackageArn ?? 'none';
    } else {
      remaining[env] -= 1;
    }
    if (remaining[env] > 0) {
      return { Payload: { status: 'updating', token: { request } as never } };
    }
    if (plan.outcome === 'failed') {
      return {
        Payload: {
          status: 'failed',
          failure: {
            code: 'update-failed',
            message: `the update of ${request.stackName} failed: Endpoint CREATE_FAILED; the pointer was restored`,
            pointerRestored: true,
          },
        },
      };
    }
    return {
      Payload: {
        status: 'done',
        result: {
          status: 'released',
          previous: plan.previous ?? 'none',
          current: released[env],
          pointerName: request.pointerName!,
          stackName: request.stackName,
          stackUpdated: true,
        },
      },
    };
  };
}

describe('ReleaseWorkflow executed locally', () => {
  const definition = definitionOf(workflow({ notifyOnSuccess: true }).template);

  async function execute(script: Record<string, Script>, approval: 'approve' | 'reject' = 'approve') {
    const calls: string[] = [];
    const published: string[] = [];
    const step = fakeStep(script, calls);
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true } });
    const publish = async (input: { Message: string }) => {
      published.push(input.Message);
      return { MessageId: 'm-1' };
    };
    // A person answers the approval request: send-task-success, or send-task-failure.
    const approve = async (input: { Message: { request: string; taskToken: string } }) => {
      expect(input.Message.taskToken).toBe('local-task-token');
      calls.push(`approval requested: ${input.Message.request}`);
      if (approval === 'reject') {
        const error = new Error('the canary in staging looked slow');
        error.name = 'Rejected';
        throw error;
      }
      return {};
    };
    const execution = machine.run(
      { modelPackageArn: PACKAGE },
      {
        overrides: {
          taskResourceLocalHandlers: {
            CheckInput: step,
            StartStaging: step,
            CheckStaging: step,
            StartProd: step,
            CheckProd: step,
            NotifyStagingFailed: publish,
            NotifyStagingRefused: publish,
            NotifyProdFailed: publish,
            NotifyProdRefused: publish,
            NotifyReleased: publish,
            NotifyProdNotApproved: publish,
            ApproveProd: approve,
          } as never,
          waitTimeOverrides: { WaitStaging: 0, WaitProd: 0 },
        },
        // The local interpreter has no task tokens of its own: the Context Object supplies one.
        context: { Task: { Token: 'local-task-token' } },
      },
    );
    try {
      const output = await execution.result;
      return { succeeded: true, output, calls, published };
    } catch (error) {
      return { succeeded: false, error: error as Error & { cause?: unknown }, calls, published };
    }
  }

  test('a staged release that succeeds: staging, checked until done, then prod, then a notification', async () => {
    const run = await execute({
      staging: { outcome: 'done', checks: 2 },
      prod: { outcome: 'done', checks: 1 },
    });
    expect(run.succeeded).toBe(true);
    expect(run.calls).toEqual([
      'start staging',
      'check staging',
      'check staging',
      'approval requested: Approve the release of model fare-amount to prod',
      'start prod',
      'check prod',
    ]);
    expect(run.published).toEqual([`Released ${PACKAGE} to staging, prod`]);
  });

  test('a failed staging update: the execution fails with the reason, prod is never touched', async () => {
    const run = await execute({ staging: { outcome: 'failed', checks: 1 }, prod: { outcome: 'done' } });
    expect(run.succeeded).toBe(false);
    expect(run.calls).toEqual(['start staging', 'check staging']);
    expect(run.published).toEqual([
      `Release of ${PACKAGE} to staging failed: the update of staging-Platform failed: Endpoint CREATE_FAILED; the pointer was restored`,
    ]);
    expect(String(run.error)).toContain('the update of staging-Platform failed: Endpoint CREATE_FAILED');
  });

  test('a failed prod update: staging keeps the new model, prod was restored by the engine', async () => {
    const run = await execute({ staging: { outcome: 'done' }, prod: { outcome: 'failed', checks: 1 } });
    expect(run.succeeded).toBe(false);
    expect(run.calls).toEqual([
      'start staging',
      'approval requested: Approve the release of model fare-amount to prod',
      'start prod',
      'check prod',
    ]);
    expect(run.published).toEqual([
      expect.stringMatching(/^Release of .* to prod failed: the update of prod-Platform failed/),
    ]);
  });

  test('a refused release (package not approved): nothing is started, the refusal is notified', async () => {
    const run = await execute({ staging: { outcome: 'refused' }, prod: { outcome: 'done' } });
    expect(run.succeeded).toBe(false);
    expect(run.calls).toEqual(['start staging']);
    expect(run.published).toEqual([expect.stringContaining('[model-package-not-approved]')]);
  });

  test('a rejected manual approval: staging keeps the new model, prod is never started', async () => {
    const run = await execute({ staging: { outcome: 'done' }, prod: { outcome: 'done' } }, 'reject');
    expect(run.succeeded).toBe(false);
    expect(run.calls).toEqual([
      'start staging',
      'approval requested: Approve the release of model fare-amount to prod',
    ]);
    expect(run.published).toEqual([
      `Release of ${PACKAGE} to prod was not approved: the canary in staging looked slow`,
    ]);
  });
});

describe('ReleaseWorkflow with an environment that takes no online trials, executed locally', () => {
  // GIVEN staging, whose slot has no shadow, then prod, which takes the online gate's trials
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const releases = new Stack(app, 'Releases', { env: ENV });
  const stack = new Stack(app, 'Automation', { env: ENV });
  const pointer = (env: string) =>
    new ReleasePointer(releases, `Pointer-${env}`, { environmentName: env, slotName: 'fare-amount' });
  new ReleaseWorkflow(stack, 'Release', {
    modelName: 'fare-amount',
    modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', 'trips-fare'),
    targets: [
      {
        environmentName: 'staging',
        stackName: 'staging-Platform',
        pointer: pointer('staging'),
        onlineTrials: false,
      },
      { environmentName: 'prod', stackName: 'prod-Platform', pointer: pointer('prod') },
    ],
  });
  const definition = definitionOf(Template.fromStack(stack));

  async function execute(input: Json) {
    const calls: string[] = [];
    const step = fakeStep({ staging: { outcome: 'done' }, prod: { outcome: 'done' } }, calls);
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true } });
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: {
          CheckInput: step,
          StartStaging: step,
          CheckStaging: step,
          StartProd: step,
          CheckProd: step,
        } as never,
        waitTimeOverrides: { WaitStaging: 0, WaitProd: 0 },
      },
    });
    await execution.result;
    return { calls };
  }

  test('the definition is valid Amazon States Language', () => {
    expect(aslValidator(definition).errors).toEqual([]);
  });

  test.each([
    [{ modelPackageArn: PACKAGE, variant: 'shadow', onlineTrial: true, weightPercent: 20 }],
    [{ stopVariant: 'shadow', onlineTrial: true }],
  ])('a trial (%j) skips staging and releases to prod', async (input) => {
    const run = await execute(input);
    expect(run.calls).toEqual(['start prod']);
  });

  test.each([
    [{ modelPackageArn: PACKAGE }],
    [{ modelPackageArn: PACKAGE, variant: 'shadow' }],
    [{ stopVariant: 'shadow' }],
  ])('any other release (%j) goes through staging, then prod', async (input) => {
    const run = await execute(input);
    expect(run.calls).toEqual(['start staging', 'start prod']);
  });

  test('the skip is a state of its own, so the execution history shows it', () => {
    const states = definition.States as Record<string, Json>;
    expect(states.StagingSkipsOnlineTrial).toMatchObject({ Type: 'Pass', Next: 'StartProd' });
    expect(states.StagingTakesOnlineTrial).toMatchObject({ Type: 'Choice', Default: 'StartStaging' });
    expect(states.ProdTakesOnlineTrial).toBeUndefined();
  });
});

describe('ReleaseWorkflow executed locally, its steps run by the real handler against client mocks', () => {
  const definition = definitionOf(workflow({ notifyOnSuccess: true }).template);
  const ssm = mockClient(SSMClient);
  const sageMaker = mockClient(SageMakerClient);
  const cloudFormation = mockClient(CloudFormationClient);

  /** A serving stack as DescribeStacks shows it: it reads its pointer through an SSM-typed parameter. */
  const stackIn = (env: string, status: StackStatus, resolved: string) => ({
    Stacks: [
      {
        StackId: `arn:aws:cloudformation:eu-west-1:111111111111:stack/${env}-Platform/0f1e2d3c-0000-4000-8000-${env === 'prod' ? '000000000002' : '000000000001'}`,
        StackName: `${env}-Platform`,
        CreationTime: new Date('2026-11-30T09:00:00Z'),
        StackStatus: status,
        Parameters: [
          {
            ParameterKey: 'Level2fareamountServingModelPackageArnC0FFEE12',
            ParameterValue: `/mlops/${env}/serving/fare-amount/model-package-arn`,
            ResolvedValue: resolved,
          },
        ],
      },
    ],
  });

  beforeEach(() => {
    ssm.reset();
    sageMaker.reset();
    cloudFormation.reset();
    quietHandlerLogs();
    sageMaker.on(DescribeModelPackageCommand).resolves({
      ModelPackageGroupName: 'trips-fare',
      ModelPackageVersion: 7,
      ModelPackageArn: PACKAGE,
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: 'Approved',
      CreationTime: new Date('2026-11-30T10:00:00Z'),
      InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
    });
    for (const env of ['staging', 'prod']) {
      const name = `/mlops/${env}/serving/fare-amount/model-package-arn`;
      ssm
        .on(GetParameterCommand, { Name: name })
        .resolves({ Parameter: { Name: name, Type: 'String', Value: 'none' } });
    }
    ssm.on(PutParameterCommand).resolves({ Version: 2, Tier: 'Standard' });
    cloudFormation.on(UpdateStackCommand).callsFake((input: { StackName: string }) => ({
      StackId: stackIn(input.StackName.split('-')[0], 'UPDATE_IN_PROGRESS', 'none').Stacks[0].StackId,
    }));
  });

  afterEach(() => jest.restoreAllMocks());

  /** DescribeStacks of one stack answers these, in order, then the last again. */
  function statuses(env: string, ...answers: Array<ReturnType<typeof stackIn>>) {
    let mock = cloudFormation.on(DescribeStacksCommand, { StackName: `${env}-Platform` });
    for (const answer of answers.slice(0, -1)) {
      mock = mock.resolvesOnce(answer);
    }
    mock.resolves(answers[answers.length - 1]);
  }

  async function run() {
    const published: string[] = [];
    const step = async (input: { Payload: ReleaseStepEvent }) => ({ Payload: await handler(input.Payload) });
    const publish = async (input: { Message: string }) => {
      published.push(input.Message);
      return { MessageId: 'm-1' };
    };
    const machine = new StateMachine(definition as never);
    const execution = machine.run(
      { modelPackageArn: PACKAGE },
      {
        overrides: {
          taskResourceLocalHandlers: {
            CheckInput: step,
            StartStaging: step,
            CheckStaging: step,
            StartProd: step,
            CheckProd: step,
            ApproveProd: async () => ({}),
            NotifyStagingFailed: publish,
            NotifyStagingRefused: publish,
            NotifyProdFailed: publish,
            NotifyProdRefused: publish,
            NotifyProdNotApproved: publish,
            NotifyReleased: publish,
          } as never,
          waitTimeOverrides: { WaitStaging: 0, WaitProd: 0 },
        },
        context: { Task: { Token: 'local-task-token' } },
      },
    );
    const succeeded = await execution.result.then(
      () => true,
      () => false,
    );
    const writes = ssm
      .commandCalls(PutParameterCommand)
      .map((c) => [c.args[0].input.Name, c.args[0].input.Value]);
    return { succeeded, published, writes };
  }

  test('both environments released: each pointer written once, each stack updated once', async () => {
    statuses(
      'staging',
      stackIn('staging', 'CREATE_COMPLETE', 'none'),
      stackIn('staging', 'UPDATE_IN_PROGRESS', 'none'),
      stackIn('staging', 'UPDATE_COMPLETE', PACKAGE),
    );
    statuses('prod', stackIn('prod', 'CREATE_COMPLETE', 'none'), stackIn('prod', 'UPDATE_COMPLETE', PACKAGE));
    const result = await run();
    expect(result.succeeded).toBe(true);
    expect(result.writes).toEqual([
      ['/mlops/staging/serving/fare-amount/model-package-arn', PACKAGE],
      ['/mlops/prod/serving/fare-amount/model-package-arn', PACKAGE],
    ]);
    expect(cloudFormation.commandCalls(UpdateStackCommand).map((c) => c.args[0].input.StackName)).toEqual([
      'staging-Platform',
      'prod-Platform',
    ]);
    expect(result.published).toEqual([`Released ${PACKAGE} to staging, prod`]);
  });

  test('a prod update that rolls back: prod pointer restored to its last value, staging keeps the new model', async () => {
    statuses(
      'staging',
      stackIn('staging', 'CREATE_COMPLETE', 'none'),
      stackIn('staging', 'UPDATE_COMPLETE', PACKAGE),
    );
    statuses(
      'prod',
      stackIn('prod', 'CREATE_COMPLETE', 'none'),
      stackIn('prod', 'UPDATE_ROLLBACK_IN_PROGRESS', 'none'),
      stackIn('prod', 'UPDATE_ROLLBACK_COMPLETE', 'none'),
    );
    cloudFormation.on(DescribeStackEventsCommand).callsFake(() => {
      const token = cloudFormation.commandCalls(UpdateStackCommand).at(-1)!.args[0].input.ClientRequestToken;
      return {
        StackEvents: [
          {
            StackId: stackIn('prod', 'UPDATE_ROLLBACK_COMPLETE', 'none').Stacks[0].StackId,
            StackName: 'prod-Platform',
            EventId: 'e-1',
            LogicalResourceId: 'Level2fareamountServingEndpoint',
            ResourceType: 'AWS::SageMaker::Endpoint',
            ResourceStatus: 'UPDATE_FAILED',
            ResourceStatusReason: 'Rollback alarm mlops-prod-fare-amount-rollback-errors fired',
            Timestamp: new Date('2026-11-30T11:00:00Z'),
            ClientRequestToken: token,
          },
        ],
      };
    });
    const result = await run();
    expect(result.succeeded).toBe(false);
    expect(result.writes).toEqual([
      ['/mlops/staging/serving/fare-amount/model-package-arn', PACKAGE],
      ['/mlops/prod/serving/fare-amount/model-package-arn', PACKAGE],
      // The engine wrote prod's pointer back: prod serves what it served before.
      ['/mlops/prod/serving/fare-amount/model-package-arn', 'none'],
    ]);
    expect(result.published).toEqual([
      expect.stringMatching(
        /^Release of .* to prod failed: .*UPDATE_ROLLBACK_COMPLETE.*rollback-errors fired.*restored/,
      ),
    ]);
  });
});

describe('ReleaseWorkflow with a health gate, executed locally', () => {
  const built = workflow({ soakTime: Duration.minutes(15) }, true, true);
  const definition = definitionOf(built.template);
  const OLD = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips-fare/6';

  test('the definition is valid; staging soaks, then its health is checked before prod', () => {
    expect(aslValidator(definition).errors).toEqual([]);
    const states = definition.States as Record<string, Json>;
    expect(states.SoakStaging).toMatchObject({ Type: 'Wait', Seconds: 900, Next: 'HealthStaging' });
    expect((states.HealthStaging.Parameters as Json).Payload).toEqual({
      region: 'eu-west-1',
      ...STAGING_HEALTH,
    });
    expect(states.StagingHealthy).toMatchObject({
      Choices: [{ Variable: '$.health.healthy', BooleanEquals: true, Next: 'StagingReleased' }],
      Default: 'StagingUnhealthy',
    });
  });

  test('the health function may describe only the gated endpoint and its alarms, and invoke only it', () => {
    const [policy] = Object.entries(built.template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.includes('HealthRole'))
      .map(([, p]) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policy).toContain('endpoint/mlops-staging-fare-amount"');
    expect(policy).toContain('alarm:mlops-staging-fare-amount-rollback-errors');
    expect(policy).toContain('sagemaker:InvokeEndpoint');
    expect(policy).not.toMatch(/endpoint\/\*|"\*"/);
  });

  test('no cdk-nag findings with the gate', () => {
    expect(formatFindings(nagFindings(built.app))).toBe('');
  });

  async function execute(script: Record<string, Script>, healthy: boolean) {
    const calls: string[] = [];
    const published: string[] = [];
    const step = fakeStep(script, calls);
    const publish = async (input: { Message: string }) => {
      published.push(input.Message);
      return { MessageId: 'm-1' };
    };
    const health = async (input: { Payload: { endpointName: string } }) => {
      calls.push(`health ${input.Payload.endpointName}`);
      return {
        Payload: healthy
          ? { healthy: true, reasons: [] }
          : {
              healthy: false,
              reasons: ['alarm mlops-staging-fare-amount-rollback-errors is in ALARM: Threshold Crossed'],
            },
      };
    };
    const handlers: Record<string, unknown> = {
      CheckInput: step,
      StartStaging: step,
      CheckStaging: step,
      StartProd: step,
      CheckProd: step,
      RestoreStaging: async (input: { Payload: ReleaseStepEvent }) => {
        const event = input.Payload as Extract<ReleaseStepEvent, { action: 'restore' }>;
        calls.push(`restore staging to ${event.result.previous}`);
        return { Payload: { status: 'updating', token: { request: event.target } } };
      },
      CheckRestoreStaging: async () => {
        calls.push('check restore staging');
        return { Payload: { status: 'done', result: { status: 'released' } } };
      },
      HealthStaging: health,
      ApproveProd: async () => ({}),
    };
    for (const name of Object.keys(definition.States as object).filter((n) => n.startsWith('Notify'))) {
      handlers[name] = publish;
    }
    const execution = new StateMachine(definition as never).run(
      { modelPackageArn: PACKAGE },
      {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          waitTimeOverrides: { WaitStaging: 0, WaitProd: 0, SoakStaging: 0, WaitRestoreStaging: 0 },
        },
        context: { Task: { Token: 'local-task-token' } },
      },
    );
    const succeeded = await execution.result.then(
      () => true,
      () => false,
    );
    return { succeeded, calls, published };
  }

  test('healthy after the soak: prod follows', async () => {
    const run = await execute(
      { staging: { outcome: 'done', previous: OLD }, prod: { outcome: 'done' } },
      true,
    );
    expect(run.succeeded).toBe(true);
    expect(run.calls).toEqual(['start staging', 'health mlops-staging-fare-amount', 'start prod']);
  });

  test('unhealthy: staging is given its previous model back, prod is never touched, the reason is notified', async () => {
    const run = await execute(
      { staging: { outcome: 'done', previous: OLD }, prod: { outcome: 'done' } },
      false,
    );
    expect(run.succeeded).toBe(false);
    expect(run.calls).toEqual([
      'start staging',
      'health mlops-staging-fare-amount',
      `restore staging to ${OLD}`,
      'check restore staging',
    ]);
    expect(run.published).toEqual([
      `Release of ${PACKAGE} to staging is unhealthy (["alarm mlops-staging-fare-amount-rollback-errors is in ALARM: Threshold Crossed"]): staging serves ${OLD} again`,
    ]);
  });

  test('unhealthy with no model before: nothing to restore, said so, and prod is never touched', async () => {
    const run = await execute({ staging: { outcome: 'done' }, prod: { outcome: 'done' } }, false);
    expect(run.succeeded).toBe(false);
    expect(run.calls).toEqual(['start staging', 'health mlops-staging-fare-amount']);
    expect(run.published).toEqual([
      expect.stringMatching(
        /to staging is unhealthy .*; staging served no model before, so it keeps this one/,
      ),
    ]);
  });
});

describe('ReleaseWorkflow under the level-1 monitoring', () => {
  // GIVEN the workflow in a stack with PlatformMonitoring, which discovers what the stack holds
  const { stack } = stagingWorkflow({ healthCheck: { endpointName: 'mlops-staging-fare-amount' } });
  new PlatformMonitoring(stack, 'Monitoring', { environmentName: 'dev' });
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).map((a) =>
    JSON.stringify(a.Properties),
  );
  const alarmsOn = (metric: string, dimension: string) =>
    alarms.filter((a) => a.includes(`"MetricName":"${metric}"`) && a.includes(dimension));

  test('failed, timed-out and aborted executions of the workflow alarm', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      expect({ metric, count: alarmsOn(metric, '"Name":"StateMachineArn"').length }).toEqual({
        metric,
        count: 1,
      });
    }
  });

  test('each of its three functions has error alarms, and the trigger dead-letter queue alarms on any message', () => {
    expect(
      alarms.filter((a) => a.includes('"MetricName":"Errors"') && a.includes('FunctionName')),
    ).toHaveLength(3);
    expect(alarmsOn('ApproximateNumberOfMessagesVisible', 'QueueName')).toHaveLength(1);
  });
});

describe('ReleaseWorkflow with serving-only CloudFormation roles', () => {
  const STAGING_ROLE = 'arn:aws:iam::111111111111:role/staging-serving-cfn';
  const PROD_ROLE = 'arn:aws:iam::222222222222:role/prod-serving-cfn';
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const releases = new Stack(app, 'Releases', { env: ENV });
  const stack = new Stack(app, 'Automation', { env: ENV });
  const pointer = (env: string) =>
    new ReleasePointer(releases, env, { environmentName: env, slotName: 'fare-amount' });
  new ReleaseWorkflow(stack, 'Release', {
    modelName: 'fare-amount',
    modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', 'trips-fare'),
    targets: [
      {
        environmentName: 'staging',
        stackName: 'staging-Serving',
        pointer: pointer('staging'),
        cloudFormationRoleArn: STAGING_ROLE,
      },
      {
        environmentName: 'prod',
        stackName: 'prod-Serving',
        pointer: pointer('prod'),
        account: '222222222222',
        cloudFormationRoleArn: PROD_ROLE,
      },
    ],
  });
  const template = Template.fromStack(stack);
  const [statements] = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.includes('StepRole'))
    .map(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);

  test('each stack may be updated only through its serving role, and each role passed only to CloudFormation', () => {
    const updates = statements.filter((s) => JSON.stringify(s.Action).includes('cloudformation:UpdateStack'));
    expect(updates.map((s) => s.Condition)).toEqual([
      { StringEquals: { 'cloudformation:RoleArn': STAGING_ROLE } },
      { StringEquals: { 'cloudformation:RoleArn': PROD_ROLE } },
    ]);
    const passes = statements.filter((s) => JSON.stringify(s.Action).includes('iam:PassRole'));
    expect(passes).toEqual([
      expect.objectContaining({
        Resource: STAGING_ROLE,
        Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      }),
      expect.objectContaining({
        Resource: PROD_ROLE,
        Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      }),
    ]);
    // The only parameters it may write are the model's pointers and variant weights in the two environments.
    const writes = statements.filter((s) => JSON.stringify(s.Action).includes('ssm:PutParameter'));
    const written = writes
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => JSON.stringify(r).match(/:parameter(\/[^"]+)"/)![1]);
    expect(written.sort()).toEqual(
      ['staging', 'prod']
        .flatMap((env) => [
          `/mlops/${env}/serving/fare-amount/model-package-arn`,
          `/mlops/${env}/serving/fare-amount/variants/challenger/model-package-arn`,
          `/mlops/${env}/serving/fare-amount/variants/challenger/weight`,
          `/mlops/${env}/serving/fare-amount/variants/shadow/model-package-arn`,
          `/mlops/${env}/serving/fare-amount/variants/shadow/weight`,
        ])
        .sort(),
    );
  });

  test('the engine is told the role, so every update runs through it, whatever the stack was deployed with', () => {
    const states = definitionOf(template).States as Record<string, Json>;
    expect(((states.StartProd.Parameters as Json).Payload as Json).target).toMatchObject({
      account: '222222222222',
      cloudFormationRoleArn: PROD_ROLE,
    });
  });

  test('no cdk-nag findings', () => {
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test('a target in another account without a release role is warned about: its grants cannot reach it', () => {
    Annotations.fromStack(stack).hasWarning(
      '/Automation/Release',
      Match.stringLikeRegexp('targets\\[1\\] \\(prod\\) is in account 222222222222.*Give it the ReleaseRole'),
    );
  });
});
