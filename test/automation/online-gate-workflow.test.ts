import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  LiveQualityMetric,
  OnlineGateWorkflow,
  OnlineGateWorkflowProps,
} from '../../lib/automation/online-gate-workflow';
import { cfnLintFindings } from '../../lib/testing';
import { PlatformMonitoring } from '../../lib/monitoring/platform-monitoring';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { RedundantDependsOnLintAcknowledgement } from '../../lib/verification/redundant-depends-on';
import { CFN_LINT } from '../support/cfn-lint';
import { formatFindings, nagFindings } from '../support/nag';
import { StateMachine, aslValidator } from '../../bin/simulation/local-step-functions';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const RELEASE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:trip-duration-release`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:mlops-dev-alarms`;
const CHALLENGER = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/taxi-duration/4`;

function build(props: Partial<OnlineGateWorkflowProps> = {}, monitoring = false) {
  // Bundling is not the subject here.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // As the platform app does: aws-cdk-lib's own DependsOn that a GetAtt already implies (W3005).
  Aspects.of(app).add(new RedundantDependsOnLintAcknowledgement());
  const stack = new Stack(app, 'dev-Platform', { env: { account: ACCOUNT, region: REGION } });
  if (monitoring) {
    new PlatformMonitoring(stack, 'Monitoring', {
      environmentName: 'dev',
      alarmTopic: sns.Topic.fromTopicArn(stack, 'AlarmTopic', TOPIC),
    });
  }
  const gate = new OnlineGateWorkflow(stack, 'OnlineGate', {
    modelName: 'trip-duration',
    modelRegistry: ModelRegistry.fromModelPackageGroupName(stack, 'Registry', 'taxi-duration'),
    releaseStateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Release', RELEASE),
    environmentName: 'prod',
    endpointName: 'mlops-prod-trip-duration',
    productionDataBucketName: 'mlops-prod-artifacts',
    productionDataKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d`,
    notificationTopic: sns.Topic.fromTopicArn(stack, 'Topic', TOPIC),
    shadowWeightPercent: 50,
    ...props,
  });
  return { app, stack, gate };
}

let built: ReturnType<typeof build>;
let template: Template;
let definition: { States: Record<string, Record<string, unknown>>; StartAt: string };

/** The definition with its intrinsics replaced: the partition and the gate function's ARN. */
function definitionOf(t: Template): typeof definition {
  const [machine] = Object.values(t.findResources('AWS::StepFunctions::StateMachine'));
  const flatten = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const [fn, args] = Object.entries(v as Record<string, unknown>)[0];
    if (fn === 'Fn::Join') {
      const [sep, parts] = args as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if (fn === 'Ref' && args === 'AWS::Partition') return 'aws';
    if (fn === 'Fn::GetAtt') return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:online-gate`;
    throw new Error(`unexpected intrinsic ${JSON.stringify(v)}`);
  };
  return JSON.parse(flatten(machine.Properties.DefinitionString));
}

beforeAll(() => {
  built = build({}, true);
  template = Template.fromStack(built.stack);
  definition = definitionOf(template);
});

describe('OnlineGateWorkflow', () => {
  test('the definition passes asl-validator', () => {
    expect(aslValidator(definition).errors).toEqual([]);
  });

  test("the trial releases through the model's release workflow, waits the window, judges and stops the shadow", () => {
    const release = definition.States.ReleaseShadow;
    expect(release.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(release.Parameters).toEqual({
      StateMachineArn: RELEASE,
      'Name.$': "States.Format('{}-shadow', $$.Execution.Name)",
      Input: {
        'modelPackageArn.$': '$.modelPackageArn',
        variant: 'shadow',
        onlineTrial: true,
        weightPercent: 50,
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
    });
    expect(definition.States.Window).toMatchObject({ Type: 'Wait', Seconds: 24 * 3600 });
    expect((definition.States.StopShadow.Parameters as Record<string, unknown>).Input).toMatchObject({
      stopVariant: 'shadow',
    });
  });

  test('the function reads the data location and judges with the configured rules', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PRODUCTION_DATA_PARAMETER_NAME: '/mlops/prod/automation/trip-duration/production-data',
          ENDPOINT_NAME: 'mlops-prod-trip-duration',
          CHAMPION_VARIANT_NAME: 'AllTraffic',
          SHADOW_VARIANT_NAME: 'Shadow',
          LIVE_METRIC: 'rmse',
          MARGIN_PERCENT: '1',
          MIN_SAMPLES: '100',
        }),
      },
      Timeout: 900,
    });
  });

  test("the function's role reads only the data parameter, the capture and label prefixes, and decides packages of the group", () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('GateRole'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement) as Array<{
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }>;
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(
      expect.arrayContaining([
        'kms:Decrypt',
        's3:GetObject',
        's3:ListBucket',
        'sagemaker:DescribeModelPackage',
        'sagemaker:UpdateModelPackage',
        'ssm:GetParameter',
      ]),
    );
    expect(actions.filter((a) => a.startsWith('s3:') || a.endsWith('*'))).toEqual([
      's3:GetObject',
      's3:ListBucket',
    ]);
    const read = statements.find((s) => s.Action === 's3:GetObject')!;
    expect(JSON.stringify(read.Resource)).toContain(':s3:::mlops-prod-artifacts/capture/*');
    expect(JSON.stringify(read.Resource)).toContain(':s3:::mlops-prod-artifacts/ground-truth/*');
  });

  test('PlatformMonitoring alarms on the function and on failed trials, like the other handlers', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) =>
      JSON.stringify(a.Properties),
    );
    expect(alarms.some((a) => a.includes('OnlineGate') && a.includes('Errors'))).toBe(true);
    expect(alarms.some((a) => a.includes('OnlineGate') && a.includes('ExecutionsFailed'))).toBe(true);
  });

  test('no cdk-nag findings', () => {
    expect(formatFindings(nagFindings(built.app))).toBe('');
  });

  test('no cfn-lint findings', () => {
    expect(cfnLintFindings(built.app.synth(), { executable: CFN_LINT })).toEqual([]);
  });

  test('bad props fail at synth, naming the prop, the value and the fix', () => {
    expect(() =>
      build({
        windowHours: 0,
        minSamples: 1.5,
        marginPercent: 100,
        shadowWeightPercent: 0,
        shadowVariantName: 'AllTraffic',
        productionDataBucketName: 's3://mlops-prod-artifacts',
      }),
    ).toThrow(
      new RegExp(
        [
          "windowHours '0' is invalid: use a whole number of hours from 1 to 168",
          "minSamples '1.5' is invalid",
          "shadowWeightPercent '0' is invalid: .*a shadow at 0 gets no traffic",
          "marginPercent '100' is invalid",
          "shadowVariantName 'AllTraffic' is invalid: name the endpoint's shadow variant",
          "productionDataBucketName 's3://mlops-prod-artifacts' is invalid",
        ].join('[\\s\\S]*'),
      ),
    );
  });

  test('the live metric and its rules reach the function', () => {
    const t = Template.fromStack(
      build({ liveMetric: LiveQualityMetric.F1, minSamples: 500, marginPercent: 2, windowHours: 48 }).stack,
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ LIVE_METRIC: 'f1', MIN_SAMPLES: '500', MARGIN_PERCENT: '2' }),
      },
    });
    expect(definitionOf(t).States.Window).toMatchObject({ Seconds: 48 * 3600 });
  });
});

describe('OnlineGateWorkflow, executed locally', () => {
  type Verdict = 'approved' | 'rejected';

  /**
   * Runs the synthesized definition: the release executions and the notifications are recorded,
   * and the gate task returns `verdict` or fails with `evaluateError`.
   */
  async function run(options: { verdict?: Verdict; evaluateError?: string; releaseError?: string }) {
    const releases: Array<Record<string, unknown>> = [];
    const evaluated: unknown[] = [];
    const published: string[] = [];
    const handlers: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {};
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      if (resource.startsWith('arn:aws:states:::states:startExecution.sync')) {
        handlers[name] = async (task) => {
          releases.push(task);
          if (options.releaseError && (task.Input as Record<string, unknown>).onlineTrial) {
            throw Object.assign(new Error(options.releaseError), { name: 'States.TaskFailed' });
          }
          return { Status: 'SUCCEEDED' };
        };
      } else if (resource === 'arn:aws:states:::lambda:invoke') {
        handlers[name] = async (task) => {
          evaluated.push(task.Payload);
          if (options.evaluateError) {
            throw Object.assign(new Error(options.evaluateError), { name: 'OnlineGateError' });
          }
          return { Payload: { outcome: options.verdict, modelPackageArn: CHALLENGER } };
        };
      } else if (resource === 'arn:aws:states:::sns:publish') {
        handlers[name] = async (task) => {
          published.push(String(task.Message));
          return { MessageId: 'm-1' };
        };
      } else {
        throw new Error(`state ${name} calls ${resource}, which the test does not run`);
      }
    }
    const execution = new StateMachine(definition as never).run(
      {
        modelPackageArn: CHALLENGER,
        offline: { reasons: ['offline ok'], numbers: ['Challenger: rmse 4.1'] },
      } as never,
      {
        overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: { Window: 0 } },
        context: {
          Execution: { Name: 'trial-v4-0123456789abcdef0123456789abcdef', Id: 'exec-1' },
          State: { EnteredTime: '2026-12-01T09:00:00Z' },
        } as never,
      },
    );
    const outcome = await execution.result.then(
      () => ({ succeeded: true, error: '' }),
      (error: Error) => ({ succeeded: false, error: `${error.message} ${String(error.cause ?? '')}` }),
    );
    return { ...outcome, releases, evaluated, published };
  }

  test.each<Verdict>(['approved', 'rejected'])(
    'a trial the gate decides (%s) shadows, judges the window, stops the shadow and succeeds',
    async (verdict) => {
      const result = await run({ verdict });

      expect(result.succeeded).toBe(true);
      expect(result.releases.map((r) => [r.Name, r.Input])).toEqual([
        [
          'trial-v4-0123456789abcdef0123456789abcdef-shadow',
          expect.objectContaining({ modelPackageArn: CHALLENGER, variant: 'shadow', onlineTrial: true }),
        ],
        [
          'trial-v4-0123456789abcdef0123456789abcdef-stop',
          expect.objectContaining({ stopVariant: 'shadow' }),
        ],
      ]);
      expect(result.evaluated).toEqual([
        {
          modelPackageArn: CHALLENGER,
          offline: { reasons: ['offline ok'], numbers: ['Challenger: rmse 4.1'] },
          windowStart: '2026-12-01T09:00:00Z',
          windowHours: 24,
        },
      ]);
      expect(result.published).toEqual([]);
    },
  );

  test('a gate that cannot decide stops the shadow, notifies and fails, leaving the package pending', async () => {
    const result = await run({ evaluateError: 'the production data parameter does not exist' });

    expect(result.succeeded).toBe(false);
    expect(result.releases.map((r) => (r.Input as Record<string, unknown>).stopVariant ?? 'trial')).toEqual([
      'trial',
      'shadow',
    ]);
    expect(result.published).toEqual([
      expect.stringMatching(
        /^The online trial of .*\/4 in prod failed \(the production data parameter does not exist\): the shadow was stopped and the package stays pending$/,
      ),
    ]);
  });

  test('a shadow release the release workflow refuses is stopped too, and nothing is judged', async () => {
    const result = await run({ releaseError: '[model-package-not-approved] refused' });

    expect(result.succeeded).toBe(false);
    expect(result.evaluated).toEqual([]);
    expect(result.releases).toHaveLength(2);
    expect(result.published[0]).toMatch(/failed \(\[model-package-not-approved\] refused\)/);
  });
});
