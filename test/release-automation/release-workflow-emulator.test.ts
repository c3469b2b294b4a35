// The trigger reads its configuration when its module loads: these variables come first.
import './support/release-trigger-env';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  ModelApprovalStatus,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleaseWorkflow } from '../../lib/release/release-workflow';
import {
  NO_MODEL_RELEASED,
  releasePointerParameterName,
  variantPointerParameterName,
  variantWeightParameterName,
} from '../../lib/serving/naming';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { handler as step, ReleaseStepEvent } from '../../lambda/release-step';
import { handler as health, HealthCheckEvent } from '../../lambda/release-health';
import { createHandler, ModelPackageStateChangeEvent, TriggerOutcome } from '../../lambda/release-trigger';
import {
  CloudFormationProxy,
  EMULATOR_CREDENTIALS,
  motoSnsCall,
  MotoServer,
  startCloudFormationProxy,
  startMotoServer,
} from '../../bin/simulation/moto-server';
import { XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';
import { quietHandlerLogs } from './support/quiet-logs';
import { StateMachine } from '../../bin/simulation/local-step-functions';

/*
 * The release workflow's state machine, as synthesized, executed locally (aws-local-stepfunctions)
 * with its tasks running the real handlers in this process against an AWS API emulator (moto
 * server): the registry, the pointers, the serving stacks, the release roles (STS), the alarms,
 * the endpoints, the topic (its published notifications) and, for the approval
 * events, Step Functions' StartExecution. Every effect is read back from the emulator. What moto
 * does not emulate, and how the test bridges it, is listed in docs/testing.md (AWS API emulator gaps).
 */

const REGION = 'us-east-1';
// moto's default account: the workflow, the registry and both environments (moto keeps accounts
// apart and does not resolve another account's model package by ARN).
const ACCOUNT = '123456789012';
const MODEL = 'fare-amount';
const GROUP = 'trips-fare';
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:mlops-dev-releases`;
const ENVIRONMENTS = ['staging', 'prod'] as const;
type Environment = (typeof ENVIRONMENTS)[number];
const endpointOf = (env: Environment) => `mlops-${env}-${MODEL}`;
const alarmOf = (env: Environment) => `${endpointOf(env)}-rollback-errors`;
const releaseRoleOf = (env: Environment) => `arn:aws:iam::${ACCOUNT}:role/mlops-${env}-release`;
const pointerOf = (env: Environment) => releasePointerParameterName(env, MODEL);
const challengerOf = (env: Environment) => variantPointerParameterName(env, MODEL, 'challenger');
const weightOf = (env: Environment) => variantWeightParameterName(env, MODEL, 'challenger');

/** The workflow as the app builds it for dev: staging, then prod after a manual approval, each gated. */
function synthesizedDefinition(): Record<string, unknown> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'dev-Platform', { env: { account: ACCOUNT, region: REGION } });
  new ReleaseWorkflow(stack, 'Release', {
    modelName: MODEL,
    sourceEnvironmentName: 'dev',
    modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', GROUP),
    notificationTopic: sns.Topic.fromTopicArn(stack, 'Topic', TOPIC),
    notifyOnSuccess: true,
    soakTime: Duration.minutes(10),
    targets: ENVIRONMENTS.map((env) => ({
      environmentName: env,
      stackName: `${env}-Serving`,
      pointer: ReleasePointer.fromParameterName(stack, `Pointer-${env}`, pointerOf(env)),
      manualApproval: env === 'prod',
      cloudFormationRoleArn: `arn:aws:iam::${ACCOUNT}:role/mlops-${env}-serving-deploy`,
      releaseRole: iam.Role.fromRoleArn(stack, `ReleaseRole-${env}`, releaseRoleOf(env), { mutable: false }),
      healthCheck: {
        endpointName: endpointOf(env),
        alarmNames: [alarmOf(env)],
        smokeTest: { contentType: 'text/csv', body: '3.1,14,2,18.5,132,236' },
      },
    })),
  });
  const [machine] = Object.values(
    Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
  );
  // The definition's intrinsics: the partition, and the two functions' ARNs.
  const flatten = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const [fn, args] = Object.entries(v as Record<string, unknown>)[0];
    if (fn === 'Fn::Join') {
      const [sep, parts] = args as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if (fn === 'Ref' && args === 'AWS::Partition') return 'aws';
    if (fn === 'Fn::GetAtt') {
      const [logicalId] = args as [string];
      const name = /Health/.test(logicalId) ? 'release-health' : 'release-step';
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    }
    throw new Error(`unexpected intrinsic ${JSON.stringify(v)}`);
  };
  return JSON.parse(flatten(machine.Properties.DefinitionString));
}

/**
 * A serving stack in small: the champion's pointer, the challenger's and its weight, read through
 * SSM-typed parameters, and an output per value standing in for the endpoint that serves it (moto's
 * CloudFormation creates no SageMaker endpoints, and does not apply a changed property of an
 * AWS::SSM::Parameter on an update; it evaluates the outputs again).
 */
function servingTemplate(env: Environment): string {
  const read = (name: string) => ({ Type: 'AWS::SSM::Parameter::Value<String>', Default: name });
  return JSON.stringify({
    Parameters: {
      ChampionPackage: read(pointerOf(env)),
      ChallengerPackage: read(challengerOf(env)),
      ChallengerWeight: read(weightOf(env)),
    },
    Resources: {
      Marker: {
        Type: 'AWS::SSM::Parameter',
        Properties: { Name: `/emulator/${env}/marker`, Type: 'String', Value: env },
      },
    },
    Outputs: {
      champion: { Value: { Ref: 'ChampionPackage' } },
      challenger: { Value: { Ref: 'ChallengerPackage' } },
      weight: { Value: { Ref: 'ChallengerWeight' } },
    },
  });
}

let moto: MotoServer;
let proxy: CloudFormationProxy;
let ssm: SSMClient;
let sageMaker: SageMakerClient;
let cloudFormation: CloudFormationClient;
let cloudWatch: CloudWatchClient;
let sfn: SFNClient;
let stateMachineArn: string;
const definition = synthesizedDefinition();
/** Model package versions of the group, all Approved, registered in beforeAll. */
const v: string[] = [];

const value = async (name: string) =>
  (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;

/** Every parameter of the environments, with its version: what a release may have written. */
async function parameters(): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for (const path of ['/mlops', '/emulator']) {
    let NextToken: string | undefined;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, NextToken }));
      for (const p of page.Parameters ?? []) all[p.Name!] = `${p.Value} (v${p.Version})`;
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return all;
}

/** The values the environment's serving stack was last deployed with: its outputs. */
async function deployedWith(env: Environment): Promise<Record<string, string | undefined>> {
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: `${env}-Serving` }));
  return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
}

/** What each environment serves, read from the emulator: its pointers, and what its stack was deployed with. */
async function serving(env: Environment) {
  return {
    pointer: await value(pointerOf(env)),
    challenger: await value(challengerOf(env)),
    weight: await value(weightOf(env)),
    stack: await deployedWith(env),
  };
}

/** An SNS call in its query protocol, to moto. */
function snsCall(parameters: Record<string, string>): Promise<string> {
  return motoSnsCall(moto.url, REGION, parameters);
}

let notificationsRead = 0;

/**
 * The notifications published to the topic since the last call, as the emulator recorded them
 * (moto's internal API: each topic's sent notifications).
 */
async function notifications(): Promise<Array<{ subject: string; message: string }>> {
  const data = (await (await fetch(`${moto.url}/moto-api/data.json`)).json()) as {
    sns: { Topic: Array<{ arn: string; sent_notifications: Array<[string, string, string]> }> };
  };
  const sent = data.sns.Topic.find((t) => t.arn === TOPIC)?.sent_notifications ?? [];
  const fresh = sent.slice(notificationsRead).map(([, message, subject]) => ({ subject, message }));
  notificationsRead = sent.length;
  return fresh;
}

/** The SNS tasks' publish, to the emulator's topic. */
async function publish(task: Record<string, unknown>): Promise<{ MessageId: string }> {
  const text = await snsCall({
    Action: 'Publish',
    TopicArn: String(task.TopicArn),
    Subject: String(task.Subject),
    Message: typeof task.Message === 'string' ? task.Message : JSON.stringify(task.Message),
  });
  return { MessageId: /<MessageId>([^<]+)<\/MessageId>/.exec(text)![1] };
}

type Answer = 'approve' | { reject: string };

/**
 * Runs one execution of the definition locally: the Lambda tasks call the real handlers, the SNS
 * tasks publish to the emulator's topic, and a person answers each approval request (read from
 * the queue, with its task token) with `answer`. Waits and soaks take no time.
 */
async function execute(input: unknown, answer: Answer = 'approve') {
  const handlers: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {};
  const approvals: string[] = [];
  for (const [name, state] of Object.entries(definition.States as Record<string, Record<string, unknown>>)) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    if (resource.endsWith(':lambda:invoke')) {
      const fn = String((state.Parameters as Record<string, unknown>).FunctionName);
      handlers[name] = async (task) => ({
        Payload: fn.endsWith(':release-health')
          ? await health(task.Payload as HealthCheckEvent)
          : await step(task.Payload as ReleaseStepEvent),
      });
    } else if (resource.endsWith(':sns:publish')) {
      handlers[name] = publish;
    } else if (resource.endsWith(':sns:publish.waitForTaskToken')) {
      handlers[name] = async (task) => {
        await publish(task);
        // The person reads the request from the topic and answers with its task token.
        const [request] = await notifications();
        const message = JSON.parse(request.message) as {
          request: string;
          release: string;
          taskToken: string;
        };
        expect(message.taskToken).toBe('local-task-token');
        approvals.push(`${message.request}: ${message.release}`);
        if (answer !== 'approve') {
          throw Object.assign(new Error(answer.reject), { name: 'Rejected' });
        }
        return {};
      };
    } else {
      throw new Error(`state ${name} calls ${resource}, which the test does not run`);
    }
  }
  const waits = Object.fromEntries(
    Object.entries(definition.States as Record<string, { Type: string }>)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([name]) => [name, 0]),
  );
  const execution = new StateMachine(definition as never).run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waits },
    context: { Task: { Token: 'local-task-token' } },
  });
  const outcome = await execution.result.then(
    () => ({ succeeded: true, error: '' }),
    (error: Error) => ({
      succeeded: false,
      error: `${error.name}: ${error.message} ${String(error.cause ?? '')}`,
    }),
  );
  return { ...outcome, approvals, published: await notifications() };
}

async function register(status: ModelApprovalStatus): Promise<string> {
  const { ModelPackageArn } = await sageMaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      ModelApprovalStatus: status,
      InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
    }),
  );
  return ModelPackageArn!;
}

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startCloudFormationProxy(moto.url);
  // The handlers create their clients (and the release roles' STS clients) from the environment.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.url,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    MODEL_NAME: MODEL,
  });
  const config = { region: REGION, endpoint: proxy.url, credentials: EMULATOR_CREDENTIALS };
  ssm = new SSMClient(config);
  sageMaker = new SageMakerClient(config);
  cloudFormation = new CloudFormationClient(config);
  cloudWatch = new CloudWatchClient(config);
  sfn = new SFNClient(config);

  await sageMaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
  for (let i = 0; i < 5; i++) v.push(await register('Approved'));

  await snsCall({ Action: 'CreateTopic', Name: 'mlops-dev-releases' });

  // Each environment as `cdk deploy` leaves it: serving v[0], no challenger, its endpoint InService.
  for (const env of ENVIRONMENTS) {
    for (const [name, initial] of [
      [pointerOf(env), v[0]],
      [challengerOf(env), NO_MODEL_RELEASED],
      [weightOf(env), '10'],
    ]) {
      await ssm.send(new PutParameterCommand({ Name: name, Type: 'String', Value: initial }));
    }
    await cloudFormation.send(
      new CreateStackCommand({ StackName: `${env}-Serving`, TemplateBody: servingTemplate(env) }),
    );
    proxy.shape.ssmParameters[`${env}-Serving`] = {
      ChampionPackage: pointerOf(env),
      ChallengerPackage: challengerOf(env),
      ChallengerWeight: weightOf(env),
    };
    await sageMaker.send(
      new CreateModelCommand({
        ModelName: `${env}-model`,
        ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/mlops-${env}-model`,
        PrimaryContainer: { Image: XGBOOST_INFERENCE_SPECIFICATION.Containers[0].Image },
      }),
    );
    await sageMaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${env}-config`,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: `${env}-model`,
            InitialInstanceCount: 1,
            InstanceType: 'ml.m5.large',
          },
        ],
      }),
    );
    await sageMaker.send(
      new CreateEndpointCommand({ EndpointName: endpointOf(env), EndpointConfigName: `${env}-config` }),
    );
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarmOf(env),
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocation5XXErrors',
        Dimensions: [
          { Name: 'EndpointName', Value: endpointOf(env) },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: alarmOf(env), StateValue: 'OK', StateReason: 'deployed' }),
    );
  }

  // The workflow's state machine, for the trigger to start executions of.
  stateMachineArn = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: `${MODEL}-release`,
        definition: JSON.stringify(definition),
        roleArn: `arn:aws:iam::${ACCOUNT}:role/release-state-machine`,
      }),
    )
  ).stateMachineArn!;
}, 60_000);

afterAll(() => {
  proxy?.close();
  moto?.stop();
});

beforeEach(() => {
  quietHandlerLogs();
  // Powertools writes error lines to its own console on stderr.
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => jest.restoreAllMocks());

describe('the release workflow against the AWS API emulator', () => {
  test('the environments start as deployed: each serves v1, without a challenger', async () => {
    for (const env of ENVIRONMENTS) {
      expect(await serving(env)).toEqual({
        pointer: v[0],
        challenger: NO_MODEL_RELEASED,
        weight: '10',
        stack: { champion: v[0], challenger: NO_MODEL_RELEASED, weight: '10' },
      });
    }
  });

  test('an approval delivered twice, and approved again, starts one execution, named after the package', async () => {
    // GIVEN the trigger, its Step Functions client pointed at the emulator
    const trigger = createHandler({
      config: {
        stateMachineArn,
        modelPackageGroupName: GROUP,
        modelName: MODEL,
        metricsNamespace: 'cdk-mlops-maturity/Release',
        serviceName: `release-trigger-${MODEL}`,
      },
      stepFunctions: sfn,
      logger: new Logger({ serviceName: 'release-trigger' }),
      metrics: new Metrics({ namespace: 'cdk-mlops-maturity/Release', serviceName: 'release-trigger' }),
    });
    const approval = (id: string, time: string): ModelPackageStateChangeEvent => ({
      version: '0',
      id,
      'detail-type': 'SageMaker Model Package State Change',
      source: 'aws.sagemaker',
      account: ACCOUNT,
      time,
      region: REGION,
      resources: [v[1]],
      detail: {
        ModelPackageGroupName: GROUP,
        ModelPackageVersion: 2,
        ModelPackageArn: v[1],
        ModelApprovalStatus: 'Approved',
        ModelPackageStatus: 'Completed',
      },
    });
    const event = approval('6a7e8feb-b491-4cf7-a9f1-bf3703467718', '2026-11-30T10:00:00Z');

    // WHEN SageMaker delivers the approval twice, then the version is approved again (another event)
    const outcomes: TriggerOutcome[] = [];
    outcomes.push(await trigger(event));
    outcomes.push(await trigger(event));
    outcomes.push(await trigger(approval('0d9d1a4e-3d3c-4c36-9a51-6c1bd1d1c0e2', '2026-11-30T11:00:00Z')));

    // THEN the emulator holds one execution; the same event maps to it, the later one is a duplicate
    const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(executions).toHaveLength(1);
    const [first, again, later] = outcomes;
    expect(first).toMatchObject({ outcome: 'started', executionArn: executions![0].executionArn });
    expect(again).toMatchObject({ executionArn: executions![0].executionArn });
    expect(later).toEqual({ outcome: 'duplicate', executionName: executions![0].name });
    expect(executions![0].name).toMatch(/^v2-[0-9a-f]{32}$/);
  });

  test("that execution's release succeeds: staging, then prod after its approval, each gated, each stack serving v2", async () => {
    // GIVEN the input the trigger started the execution with
    const [{ executionArn }] = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions!;
    const { input } = await sfn.send(new DescribeExecutionCommand({ executionArn }));

    // WHEN it runs
    const run = await execute(JSON.parse(input!));

    // THEN both pointers name v2 and both stacks were updated with it, through the release roles
    expect(run).toMatchObject({ succeeded: true, error: '' });
    for (const env of ENVIRONMENTS) {
      expect(await serving(env)).toMatchObject({ pointer: v[1], stack: { champion: v[1] } });
    }
    expect(run.approvals).toEqual([`Approve the release of model ${MODEL} to prod: ${v[1]}`]);
    expect(run.published).toEqual([
      { subject: `Model ${MODEL} released`, message: `Released ${v[1]} to staging, prod` },
    ]);
  });

  test('a staging update that rolls back: staging gets v2 back, the failure is notified, prod is never touched', async () => {
    // GIVEN staging's next update fails (moto's updates always complete: the proxy rolls it back)
    proxy.shape.rollBackNextUpdate.set(
      'staging-Serving',
      'The following resource(s) failed to update: [Endpoint]',
    );
    const prodBefore = await serving('prod');

    // WHEN v3 is released
    const run = await execute({ modelPackageArn: v[2] });

    // THEN
    expect(run.succeeded).toBe(false);
    expect(await serving('staging')).toMatchObject({ pointer: v[1], stack: { champion: v[1] } });
    expect(await serving('prod')).toEqual(prodBefore);
    expect(run.approvals).toEqual([]);
    expect(run.published).toEqual([
      {
        subject: 'Release to staging failed',
        message: expect.stringMatching(
          new RegExp(
            `^Release of ${v[2]} to staging failed: the update of stack staging-Serving ended in UPDATE_ROLLBACK_COMPLETE ` +
              `\\(The following resource\\(s\\) failed to update: \\[Endpoint\\]\\)\\. The pointer ${pointerOf('staging')} ` +
              `was restored to ${v[1]}\\.`,
          ),
        ),
      },
    ]);
  });

  test('prod unhealthy after its release: prod serves v2 again, staging keeps v3', async () => {
    // GIVEN prod's rollback alarm fires during the soak
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: alarmOf('prod'),
        StateValue: 'ALARM',
        StateReason: 'Threshold Crossed',
      }),
    );
    try {
      // WHEN v3 is released
      const run = await execute({ modelPackageArn: v[2] });

      // THEN the health gate gave prod its previous model back, through a second release
      expect(run.succeeded).toBe(false);
      expect(await serving('staging')).toMatchObject({ pointer: v[2], stack: { champion: v[2] } });
      expect(await serving('prod')).toMatchObject({ pointer: v[1], stack: { champion: v[1] } });
      expect(run.published).toEqual([
        {
          subject: 'Release to prod unhealthy, previous model restored',
          message: `Release of ${v[2]} to prod is unhealthy (["alarm ${alarmOf('prod')} is in ALARM: Threshold Crossed"]): prod serves ${v[1]} again`,
        },
      ]);
    } finally {
      await cloudWatch.send(
        new SetAlarmStateCommand({ AlarmName: alarmOf('prod'), StateValue: 'OK', StateReason: 'recovered' }),
      );
    }
  });

  test('a rejected approval: staging serves the new version, prod is never started', async () => {
    const prodBefore = await serving('prod');

    const run = await execute({ modelPackageArn: v[3] }, { reject: 'the canary in staging looked slow' });

    expect(run.succeeded).toBe(false);
    expect(await serving('staging')).toMatchObject({ pointer: v[3], stack: { champion: v[3] } });
    expect(await serving('prod')).toEqual(prodBefore);
    expect(run.published).toEqual([
      {
        subject: 'Release to prod not approved',
        message: `Release of ${v[3]} to prod was not approved: the canary in staging looked slow`,
      },
    ]);
  });

  test('a challenger started in every environment: its package and its share, in one update each', async () => {
    const run = await execute({ modelPackageArn: v[4], variant: 'challenger', weightPercent: 25 });

    expect(run).toMatchObject({ succeeded: true, error: '' });
    expect(run.approvals).toEqual([
      `Approve the release of model ${MODEL} to prod: ${v[4]} as the challenger, at 25% of the requests`,
    ]);
    expect(await serving('staging')).toEqual({
      pointer: v[3],
      challenger: v[4],
      weight: '25',
      stack: { champion: v[3], challenger: v[4], weight: '25' },
    });
    expect(await serving('prod')).toEqual({
      pointer: v[1],
      challenger: v[4],
      weight: '25',
      stack: { champion: v[1], challenger: v[4], weight: '25' },
    });
  });

  test('the challenger promoted in every environment: the champion serves its package, the challenger nothing', async () => {
    const run = await execute({ promote: true });

    expect(run).toMatchObject({ succeeded: true, error: '' });
    for (const env of ENVIRONMENTS) {
      expect(await serving(env)).toEqual({
        pointer: v[4],
        challenger: NO_MODEL_RELEASED,
        weight: '25',
        stack: { champion: v[4], challenger: NO_MODEL_RELEASED, weight: '25' },
      });
    }
    expect(run.published).toEqual([
      {
        subject: `Model ${MODEL} released`,
        message: "Released the challenger's package as the champion to staging, prod",
      },
    ]);
  });

  test('a malformed input fails the execution at once: nothing is read or written', async () => {
    const before = await parameters();

    const run = await execute({ modelPackageArn: v[2], varient: 'shadow' });

    expect(run.succeeded).toBe(false);
    expect(run.error).toMatch(/InvalidReleaseInput.*has unknown field 'varient'/s);
    expect(run.approvals).toEqual([]);
    expect(await parameters()).toEqual(before);
    expect(run.published).toEqual([]);
  });
});

describe('the stack the emulator reports', () => {
  test('is the one the release updated through the serving-only role', async () => {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'prod-Serving' }));
    expect(Stacks?.[0]?.RoleARN).toBe(`arn:aws:iam::${ACCOUNT}:role/mlops-prod-serving-deploy`);
  });
});
