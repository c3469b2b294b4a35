import { App, CfnCondition, CfnResource, CfnWaitConditionHandle, Fn, Lazy, Stack, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import {
  BELOW_LEVEL_ZERO,
  Capability,
  MaturityContract,
  MaturityLevel,
  MaturityReport,
  maturityLevelName,
} from '../../lib/maturity';
import { MlopsValidationError } from '../../lib/private/errors';

/** A stand-in tier that provides whatever capabilities a test gives it. */
class FakeTier extends Construct {
  constructor(scope: Construct, id: string, capabilities: Capability[]) {
    super(scope, id);
    // A free resource, so that synthesized stacks are valid templates.
    new CfnWaitConditionHandle(this, 'Handle');
    MaturityContract.provide(this, ...capabilities);
  }
}

const LEVEL0 = Capability.requiredUpTo(MaturityLevel.NO_MLOPS);
const LEVEL1 = Capability.requiredUpTo(MaturityLevel.DEVOPS);

describe('Capability', () => {
  test('every level of the model has capabilities, each with a unique kebab-case name', () => {
    const names = Capability.all().map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^[a-z]+(-[a-z]+)*$/.test(n))).toBe(true);
    for (const level of [0, 1, 2, 3, 4]) {
      expect(Capability.requiredAt(level).length).toBeGreaterThan(0);
    }
  });

  test('the level-0 and level-1 capabilities are those of the model', () => {
    expect(Capability.requiredAt(0).map((c) => c.name)).toEqual(['artifact-store', 'notebook-workspace']);
    expect(Capability.requiredAt(1).map((c) => c.name)).toEqual(['ci-cd', 'automated-tests', 'ops-metrics']);
  });

  test('requiredUpTo includes every lower level and fromName finds by name', () => {
    expect(Capability.requiredUpTo(2).every((c) => c.level <= 2)).toBe(true);
    expect(Capability.requiredUpTo(4)).toEqual(Capability.all());
    expect(Capability.fromName('model-registry')).toBe(Capability.MODEL_REGISTRY);
    expect(Capability.fromName('nope')).toBeUndefined();
  });

  test('level names follow the model', () => {
    expect(maturityLevelName(MaturityLevel.FULL_AUTOMATION)).toBe('Full automation');
  });
});

describe('MaturityContract', () => {
  test('counts capabilities provided anywhere below its scope, across stacks', () => {
    // GIVEN a stage with two stacks, each providing part of level 1
    const stage = new Stage(new App(), 'dev');
    const contract = MaturityContract.declare(stage, {
      environmentName: 'dev',
      declaredLevel: MaturityLevel.DEVOPS,
    });
    new FakeTier(new Stack(stage, 'A'), 'T', LEVEL0);
    new FakeTier(new Stack(stage, 'B'), 'T', Capability.requiredAt(1));
    // THEN it reaches level 1 and names level 2 as next
    expect(contract.achievedLevel).toBe(1);
    expect(contract.missingForNextLevel.map((c) => c.name)).toEqual(
      Capability.requiredAt(2).map((c) => c.name),
    );
    expect(MaturityContract.of(stage.node.findChild('A'))).toBe(contract);
  });

  test('a gap at a lower level caps the achieved level even when higher capabilities exist', () => {
    const stack = new Stack();
    const contract = MaturityContract.declare(stack, { environmentName: 'x', declaredLevel: 0 });
    new FakeTier(stack, 'T', [Capability.ARTIFACT_STORE, ...Capability.requiredAt(1)]);
    expect(contract.achievedLevel).toBe(BELOW_LEVEL_ZERO);
    expect(contract.missingForNextLevel).toEqual([Capability.NOTEBOOK_WORKSPACE]);
    expect(contract.missingFor(MaturityLevel.DEVOPS)).toEqual([Capability.NOTEBOOK_WORKSPACE]);
  });

  test('a shared capability counts and is reported with its source', () => {
    const stack = new Stack();
    const contract = MaturityContract.declare(stack, { environmentName: 'prod', declaredLevel: 0 });
    new FakeTier(stack, 'T', [Capability.ARTIFACT_STORE]);
    contract.shareCapability(Capability.NOTEBOOK_WORKSPACE, 'dev');
    expect(contract.achievedLevel).toBe(0);
    expect(contract.toReport().sharedCapabilities).toEqual({ 'notebook-workspace': 'dev' });
  });

  test('at the top level nothing is missing for the next level', () => {
    const stack = new Stack();
    const contract = MaturityContract.declare(stack, { environmentName: 'x', declaredLevel: 4 });
    new FakeTier(stack, 'T', Capability.all());
    expect(contract.achievedLevel).toBe(4);
    expect(contract.missingForNextLevel).toEqual([]);
  });

  test('synth fails when the declared level is not reached, naming every missing capability', () => {
    // GIVEN an environment that declares level 1 and provides level 0 only
    const app = new App();
    const stack = new Stack(app, 'S');
    MaturityContract.declare(stack, { environmentName: 'staging', declaredLevel: MaturityLevel.DEVOPS });
    new FakeTier(stack, 'T', LEVEL0);
    // THEN synth fails with the environment, the levels, each missing capability and the fix
    expect(() => app.synth()).toThrow(
      /\[S\] Environment 'staging' declares maturity level 1 \(DevOps, no MLOps\) but reaches level 0 \(No MLOps\)\. Missing capabilities: ci-cd .*automated-tests .*ops-metrics .*Fix: add the tiers that provide them, or lower the declared level to 0\./,
    );
  });

  test('synth succeeds when the declared level is reached', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    MaturityContract.declare(stack, { environmentName: 'dev', declaredLevel: MaturityLevel.DEVOPS });
    new FakeTier(stack, 'T', LEVEL1);
    expect(() => app.synth()).not.toThrow();
  });

  test('invalid declarations fail with the prop, the value and the fix', () => {
    const stack = new Stack();
    expect(() =>
      MaturityContract.declare(stack, { environmentName: 'dev', declaredLevel: 5 as MaturityLevel }),
    ).toThrow(/declaredLevel '5' is invalid: use an integer from 0 to 4/);
    expect(() => MaturityContract.declare(stack, { environmentName: '1 bad', declaredLevel: 0 })).toThrow(
      /environmentName '1 bad' is invalid: use letters, digits and hyphens/,
    );
    MaturityContract.declare(stack, { environmentName: 'dev', declaredLevel: 0 });
    expect(() => MaturityContract.declare(stack, { environmentName: 'dev', declaredLevel: 0 })).toThrow(
      MlopsValidationError,
    );
  });

  test('findAll returns every contract in tree order', () => {
    const app = new App();
    const a = MaturityContract.declare(new Stage(app, 'a'), { environmentName: 'a', declaredLevel: 0 });
    const b = MaturityContract.declare(new Stage(app, 'b'), { environmentName: 'b', declaredLevel: 0 });
    expect(MaturityContract.findAll(app)).toEqual([a, b]);
  });
});

describe('always-on resources', () => {
  test('NAT gateways, interface endpoints and endpoints are listed; gateway endpoints are not', () => {
    // GIVEN a stack with billable-while-idle resources and a free gateway endpoint
    const stack = new Stack();
    const contract = MaturityContract.declare(stack, { environmentName: 'x', declaredLevel: 0 });
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1, maxAzs: 1 });
    vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    vpc.addInterfaceEndpoint('Sts', { service: ec2.InterfaceVpcEndpointAwsService.STS });
    const endpoint = new sagemaker.CfnEndpoint(stack, 'Endpoint', { endpointConfigName: 'cfg' });
    endpoint.cfnOptions.condition = new CfnCondition(stack, 'HasModel', {
      expression: Fn.conditionEquals('a', 'b'),
    });
    // THEN each is listed with its type, path, reason and whether it is conditional
    const found = contract.alwaysOnResources.map((r) => [r.type, r.conditional]);
    expect(found).toEqual([
      ['AWS::EC2::NatGateway', false],
      ['AWS::EC2::VPCEndpoint', false],
      ['AWS::SageMaker::Endpoint', true],
    ]);
    expect(contract.alwaysOnResources[1].reason).toBe('Interface VPC endpoints bill per hour and AZ');
    expect(contract.alwaysOnResources[2].path).toBe('Default/Endpoint');
  });
});

describe('MaturityReport', () => {
  // GIVEN an app with one environment at level 1 and one below level 0
  const app = new App();
  const dev = new Stage(app, 'dev');
  MaturityContract.declare(dev, { environmentName: 'dev', declaredLevel: 1 });
  new FakeTier(new Stack(dev, 'S'), 'T', LEVEL1);
  const prod = new Stage(app, 'prod');
  MaturityContract.declare(prod, { environmentName: 'prod', declaredLevel: 0 });
  new FakeTier(new Stack(prod, 'S'), 'T', [Capability.ARTIFACT_STORE]);
  const report = MaturityReport.of(app);

  test('JSON has one entry per environment with the documented fields', () => {
    expect(report.toJson()).toEqual({
      schemaVersion: 2,
      environments: [
        {
          name: 'dev',
          declaredLevel: 1,
          achievedLevel: 1,
          capabilities: LEVEL1.map((c) => c.name),
          sharedCapabilities: {},
          missingForNextLevel: Capability.requiredAt(2).map((c) => c.name),
          alwaysOnResources: [],
          conditionalAlwaysOnResources: [],
          models: [],
          notes: [],
        },
        {
          name: 'prod',
          declaredLevel: 0,
          achievedLevel: -1,
          capabilities: ['artifact-store'],
          sharedCapabilities: {},
          missingForNextLevel: ['notebook-workspace'],
          alwaysOnResources: [],
          conditionalAlwaysOnResources: [],
          models: [],
          notes: [],
        },
      ],
    });
  });

  test('the table shows one aligned row per environment', () => {
    const lines = report.toTable().split('\n');
    expect(lines[0]).toMatch(
      /^environment\s+declared\s+achieved\s+models\s+always-on\s+conditional\s+missing for next level$/,
    );
    expect(lines[2]).toMatch(/^dev\s+1\s+1\s+-\s+0\s+0\s+training-pipeline, experiment-tracking/);
    expect(lines[3]).toMatch(/^prod\s+0\s+-1\s+-\s+0\s+0\s+notebook-workspace$/);
    expect(lines[2].indexOf('1')).toBe(lines[3].indexOf('0'));
  });

  test('Markdown states levels by name and says when nothing bills while idle', () => {
    const md = report.toMarkdown();
    expect(md).toContain('| prod | 0 No MLOps | below 0 | - | notebook-workspace | 0 | 0 |');
    expect(md).toContain('- none: this environment costs nothing per hour while idle');
  });
});

describe('MaturityReport of an environment with models', () => {
  // GIVEN one environment whose single model holds a conditional real-time endpoint
  const app = new App();
  const lab = new Stage(app, 'lab');
  const contract = MaturityContract.declare(lab, { environmentName: 'lab', declaredLevel: 0 });
  const stack = new Stack(lab, 'S');
  new FakeTier(stack, 'T', [Capability.ARTIFACT_STORE, Capability.NOTEBOOK_WORKSPACE]);
  const model = new Construct(stack, 'churn');
  MaturityContract.registerModel(model, {
    name: 'churn',
    pipelineName: 'lab-churn-training',
    modelPackageGroupName: 'lab-churn',
    endpointName: Lazy.string({ produce: () => 'late' }),
    servingMode: 'realTime',
  });
  const endpoint = new CfnResource(model, 'Endpoint', {
    type: 'AWS::SageMaker::Endpoint',
    properties: { EndpointConfigName: 'x' },
  });
  endpoint.cfnOptions.condition = new CfnCondition(stack, 'Released', {
    expression: Fn.conditionEquals('a', 'b'),
  });
  const report = MaturityReport.of(app);

  test('JSON lists the model, names the endpoint as its, and notes that only one runs', () => {
    const [entry] = report.toJson().environments;
    expect(entry.models).toEqual([
      {
        name: 'churn',
        pipelineName: 'lab-churn-training',
        modelPackageGroupName: 'lab-churn',
        // A token cannot be printed: the report says so rather than print '${Token[...]}'.
        endpointName: '(resolved at deploy time)',
        servingMode: 'realTime',
      },
    ]);
    expect(entry.conditionalAlwaysOnResources).toEqual([
      expect.objectContaining({ path: 'lab/S/churn/Endpoint', model: 'churn', conditional: true }),
    ]);
    expect(entry.notes).toEqual([
      'runs one model (churn); the platform runs any number side by side (multiple-models): add a model to train and serve another case',
    ]);
    expect(contract.models.map((m) => m.name)).toEqual(['churn']);
  });

  test('Markdown and the table show the models', () => {
    const md = report.toMarkdown();
    expect(md).toContain('| lab | 0 No MLOps | 0 No MLOps | churn |');
    expect(md).toContain(
      '| churn | `lab-churn-training` | `lab-churn` | `(resolved at deploy time)` | realTime |',
    );
    expect(md).toContain('Note: runs one model (churn);');
    expect(md).toContain('- `AWS::SageMaker::Endpoint` at `lab/S/churn/Endpoint` (model churn):');
    expect(report.toTable().split('\n')[2]).toMatch(/^lab\s+0\s+0\s+churn\s+0\s+1\s/);
  });
});
