import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { createPlatformApp, synthesizePlatform } from '../../bin/platform-app';
import type { MaturityReportDocument } from '../../lib/maturity/maturity-report';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { formatFindings, reportFindings } from '../support/nag';
import { cdkJsonContext, CLI_CONTEXT, loadSynthesizedApp } from '../support/synthesized-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resources = Record<string, { Type: string; Properties: Json }>;

const MODELS = ['trip-duration', 'fare-amount'];

/** The `-c` flags that turn the online gate on in the default app: prod's models serve shadows. */
const ONLINE_GATE_CONTEXT = {
  'mlops:automation:onlineGate:enabled': 'true',
  'mlops:automation:onlineGate:windowHours': '12',
  ...Object.fromEntries(MODELS.map((m) => [`mlops:prod:models.${m}.serving.variant`, 'shadow'])),
};

// GIVEN the default app with the online gate on, synthesized ONCE (bundling is not the subject)
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'online-gate-'));
synthesizePlatform(
  createPlatformApp({
    context: { ...cdkJsonContext(), ...CLI_CONTEXT, ...ONLINE_GATE_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    outdir,
    analyticsReporting: false,
  }),
);
const assembly = new CloudAssembly(outdir);
const stacks = assembly.nestedAssemblies.flatMap((n) => n.nestedAssembly.stacks);
const stackNamed = (name: string) => stacks.find((s) => s.stackName === name)!;
const resourcesOf = (name: string) => (stackNamed(name).template as { Resources: Resources }).Resources;
const ofType = (name: string, type: string) =>
  Object.entries(resourcesOf(name)).filter(([, r]) => r.Type === type);
const report = JSON.parse(
  fs.readFileSync(path.join(outdir, 'maturity-report.json'), 'utf8'),
) as MaturityReportDocument;

/** The definition string of a state machine, its intrinsics flattened to text. */
function flatten(value: Json): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join('');
  const [fn, args] = Object.entries(value as Record<string, Json>)[0];
  if (fn === 'Fn::Join') return (args[1] as Json[]).map(flatten).join(args[0]);
  if (fn === 'Ref') return `<${args}>`;
  if (fn === 'Fn::GetAtt') return `<${(args as string[]).join('.')}>`;
  return `<${fn}>`;
}

/** The logical ids of dev's resources under the construct path `fragment`. */
const devResource = (type: string, fragment: RegExp) =>
  ofType('dev-Platform', type).filter(([id]) => fragment.test(id));

/** The policy documents attached to `roleLogicalId` in dev. */
function devPoliciesOf(roleLogicalId: string): Json[] {
  return ofType('dev-Platform', 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('the default app with the online gate on', () => {
  test.each(MODELS)('dev runs an online gate of %s, trying it as the shadow of prod', (model) => {
    const key = model.replace(/-/g, '');
    const machines = devResource(
      'AWS::StepFunctions::StateMachine',
      new RegExp(`^Automation${key}OnlineGate`),
    );
    expect(machines).toHaveLength(1);
    const definition = JSON.parse(flatten(machines[0][1].Properties.DefinitionString));
    // It releases through the model's own release workflow, twelve hours, then judges
    const releaseMachine = devResource(
      'AWS::StepFunctions::StateMachine',
      new RegExp(`^Release${key}Workflow`),
    )[0][0];
    expect(definition.States.ReleaseShadow.Parameters.StateMachineArn).toBe(`<${releaseMachine}>`);
    expect(definition.States.ReleaseShadow.Parameters.Input).toMatchObject({
      variant: 'shadow',
      onlineTrial: true,
    });
    expect(definition.States.StopShadow.Parameters.Input).toMatchObject({
      stopVariant: 'shadow',
      onlineTrial: true,
    });
    expect(definition.States.Window.Seconds).toBe(12 * 3600);

    // The evaluation function reads prod's endpoint, by the name the app gives it, and its variants
    const fn = ofType('dev-Platform', 'AWS::Lambda::Function').find(
      ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === `online-gate-${model}`,
    )!;
    expect(fn[1].Properties.Environment.Variables).toMatchObject({
      ENDPOINT_NAME: `mlops-prod-${model}`,
      CHAMPION_VARIANT_NAME: 'AllTraffic',
      SHADOW_VARIANT_NAME: 'Shadow',
      PRODUCTION_DATA_PARAMETER_NAME: `/mlops/prod/automation/${model}/production-data`,
      LIVE_METRIC: 'rmse',
      MIN_SAMPLES: '100',
      MARGIN_PERCENT: '1',
    });
    // ... with a role of a name prod can grant
    const roleId = fn[1].Properties.Role['Fn::GetAtt'][0];
    expect(resourcesOf('dev-Platform')[roleId].Properties.RoleName).toBe(`mlops-dev-${model}-online-gate`);
    // The failures go to dev's alarm topic
    expect(JSON.stringify(definition.States.NotifyTrialFailed.Parameters.TopicArn)).toMatch(/AlarmTopic/);
  });

  test.each(MODELS)("the approval gate of %s starts the online gate's trials, and only them", (model) => {
    const key = model.replace(/-/g, '');
    const [gateMachine] = devResource(
      'AWS::StepFunctions::StateMachine',
      new RegExp(`^Automation${key}OnlineGate`),
    );
    const gate = ofType('dev-Platform', 'AWS::Lambda::Function').find(
      ([, f]) =>
        f.Properties.Environment?.Variables?.MODEL_NAME === model &&
        f.Properties.Environment.Variables.ONLINE_GATE_STATE_MACHINE_ARN !== undefined,
    )!;
    expect(gate[1].Properties.Environment.Variables.ONLINE_GATE_STATE_MACHINE_ARN).toEqual({
      Ref: gateMachine[0],
    });
    const statements = devPoliciesOf(gate[1].Properties.Role['Fn::GetAtt'][0]);
    const starts = statements.filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(starts).toEqual([expect.objectContaining({ Effect: 'Allow', Resource: { Ref: gateMachine[0] } })]);
  });

  test.each(MODELS)("prod lets dev's online gate of %s read its captures and ground truth", (model) => {
    const policies = ofType('prod-Platform', 'AWS::IAM::Policy').filter(([, p]) =>
      (p.Properties.Roles as Json[]).includes(`mlops-dev-${model}-online-gate`),
    );
    expect(policies).toHaveLength(1);
    const statements: Json[] = policies[0][1].Properties.PolicyDocument.Statement;
    const text = JSON.stringify(statements);
    expect(text).toContain(`capture/mlops-prod-${model}/*`);
    expect(text).toContain(`ground-truth/mlops-prod-${model}/*`);
    expect(statements.some((s) => [s.Action].flat().includes('kms:Decrypt'))).toBe(true);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => /Put|Delete/.test(a))).toEqual(
      [],
    );
  });

  test.each(MODELS)(
    'the release workflow of %s takes the trials to staging and prod, which serve shadows',
    (model) => {
      const key = model.replace(/-/g, '');
      const [[, machine]] = devResource(
        'AWS::StepFunctions::StateMachine',
        new RegExp(`^Release${key}Workflow`),
      );
      const definition = JSON.parse(flatten(machine.Properties.DefinitionString));
      // cdk.json gives staging shadows too, and neither waits for a person: no environment is skipped
      expect(Object.keys(definition.States).filter((s) => /OnlineTrial/.test(s))).toEqual([]);
      expect(Object.keys(definition.States).filter((s) => /^Approve/.test(s))).toEqual([]);
    },
  );

  test('the maturity report is unchanged: prod at level 4', () => {
    const levels = (r: MaturityReportDocument) =>
      r.environments.map((e) => [e.name, e.declaredLevel, e.achievedLevel, [...e.capabilities].sort()]);
    expect(levels(report)).toEqual(levels(loadSynthesizedApp().report));
    expect(report.environments.find((e) => e.name === 'prod')!.achievedLevel).toBe(4);
  });

  test('cdk-nag AwsSolutions: zero unacknowledged findings', () => {
    // The app's own AwsSolutions plugin ran: its report is there
    expect(fs.existsSync(path.join(outdir, 'validation-report.json'))).toBe(true);
    expect(formatFindings(reportFindings(outdir))).toBe('');
  });

  test('cfn-lint: zero errors and warnings on the changed templates', () => {
    const files = ['dev-Platform', 'prod-Platform'].map((name) =>
      path.join(stackNamed(name).assembly.directory, stackNamed(name).templateFile),
    );
    const { matches, stderr } = cfnLint(['--', ...files]);
    expect(stderr).toBe('');
    expect(formatCfnLint(matches)).toEqual([]);
  });
});

describe('the online gate on, with staging serving no shadow', () => {
  test("staging's releases skip the trials; prod takes them", () => {
    const app = createPlatformApp({
      context: {
        ...cdkJsonContext(),
        ...ONLINE_GATE_CONTEXT,
        'mlops:staging:models.trip-duration.serving.variant': 'challenger',
        'aws:cdk:bundling-stacks': [],
      },
    });
    const dev = app.stages.find((s) => s.stageName === 'dev')!;
    const [trip] = dev.platform.releaseWorkflows.filter(
      (w) => w.node.scope?.node.id === 'Release-trip-duration',
    );
    const states = Object.keys(
      JSON.parse(
        flatten(
          (dev.platform.resolve((trip.stateMachine.node.defaultChild as Json).definitionString) as Json) ??
            '',
        ),
      ).States,
    );
    expect(states.filter((s) => /OnlineTrial/.test(s))).toEqual([
      'StagingTakesOnlineTrial',
      'StagingSkipsOnlineTrial',
    ]);
  });
});
