import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag-v2';
import { createPlatformApp } from '../../bin/platform-app';
import { acknowledgeNagFindings } from '../../lib/private/nag-acknowledgements';
import { acknowledgementsUnder } from '../support/acknowledgements';
import { formatFindings, nagV2Findings, nagV2SuppressionsOf } from '../support/nag';
import { cdkJsonContext, loadSynthesizedApp } from '../support/synthesized-app';

const REASON = 'The role reads every object version of one bucket, which is what its job needs.';

/**
 * A role whose DefaultPolicy, and its wildcard action, only appear after the acknowledgement:
 * cdk-nag 2 then finds AwsSolutions-IAM5[Action::s3:GetObject*] on a resource that did not exist
 * when the acknowledgement was made.
 */
function roleGrantedAfterAcknowledgement(stack: Stack, acknowledge: boolean): void {
  const bucket = s3.Bucket.fromBucketName(stack, 'Data', 'example-data');
  const role = new iam.Role(stack, 'Reader', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
  });
  if (acknowledge) {
    acknowledgeNagFindings(role, { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: REASON });
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject*'], resources: [bucket.bucketArn] }),
  );
}

describe('cdk-nag 2 (Aspects.of(app).add(new AwsSolutionsChecks())) over our acknowledgements', () => {
  test('the default app has zero cdk-nag 2 errors and warnings in every environment', () => {
    // GIVEN the default app, which also registers cdk-nag 3, with cdk-nag 2 added on top
    const { app } = createPlatformApp({ context: cdkJsonContext() });
    // WHEN synthesized
    const findings = nagV2Findings(app);
    // THEN cdk-nag 2 reported nothing: every finding cdk-nag 3 sees acknowledged is suppressed for it too
    expect(formatFindings(findings)).toBe('');
  });

  test('the harness reports a cdk-nag 2 finding (it is not vacuous)', () => {
    // GIVEN an app with a bucket that breaks AwsSolutions-S1 and S10, and no cdk-nag 3
    const app = new App();
    new s3.Bucket(new Stack(app, 'Bad'), 'Bucket');
    // WHEN checked with cdk-nag 2
    const findings = nagV2Findings(app);
    // THEN both findings are reported as errors with the construct path
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'AwsSolutions-S1', severity: 'error', path: 'Bad/Bucket/Resource' }),
        expect.objectContaining({ rule: 'AwsSolutions-S10', severity: 'error', path: 'Bad/Bucket/Resource' }),
      ]),
    );
  });

  test('without the acknowledgement cdk-nag 2 reports the granular IAM5 finding', () => {
    // GIVEN the role, not acknowledged
    const app = new App();
    roleGrantedAfterAcknowledgement(new Stack(app, 'Control'), false);
    // WHEN checked with cdk-nag 2
    const findings = nagV2Findings(app);
    // THEN the finding the other tests acknowledge is there
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
        path: 'Control/Reader/DefaultPolicy/Resource',
      }),
    ]);
  });

  test.each([
    ['before', true],
    ['after', false],
  ])(
    'an acknowledgement reaches resources created after it, with cdk-nag 2 added %s our constructs',
    (_when, checksFirst) => {
      // GIVEN cdk-nag 2 added to the app before or after the acknowledged role is built
      const app = new App();
      if (checksFirst) {
        Aspects.of(app).add(new AwsSolutionsChecks());
      }
      const stack = new Stack(app, 'Stack');
      roleGrantedAfterAcknowledgement(stack, true);
      if (!checksFirst) {
        Aspects.of(app).add(new AwsSolutionsChecks());
      }
      // WHEN synthesized
      const findings = nagV2Findings(app, { addChecks: false });
      // THEN nothing is reported, and the DefaultPolicy carries cdk-nag 2's granular suppression
      expect(formatFindings(findings)).toBe('');
      Template.fromStack(stack).hasResource('AWS::IAM::Policy', {
        Metadata: Match.objectLike({
          cdk_nag: {
            rules_to_suppress: [
              { id: 'AwsSolutions-IAM5', applies_to: ['Action::s3:GetObject*'], reason: REASON },
            ],
          },
        }),
      });
    },
  );

  test('a non-granular acknowledgement becomes a suppression without applies_to', () => {
    // GIVEN a bucket without access logs, acknowledged for S1
    const stack = new Stack(new App(), 'Stack');
    const bucket = new s3.Bucket(stack, 'Bucket');
    acknowledgeNagFindings(bucket, { id: 'AwsSolutions-S1', reason: REASON });
    // THEN its CfnBucket carries the suppression with the rule id alone
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', {
      Metadata: { cdk_nag: { rules_to_suppress: [{ id: 'AwsSolutions-S1', reason: REASON }] } },
    });
  });

  test('a reason outside Latin-1 is stored the way cdk-nag 2 decodes it', () => {
    // GIVEN an acknowledgement whose reason has a character cdk-nag 2 base64-encodes
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true });
    const reason = 'Access logs go to the central log account → not to a bucket in this stack.';
    acknowledgeNagFindings(bucket, { id: 'AwsSolutions-S1', reason });
    // WHEN synthesized with cdk-nag 2
    const findings = nagV2Findings(app);
    // THEN S1 is suppressed, and the template holds the encoded reason that decodes to ours
    expect(findings.map((f) => f.rule)).not.toContain('AwsSolutions-S1');
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', {
      Metadata: {
        cdk_nag: {
          rules_to_suppress: [
            {
              id: 'AwsSolutions-S1',
              reason: Buffer.from(reason).toString('base64'),
              is_reason_encoded: true,
            },
          ],
        },
      },
    });
  });

  test('every cdk-nag 2 suppression in the app carries the reason of a cdk-nag 3 acknowledgement, and back', () => {
    // GIVEN the default app's templates and, from its construct tree, the cdk-nag 3 acknowledgements
    const { stacks } = loadSynthesizedApp();
    const suppressions = stacks.flatMap((s) => nagV2SuppressionsOf(s.template));
    // aws-cdk-lib records an unqualified id under its annotation namespace: `Annotation::AwsSolutions-S1`.
    const acks = acknowledgementsUnder(createPlatformApp({ context: cdkJsonContext() }).app)
      .map((a) => ({ ...a, id: a.id.replace(/^Annotation::/, '') }))
      .filter((a) => a.id.startsWith('AwsSolutions-'));
    const covers = (ackPath: string, resourcePath: string) =>
      resourcePath === ackPath || resourcePath.startsWith(`${ackPath}/`);
    const v3IdOf = (s: { id: string; appliesTo?: string[] }) =>
      s.appliesTo ? `${s.id}[${s.appliesTo[0]}]` : s.id;
    expect(suppressions.length).toBeGreaterThan(0);
    // THEN each suppression matches an acknowledgement on its resource or an enclosing scope, reason for reason
    const unmatched = suppressions.filter(
      (s) => !acks.some((a) => covers(a.path, s.path) && a.id === v3IdOf(s) && a.reason === s.reason),
    );
    expect(unmatched).toEqual([]);
    expect(suppressions.filter((s) => (s.appliesTo ?? []).length > 1)).toEqual([]);
    // AND each acknowledgement reached at least one resource under its scope
    const unreached = acks.filter(
      (a) => !suppressions.some((s) => covers(a.path, s.path) && a.id === v3IdOf(s) && a.reason === s.reason),
    );
    expect(unreached).toEqual([]);
  });
});
