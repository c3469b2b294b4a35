import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { createPlatformApp } from '../../bin/platform-app';
import { acknowledgementsUnder } from '../support/acknowledgements';
import { formatFindings, nagFindings, reportFindings } from '../support/nag';
import { cdkJsonContext, loadSynthesizedApp } from '../support/synthesized-app';

describe('cdk-nag AwsSolutions over the whole app', () => {
  test('the default app has zero unacknowledged findings in every environment', () => {
    // GIVEN the default app synthesized once with the AwsSolutions pack registered by the app itself
    const { outdir } = loadSynthesizedApp();
    // THEN no plugin reported a violation
    const findings = reportFindings(outdir);
    expect(formatFindings(findings)).toBe('');
  });

  test('every acknowledgement in the app carries a reason a reviewer can check', () => {
    // GIVEN the app's construct tree (not synthesized: acknowledgements are recorded at construction)
    const { app } = createPlatformApp({ context: cdkJsonContext() });
    const acks = acknowledgementsUnder(app);
    // aws-cdk-lib records its own (CloudFormation-Validate::...) next to ours; ours are the AwsSolutions ones.
    const ours = acks.filter((a) => a.id.includes('AwsSolutions-'));
    // THEN there are some (the app does need a few), every reason is non-empty, and ours explain themselves:
    // eight words is short enough for a precise reason and long enough to rule out "ok" or "n/a".
    expect(ours.length).toBeGreaterThan(0);
    expect(acks.filter((a) => a.reason.trim() === '')).toEqual([]);
    expect(ours.filter((a) => a.reason.trim().split(/\s+/).length < 8)).toEqual([]);
  });

  test('the harness detects a finding (it is not vacuous)', () => {
    // GIVEN an app with a bucket that breaks AwsSolutions-S1 and S10
    const app = new App();
    new s3.Bucket(new Stack(app, 'Bad'), 'Bucket');
    // WHEN synthesized through the same helper
    const findings = nagFindings(app);
    // THEN both findings are reported with the construct path
    expect(findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
    expect(findings[0].path).toBe('Bad/Bucket/Resource');
  });
});
