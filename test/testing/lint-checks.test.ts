import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AwsSolutionsChecks as AwsSolutionsChecksV2 } from 'cdk-nag-v2';
import { ArtifactStore } from '../../lib';
import {
  assertNoFindings,
  cdkNagAspectFindings,
  cdkNagFindings,
  cfnLintFindings,
  MlopsAssertionError,
} from '../../lib/testing';
import { CFN_LINT } from '../support/cfn-lint';

const outdir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'kit-lint-'));

describe('cdkNagFindings (cdk-nag 3 validation plugin)', () => {
  test('reports a user bucket that breaks AwsSolutions rules', () => {
    const app = new App({ outdir: outdir() });
    new s3.Bucket(new Stack(app, 'Mine'), 'Bucket');
    const rules = cdkNagFindings(app, new AwsSolutionsChecks(app)).map((f) => `${f.rule} ${f.location}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        'AwsSolutions-S1 Mine/Bucket/Resource',
        'AwsSolutions-S10 Mine/Bucket/Resource',
      ]),
    );
  });

  test("the library's acknowledgements apply: an ArtifactStore has no findings", () => {
    const app = new App({ outdir: outdir() });
    new ArtifactStore(new Stack(app, 'Mine'), 'Store');
    const findings = cdkNagFindings(app, new AwsSolutionsChecks(app));
    expect(() => assertNoFindings(findings, 'cdk-nag')).not.toThrow();
  });
});

describe('cdkNagAspectFindings (cdk-nag 2 aspect)', () => {
  test('reports a user bucket, with the rule and the construct path', () => {
    const app = new App({ outdir: outdir() });
    new s3.Bucket(new Stack(app, 'Mine'), 'Bucket');
    const findings = cdkNagAspectFindings(app, new AwsSolutionsChecksV2());
    expect(findings.map((f) => `${f.level} ${f.rule} ${f.location}`)).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-S1 Mine/Bucket/Resource',
        'error AwsSolutions-S10 Mine/Bucket/Resource',
      ]),
    );
  });

  test("the library's acknowledgements reach cdk-nag 2: a role granted the store's objects is not reported", () => {
    const app = new App({ outdir: outdir() });
    new ArtifactStore(new Stack(app, 'Mine'), 'Store').grantReadWrite(
      new iam.Role(app.node.findChild('Mine') as Stack, 'Reader', {
        assumedBy: new iam.AccountRootPrincipal(),
      }),
    );
    expect(cdkNagAspectFindings(app, new AwsSolutionsChecksV2())).toEqual([]);
  });
});

describe('cfnLintFindings', () => {
  test('lints every template of an assembly and reports a broken one', () => {
    // GIVEN an assembly with an unknown property on a bucket
    const app = new App({ outdir: outdir() });
    new CfnResource(new Stack(app, 'Broken'), 'Bucket', {
      type: 'AWS::S3::Bucket',
      properties: { NotAProperty: true },
    });
    const findings = cfnLintFindings(app.synth(), { executable: CFN_LINT });
    // THEN cfn-lint's error is returned with its rule and where it is
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'E3002',
        level: 'error',
        location: 'Broken.template.json: Resources/Bucket/Properties/NotAProperty',
      }),
    ]);
    expect(() => assertNoFindings(findings, 'cfn-lint')).toThrow(
      /cfn-lint: 1 finding\(s\):\n {2}error E3002 at Broken.template.json/,
    );
  });

  test('names the install command when cfn-lint is missing', () => {
    const app = new App({ outdir: outdir() });
    new s3.Bucket(new Stack(app, 'Mine'), 'Bucket');
    expect(() => cfnLintFindings(app.synth(), { executable: 'no-such-cfn-lint' })).toThrow(
      MlopsAssertionError,
    );
    expect(() => cfnLintFindings(app.synth(), { executable: 'no-such-cfn-lint' })).toThrow(
      /cfn-lint is not installed \(no 'no-such-cfn-lint' found\): install it with 'pip install cfn-lint'/,
    );
  });
});
