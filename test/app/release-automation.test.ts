import { Template } from 'aws-cdk-lib/assertions';
import { createPlatformApp } from '../../bin/platform-app';
import { nagFindings } from '../support/nag';
import { cdkJsonContext, loadSynthesizedApp, threeAccountContext } from '../support/synthesized-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resources = Record<string, { Type: string; Properties: Json; Condition?: string }>;

// GIVEN the default app as `cdk synth` writes it: dev trains, staging and prod are promoted to
const { stacks } = loadSynthesizedApp();
const templateOf = (name: string) =>
  stacks.find((s) => s.stackName === name)!.template as { Resources: Resources };
const ofType = (name: string, type: string) =>
  Object.entries(templateOf(name).Resources).filter(([, r]) => r.Type === type);

/** Every policy statement attached to the role with `roleName`, in the stack's template. */
function statementsOf(stackName: string, roleName: string) {
  const resources = templateOf(stackName).Resources;
  const [roleId] = Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === roleName,
  )!;
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((ref) => ref.Ref === roleId),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}
const asList = (value: unknown) => (Array.isArray(value) ? value : [value]);

/** The definition of dev's release workflow of `model`, with its Fn::Join flattened to text. */
function workflowDefinition(model: string): string {
  const [, machine] = ofType('dev-Platform', 'AWS::StepFunctions::StateMachine').find(([id]) =>
    id.startsWith(`Release${model.replace(/-/g, '')}Workflow`),
  )!;
  const join = machine.Properties.DefinitionString['Fn::Join'] as [string, Json[]];
  return join[1].map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part)}>`)).join('');
}

describe('release automation of the default app', () => {
  test('dev runs one release workflow per model; staging and prod run none (their state machines measure drift)', () => {
    const machines = (name: string) =>
      ofType(name, 'AWS::StepFunctions::StateMachine').map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(machines('dev-Platform')).toEqual([
      'ReleasetripdurationWorkflowStateMachine',
      'ReleasefareamountWorkflowStateMachine',
    ]);
    for (const env of ['staging', 'prod']) {
      expect(machines(`${env}-Platform`)).toEqual([
        'ModelMonitoringtripdurationDriftWorkflow',
        'ModelMonitoringfareamountDriftWorkflow',
      ]);
    }
  });

  test.each(['trip-duration', 'fare-amount'])(
    "%s: the workflow releases to staging's, then prod's serving stack, through their release and serving roles",
    (model) => {
      const definition = workflowDefinition(model);
      const order = (text: string) => definition.indexOf(text);
      for (const env of ['staging', 'prod']) {
        expect(definition).toContain(`"stackName":"${env}-Serving"`);
        expect(definition).toContain(`"pointerName":"/mlops/${env}/serving/${model}/model-package-arn"`);
        expect(definition).toContain(`:role/mlops-${env}-release`);
        expect(definition).toContain(`:role/mlops-${env}-serving-deploy`);
        expect(definition).toContain(`"endpointName":"mlops-${env}-${model}"`);
      }
      expect(order('"stackName":"staging-Serving"')).toBeLessThan(order('"stackName":"prod-Serving"'));
      // Production, at level 4, takes releases without a person, and so does staging.
      expect(definition).not.toContain('waitForTaskToken');
    },
  );

  test("the health gate's alarms are the target slots' own, by name", () => {
    for (const env of ['staging', 'prod']) {
      const alarms = ofType(`${env}-Serving`, 'AWS::CloudWatch::Alarm').map(
        ([, a]) => a.Properties.AlarmName,
      );
      for (const model of ['trip-duration', 'fare-amount']) {
        for (const name of [
          `mlops-${env}-${model}-rollback-errors`,
          `mlops-${env}-${model}-rollback-latency`,
        ]) {
          expect(alarms).toContain(name);
          expect(workflowDefinition(model)).toContain(`"${name}"`);
        }
      }
    }
  });

  test.each(['staging', 'prod'])(
    '%s: its release role is trusted only by dev’s orchestrator roles and can change nothing but serving',
    (env) => {
      const [, role] = ofType(`${env}-Platform`, 'AWS::IAM::Role').find(
        ([, r]) => r.Properties.RoleName === `mlops-${env}-release`,
      )!;
      const trust = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toHaveLength(1);
      expect(JSON.stringify(trust[0].Condition)).toContain(':role/mlops-release-orchestrator/dev/*');

      const statements = statementsOf(`${env}-Platform`, `mlops-${env}-release`);
      const allowing = (action: string) =>
        statements.filter((s) => s.Effect === 'Allow' && asList(s.Action).includes(action));
      // Passes the serving deploy role, to CloudFormation, and nothing else.
      const pass = allowing('iam:PassRole');
      expect(pass).toHaveLength(1);
      expect(JSON.stringify(pass[0].Resource)).toMatch(
        new RegExp(`ServingDeployRole|mlops-${env}-serving-deploy`),
      );
      expect(pass[0].Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' },
      });
      // Updates its serving stack, only through that role.
      const update = allowing('cloudformation:UpdateStack');
      expect(update).toHaveLength(1);
      expect(JSON.stringify(update[0].Resource)).toContain(`stack/${env}-Serving/*`);
      expect(JSON.stringify(update[0].Condition)).toMatch(/cloudformation:RoleArn/);
      // Writes its environment's pointers only.
      const write = allowing('ssm:PutParameter');
      expect(write).toHaveLength(1);
      expect(JSON.stringify(write[0].Resource)).toContain(`parameter/mlops/${env}/serving/`);
      // And no action anywhere touches IAM but the one PassRole.
      expect(statements.flatMap((s) => asList(s.Action)).filter((a: string) => a.startsWith('iam:'))).toEqual(
        ['iam:PassRole'],
      );
    },
  );

  test.each(['staging', 'prod'])(
    "%s: the serving deploy role passes only the models' roles, to SageMaker, and reads the platform stack's outputs",
    (env) => {
      const statements = statementsOf(`${env}-Platform`, `mlops-${env}-serving-deploy`);
      const iamActions = statements
        .flatMap((s) => asList(s.Action))
        .filter((a: string) => a.startsWith('iam:'));
      expect([...new Set(iamActions)].sort()).toEqual(['iam:CreateServiceLinkedRole', 'iam:PassRole']);
      const pass = statements.filter((s) => asList(s.Action).includes('iam:PassRole'));
      expect(pass).toHaveLength(1);
      expect(pass[0].Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
      });
      expect(
        asList(pass[0].Resource)
          .map((r: Json) => r['Fn::GetAtt'][0])
          .sort(),
      ).toEqual([
        expect.stringMatching(/^Level2fareamountModelRole/),
        expect.stringMatching(/^Level2tripdurationModelRole/),
      ]);
      const describe = statements.find((s) => s.Sid === 'ReadThePlatformStackOutputs');
      expect(JSON.stringify(describe.Resource)).toContain(`stack/${env}-Platform/*`);
    },
  );

  test("each target's model roles may read dev's packages and, in dev's account, only their model's artifacts", () => {
    for (const env of ['staging', 'prod']) {
      for (const model of ['trip-duration', 'fare-amount']) {
        const statements = Object.entries(templateOf(`${env}-Platform`).Resources)
          .filter(
            ([id, r]) =>
              r.Type === 'AWS::IAM::Policy' &&
              id.startsWith(`Level2${model.replace(/-/g, '')}ModelRoleDefaultPolicy`),
          )
          .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
        const reads = statements.find((s) => s.Sid === 'ReadTheSourceModelArtifacts');
        expect(JSON.stringify(reads.Resource)).toContain(`:s3:::*/models/${model}/*`);
        expect(Object.keys(reads.Condition.StringEquals)).toEqual(['s3:ResourceAccount']);
        const describe = statements.filter((s) =>
          asList(s.Action).includes('sagemaker:DescribeModelPackage'),
        );
        expect(JSON.stringify(describe)).toContain(`dev-platform-level2-${model}-modelregistry-`);
      }
    }
  });
});

describe('release automation across accounts', () => {
  // GIVEN dev, staging and prod in three accounts, built in-process without bundling
  const { app, stages } = createPlatformApp({ context: threeAccountContext() });
  const [dev, staging, prod] = stages;
  const devTemplate = Template.fromStack(dev.platform);

  test('production, below level 4 here, waits for a person after staging; staging does not', () => {
    const machines = Object.values(devTemplate.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(2);
    for (const machine of machines) {
      const text = JSON.stringify(machine.Properties.DefinitionString);
      expect(text.match(/waitForTaskToken/g)).toHaveLength(1);
      expect(text.indexOf('waitForTaskToken')).toBeGreaterThan(text.indexOf('staging-Serving'));
      expect(text.indexOf('waitForTaskToken')).toBeLessThan(text.indexOf('prod-Serving'));
    }
  });

  test("dev's registry groups and artifacts are readable by staging's and prod's accounts", () => {
    for (const model of ['trip-duration', 'fare-amount']) {
      const group = Object.values(devTemplate.findResources('AWS::SageMaker::ModelPackageGroup')).find((g) =>
        String(g.Properties.ModelPackageGroupName).includes(model),
      )!;
      expect(JSON.stringify(group.Properties.ModelPackageGroupPolicy)).toMatch(/222222222222.*333333333333/);
    }
    const [bucketPolicy] = Object.values(devTemplate.findResources('AWS::S3::BucketPolicy')).filter((p) =>
      JSON.stringify(p).includes('ReleaseTargetsRead'),
    );
    const reads = (bucketPolicy.Properties.PolicyDocument.Statement as Json[]).filter((s) =>
      String(s.Sid).startsWith('ReleaseTargetsRead'),
    );
    expect(reads.map((s) => s.Sid).sort()).toEqual([
      'ReleaseTargetsReadfareamountArtifacts',
      'ReleaseTargetsReadtripdurationArtifacts',
    ]);
    expect(JSON.stringify(reads)).toMatch(/222222222222.*333333333333/);
  });

  test('each target trusts only the orchestrator roles of dev’s account, and the workflows name the targets’ roles', () => {
    for (const [stage, account] of [
      [staging, '222222222222'],
      [prod, '333333333333'],
    ] as const) {
      const template = Template.fromStack(stage.platform).toJSON() as { Resources: Resources };
      const role = Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === `mlops-${stage.stageName}-release`,
      )!;
      const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(JSON.stringify(trust.Principal)).toContain('111111111111');
      expect(JSON.stringify(trust.Condition)).toContain(
        'arn:aws:iam::111111111111:role/mlops-release-orchestrator/dev/*',
      );
      expect(JSON.stringify(devTemplate.toJSON())).toContain(
        `arn:aws:iam::${account}:role/mlops-${stage.stageName}-release`,
      );
    }
  });

  test('the whole app stays clean under cdk-nag', () => {
    expect(nagFindings(app)).toEqual([]);
  });
});

describe('release automation config reaching the app', () => {
  test('a -c selection of prod alone still names dev’s model package groups, as the whole app does', () => {
    const full = createPlatformApp({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const alone = createPlatformApp({
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'mlops:env': 'prod' },
    });
    const groups = (stage: (typeof full.stages)[number]) =>
      JSON.stringify(Template.fromStack(stage.platform).toJSON()).match(
        /dev-platform-level2-[a-z-]+-modelregistry-[0-9a-f]{8}/g,
      );
    expect(alone.stages.map((s) => s.stageName)).toEqual(['prod']);
    expect(groups(alone.stages[0])).toEqual(groups(full.stages[2]));
    expect(groups(alone.stages[0])).not.toBeNull();
  });

  test('switched off, no environment has a workflow or a release role', () => {
    // Without releases staging and prod cannot reach level 3: they declare 2.
    const { stages } = createPlatformApp({
      context: {
        ...cdkJsonContext(),
        'aws:cdk:bundling-stacks': [],
        'mlops:release:enabled': 'false',
        'mlops:staging:level': '2',
        'mlops:prod:level': '2',
      },
    });
    for (const stage of stages) {
      expect(stage.platform.releaseWorkflows).toEqual([]);
      expect(stage.platform.releaseRole).toBeUndefined();
    }
  });
});

describe('level 3 declared', () => {
  test('staging reaches level 3; without its model monitoring, the contract names the monitoring capabilities alone', () => {
    const staging = (extra: Record<string, unknown>) =>
      createPlatformApp({
        context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'mlops:env': 'staging', ...extra },
      }).app;
    // GIVEN staging as cdk.json declares it (level 3): it synthesizes
    expect(() => staging({}).synth()).not.toThrow();
    // WHEN its monitoring is switched off, THEN release, promotion, guardrails and variants still
    // hold, and the failure names only what monitoring provided
    expect(() => staging({ 'mlops:staging:monitoring': 'false' }).synth()).toThrow(
      /Environment 'staging' declares maturity level 3 \(Automated deployment\) but reaches level 2 \(Automated training\)\. Missing capabilities: model-monitoring \(level 3: [^)]+\), drift-detection \(level 3: [^)]+\), model-quality \(level 3: [^)]+\)\. Fix:/,
    );
  });
});
