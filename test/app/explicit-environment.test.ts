import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { createPlatformApp } from '../../bin/platform-app';
import { cdkJsonContext } from '../support/synthesized-app';

describe('the app with an explicit account and region', () => {
  test('synthesizes dev with no context lookup and no dummy value', () => {
    // GIVEN the repository's config with dev pinned to an account and region, as `-c` flags do it,
    // and no cdk.context.json (the App gets no other context)
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'explicit-env-'));
    const { app } = createPlatformApp({
      context: {
        ...cdkJsonContext(),
        'mlops:env': 'dev',
        'mlops:dev:account': '111111111111',
        'mlops:dev:region': 'eu-west-1',
        // prod's level-4 loop runs in dev's account and region
        'mlops:prod:account': '111111111111',
        'mlops:prod:region': 'eu-west-1',
        'mlops:delivery:account': '222222222222',
        'mlops:delivery:region': 'eu-west-1',
      },
      outdir,
    });
    // WHEN synthesized
    const assembly = app.synth();
    // THEN nothing asked for a lookup, and no template holds a placeholder value
    const all = [assembly, ...assembly.nestedAssemblies.map((n) => n.nestedAssembly)];
    expect(all.flatMap((a) => a.manifest.missing ?? [])).toEqual([]);
    const stacks = new CloudAssembly(outdir).nestedAssemblies.flatMap((n) => n.nestedAssembly.stacks);
    expect(stacks.map((s) => s.stackName).sort()).toEqual(['dev-Platform', 'dev-Release', 'dev-Serving']);
    for (const stack of stacks) {
      expect(stack.environment).toMatchObject({ account: '111111111111', region: 'eu-west-1' });
      expect(JSON.stringify(stack.template)).not.toMatch(/dummy/i);
    }
  });
});
