import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { createSnapshotSerializer, normalizedTemplate } from '../../lib/testing';

/** A stack with a Lambda function whose code is a folder holding `source`, and a bucket. */
function stackWith(source: string, versioned = true): Stack {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-asset-'));
  fs.writeFileSync(path.join(dir, 'index.js'), source);
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': true }, analyticsReporting: true });
  const stack = new Stack(app, 'Subject');
  new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(dir),
  });
  new s3.Bucket(stack, 'Bucket', { versioned });
  return stack;
}

const HANDLER = 'exports.handler = async () => 1;\n';

describe('normalizedTemplate', () => {
  test('a rebuilt asset with the same behaviour leaves the normalized template unchanged', () => {
    // GIVEN two stacks whose only difference is a comment in the function's code
    const a = stackWith(HANDLER);
    const b = stackWith(`// touched\n${HANDLER}`);
    // THEN the raw templates differ (the code's hash), the normalized ones do not
    const raw = (s: Stack) => JSON.stringify(normalizedTemplate(s, { keepAssetHashes: true }));
    expect(raw(a)).not.toEqual(raw(b));
    expect(normalizedTemplate(a)).toEqual(normalizedTemplate(b));
  });

  test('a changed property shows up', () => {
    expect(normalizedTemplate(stackWith(HANDLER, true))).not.toEqual(
      normalizedTemplate(stackWith(HANDLER, false)),
    );
  });

  test('replaces the code hash and drops the bootstrap rule, CDK metadata and asset metadata', () => {
    // WHEN normalized with the defaults
    const template = normalizedTemplate(stackWith(HANDLER)) as {
      Parameters?: Record<string, unknown>;
      Rules?: Record<string, unknown>;
      Conditions?: Record<string, unknown>;
      Resources: Record<
        string,
        { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
      >;
    };
    const resources = Object.values(template.Resources);
    // THEN the function's code key is the placeholder
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function')!;
    expect((fn.Properties!.Code as { S3Key: string }).S3Key).toBe('<asset-hash>.zip');
    // AND the bootstrap version check, the CDK metadata resource and asset metadata are gone
    expect(template.Parameters?.BootstrapVersion).toBeUndefined();
    expect(template.Rules?.CheckBootstrapVersion).toBeUndefined();
    expect(template.Conditions?.CDKMetadataAvailable).toBeUndefined();
    expect(resources.map((r) => r.Type)).not.toContain('AWS::CDK::Metadata');
    expect(Object.keys(fn.Metadata ?? {})).toEqual(['aws:cdk:path']);
    // AND the construct path that explains each logical id is kept
    expect(fn.Metadata!['aws:cdk:path']).toBe('Subject/Fn/Resource');
  });

  test('options keep what the defaults drop, or drop more', () => {
    const stack = stackWith(HANDLER);
    const kept = normalizedTemplate(stack, {
      keepBootstrapVersion: true,
      keepCdkMetadata: true,
      keepAssetHashes: true,
    }) as {
      Parameters: Record<string, unknown>;
      Resources: Record<string, { Type: string; Metadata?: object }>;
    };
    expect(Object.keys(kept.Parameters)).toContain('BootstrapVersion');
    expect(Object.values(kept.Resources).map((r) => r.Type)).toContain('AWS::CDK::Metadata');
    expect(JSON.stringify(kept)).toMatch(/[0-9a-f]{64}\.zip/);

    const lean = normalizedTemplate(stack, {
      keepConstructPaths: false,
      replace: [{ pattern: /index\.handler/g, placeholder: '<handler>' }],
    });
    expect(JSON.stringify(lean)).not.toContain('aws:cdk:path');
    expect(JSON.stringify(lean)).toContain('"Handler":"<handler>"');
  });

  test('accepts a template read from a cloud assembly', () => {
    const template = { Parameters: { BootstrapVersion: {} }, Resources: { A: { Type: 'AWS::SNS::Topic' } } };
    expect(normalizedTemplate(template)).toEqual({ Resources: { A: { Type: 'AWS::SNS::Topic' } } });
    // the input is not modified
    expect(template.Parameters.BootstrapVersion).toEqual({});
  });
});

describe('createSnapshotSerializer', () => {
  test('handles stacks only, and prints the normalized template through the given printer', () => {
    const serializer = createSnapshotSerializer();
    const stack = stackWith(HANDLER);
    expect(serializer.test(stack)).toBe(true);
    expect(serializer.test({ Resources: {} })).toBe(false);
    const printed = serializer.serialize(stack, {}, '', 0, [], (value) => JSON.stringify(value));
    expect(JSON.parse(printed)).toEqual(normalizedTemplate(stack));
    expect(printed).toContain('<asset-hash>.zip');
  });
});
