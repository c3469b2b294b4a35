import { Template } from 'aws-cdk-lib/assertions';
import { createPlatformApp } from '../../bin/platform-app';
import { cdkJsonContext, loadSynthesizedApp } from '../support/synthesized-app';

type Action = {
  Name: string;
  RunOrder: number;
  ActionTypeId: { Category: string; Provider: string };
  Configuration?: Record<string, unknown>;
};
type PipelineStage = { Name: string; Actions: Action[] };

function pipelineOf(template: Template): { stages: PipelineStage[]; type: string } {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as Array<{
    Properties: { Stages: PipelineStage[]; PipelineType: string };
  }>;
  return { stages: pipeline.Properties.Stages, type: pipeline.Properties.PipelineType };
}

describe('the delivery pipeline of the default app (S3 source)', () => {
  // GIVEN the Delivery stack of the shared synthesis
  const delivery = loadSynthesizedApp().stacks.find((s) => s.stackName === 'Delivery')!;
  const template = Template.fromJSON(delivery.template);
  const { stages, type } = pipelineOf(template);

  test('is a CodePipeline V2 whose stages deploy the environments in config order', () => {
    expect(type).toBe('V2');
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'dev',
      'staging',
      'prod',
    ]);
  });

  test('reads a zip from its S3 source bucket', () => {
    const source = stages[0].Actions[0];
    expect(source.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'S3' });
    expect(source.Configuration).toMatchObject({ S3ObjectKey: 'source.zip' });
  });

  test('a person approves before prod deploys, and only before prod', () => {
    const approvals = stages.flatMap((s) =>
      s.Actions.filter((a) => a.ActionTypeId.Category === 'Approval').map((a) => ({
        stage: s.Name,
        runOrder: a.RunOrder,
      })),
    );
    expect(approvals).toEqual([{ stage: 'prod', runOrder: 1 }]);
    const prodDeploys = stages
      .find((s) => s.Name === 'prod')!
      .Actions.filter((a) => a.ActionTypeId.Category === 'Deploy');
    expect(prodDeploys.length).toBeGreaterThan(0);
    expect(Math.min(...prodDeploys.map((a) => a.RunOrder))).toBeGreaterThan(1);
  });

  test("the build runs the README's install, test and synth commands", () => {
    const buildSpecs = Object.values(template.findResources('AWS::CodeBuild::Project')).map(
      (p) =>
        JSON.parse((p as { Properties: { Source: { BuildSpec: string } } }).Properties.Source.BuildSpec) as {
          phases: {
            build?: { commands: string[] };
            install?: { 'runtime-versions'?: Record<string, string> };
          };
        },
    );
    const synth = buildSpecs.find((b) => b.phases.build?.commands.includes('npm test'))!;
    expect(synth.phases.build!.commands).toEqual(['npm ci', 'npm test', 'npx cdk synth']);
    expect(synth.phases.install?.['runtime-versions']).toEqual({ nodejs: '20', python: '3.12' });
  });

  test('encrypts artifacts with a rotating KMS key', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      ArtifactStore: { EncryptionKey: { Type: 'KMS' } },
    });
    const keys = Object.values(template.findResources('AWS::KMS::Key')) as Array<{
      Properties: { EnableKeyRotation?: boolean };
    }>;
    expect(keys.every((k) => k.Properties.EnableKeyRotation === true)).toBe(true);
  });

  test('failures and pending approvals notify an encrypted topic through EventBridge', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: {
        EventPattern: { 'detail-type'?: string[]; detail?: Record<string, unknown> };
        Targets: Array<{ Arn: unknown }>;
      };
    }>;
    const patterns = rules.map((r) => r.Properties.EventPattern);
    expect(patterns).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ detail: { state: ['FAILED'] } }),
        expect.objectContaining({
          'detail-type': ['CodePipeline Action Execution State Change'],
          detail: expect.objectContaining({ type: { category: ['Approval'] }, state: ['STARTED'] }),
        }),
      ]),
    );
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: {} });
  });
});

describe('the delivery pipeline with a CodeConnections source', () => {
  test('reads the configured repository and branch through the connection', () => {
    const arn =
      'arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab';
    const { delivery } = createPlatformApp({
      context: {
        ...cdkJsonContext(),
        'mlops:delivery:connectionArn': arn,
        'mlops:delivery:repository': 'octo-org/ml-platform',
        'mlops:delivery:branch': 'release',
      },
    });
    const { stages } = pipelineOf(Template.fromStack(delivery!.pipeline.pipeline.stack));
    expect(stages[0].Actions[0]).toMatchObject({
      ActionTypeId: { Category: 'Source', Provider: 'CodeStarSourceConnection' },
      Configuration: { ConnectionArn: arn, FullRepositoryId: 'octo-org/ml-platform', BranchName: 'release' },
    });
    expect(stages.map((s) => s.Name).slice(-3)).toEqual(['dev', 'staging', 'prod']);
  });
});
