import * as path from 'path';
import * as ts from 'typescript';
import { PipelineDefinition, PipelineValue, ProcessingStep } from '../../lib/training/pipeline-definition';

/*
 * Optional fields of step arguments, written the two usual ways. This file is also a compile-level
 * test: before PipelineValue allowed undefined object values, both functions below failed to
 * type-check (TS2322, "KmsKeyId?: undefined" / "undefined is not assignable to PipelineValue"),
 * which the last test checks with the compiler.
 */

/** A conditional spread of an optional field, widened to `{ KmsKeyId?: string }`. */
function stepWithSpread(outputKey?: string): ProcessingStep {
  const kms = outputKey ? { KmsKeyId: outputKey } : {};
  return new ProcessingStep('Spread', {
    arguments: {
      AppSpecification: { ImageUri: 'image' },
      ProcessingOutputConfig: {
        Outputs: [{ OutputName: 'out', S3Output: { S3Uri: 's3://b/o/', LocalPath: '/opt/out' } }],
        ...kms,
      },
    },
  });
}

/** An optional field given directly, its value possibly undefined. */
function stepWithOptionalValue(volumeKey: string | undefined): ProcessingStep {
  return new ProcessingStep('Direct', {
    arguments: {
      AppSpecification: { ImageUri: 'image' },
      ProcessingResources: {
        ClusterConfig: {
          InstanceCount: 1,
          InstanceType: 'ml.m5.large',
          VolumeSizeInGB: 30,
          VolumeKmsKeyId: volumeKey,
        },
      },
    },
  });
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function renderedArguments(...steps: ProcessingStep[]): Json[] {
  // The model's own rendering, before CloudFormation token resolution (which would drop undefined too).
  const rendered = new PipelineDefinition({ name: 'p', steps }).render() as Json;
  return rendered.Steps.map((s: Json) => s.Arguments);
}

describe('PipelineValue objects with undefined values', () => {
  test('undefined fields are left out of the rendered definition', () => {
    // GIVEN steps whose optional key fields are unset
    // WHEN they are rendered
    const [spread, direct] = renderedArguments(stepWithSpread(undefined), stepWithOptionalValue(undefined));
    // THEN the keys are absent, not null, and the rest is there
    expect(spread.ProcessingOutputConfig).toEqual({
      Outputs: [{ OutputName: 'out', S3Output: { S3Uri: 's3://b/o/', LocalPath: '/opt/out' } }],
    });
    expect('KmsKeyId' in spread.ProcessingOutputConfig).toBe(false);
    expect(Object.keys(direct.ProcessingResources.ClusterConfig)).not.toContain('VolumeKmsKeyId');
    expect(direct.ProcessingResources.ClusterConfig).toEqual({
      InstanceCount: 1,
      InstanceType: 'ml.m5.large',
      VolumeSizeInGB: 30,
    });
  });

  test('set fields are rendered, and still checked against the schema', () => {
    // WHEN
    const [spread, direct] = renderedArguments(
      stepWithSpread('alias/out'),
      stepWithOptionalValue('alias/vol'),
    );
    // THEN
    expect(spread.ProcessingOutputConfig.KmsKeyId).toBe('alias/out');
    expect(direct.ProcessingResources.ClusterConfig.VolumeKmsKeyId).toBe('alias/vol');
    // AND a wrong literal type next to an undefined field is still reported
    const wrong = new ProcessingStep('Wrong', {
      arguments: {
        ProcessingResources: { ClusterConfig: { InstanceCount: '1', VolumeKmsKeyId: undefined } },
      },
    });
    expect(() => new PipelineDefinition({ name: 'p', steps: [wrong] })).toThrow(
      /Arguments\.ProcessingResources\.ClusterConfig\.InstanceCount is "1" but the pipeline definition schema wants an Integer/,
    );
  });

  test('this file type-checks: optional fields compile where the schema allows leaving them out', () => {
    // GIVEN the project's compiler options
    const configPath = path.join(__dirname, '..', '..', 'tsconfig.json');
    const config = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => undefined,
      },
    );
    // WHEN this file is compiled
    const program = ts.createProgram([__filename], { ...config!.options, noEmit: true });
    const diagnostics = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(__filename))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    // THEN there is no error
    expect(diagnostics).toEqual([]);
  });

  test('undefined stays out of lists and of values the schema needs', () => {
    // THEN (type-level: each line would compile if it were allowed)
    // @ts-expect-error a list item cannot be undefined
    const list: PipelineValue = ['a', undefined];
    // @ts-expect-error a value itself cannot be undefined
    const value: PipelineValue = undefined;
    expect([list, value]).toHaveLength(2);
  });
});
