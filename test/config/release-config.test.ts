import { parsePlatformConfig } from '../../bin/config';
import { MlopsValidationError } from '../../lib/private/errors';

const config = (
  environments: Record<string, unknown>,
  release?: unknown,
  extra: Record<string, unknown> = {},
) => parsePlatformConfig({ mlops: { environments, delivery: false, release }, ...extra });

const TWO_MODELS = { 'trip-duration': {}, 'fare-amount': { workload: 'fare-amount' } };

describe('context.mlops.release', () => {
  test('defaults: the first environment that trains is the source, the later ones are promoted to in order, prod waits for a person', () => {
    // GIVEN a lab below level 2, then dev, staging and prod
    const { release } = config({
      lab: { level: 1 },
      dev: { level: 2 },
      staging: { level: 2, account: '222222222222' },
      prod: { level: 3, account: '333333333333', region: 'eu-west-1' },
    });
    // THEN dev's approvals go to staging, then prod, with a person before prod
    expect(release).toEqual({
      enabled: true,
      source: { environment: 'dev', account: undefined, region: undefined },
      targets: [
        {
          environment: 'staging',
          account: '222222222222',
          region: undefined,
          manualApproval: false,
          models: ['trip-duration'],
        },
        {
          environment: 'prod',
          account: '333333333333',
          region: 'eu-west-1',
          manualApproval: true,
          models: ['trip-duration'],
        },
      ],
      soakMinutes: 10,
      approvalTimeoutHours: 72,
      smokeTests: {},
    });
  });

  test('production at level 4 releases without a person', () => {
    const { release } = config({ dev: { level: 2 }, prod: { level: 4 } });
    expect(release.targets.map((t) => [t.environment, t.manualApproval])).toEqual([['prod', false]]);
  });

  test('a model is promoted only to the environments that run a model of its name', () => {
    const { release } = config({
      dev: { level: 2, models: TWO_MODELS },
      staging: { level: 2 },
      prod: { level: 2, models: TWO_MODELS },
    });
    expect(release.targets.map((t) => [t.environment, t.models])).toEqual([
      ['staging', ['trip-duration']],
      ['prod', ['trip-duration', 'fare-amount']],
    ]);
  });

  test('nothing to promote to, nothing that trains, or switched off: no automation', () => {
    expect(config({ dev: { level: 2 } }).release).toMatchObject({ enabled: false, targets: [] });
    expect(config({ dev: { level: 1 }, prod: { level: 1 } }).release.enabled).toBe(false);
    expect(config({ dev: { level: 2 }, prod: { level: 2 } }, false).release.enabled).toBe(false);
    expect(
      config({ dev: { level: 2 }, prod: { level: 2 } }, undefined, { 'mlops:release:enabled': 'false' })
        .release.enabled,
    ).toBe(false);
  });

  test('explicit source, promotion, approvals, soak, timeout and smoke tests', () => {
    const { release } = config(
      {
        dev: { level: 2 },
        test: { level: 2 },
        staging: { level: 2 },
        prod: { level: 2 },
      },
      {
        source: 'test',
        promotion: ['prod', 'staging'],
        manualApproval: ['staging', 'prod'],
        soakMinutes: 0,
        approvalTimeoutHours: 24,
        smokeTest: { 'trip-duration': { contentType: 'text/csv', body: '1,2,3' } },
      },
    );
    expect(release.source?.environment).toBe('test');
    expect(release.targets.map((t) => [t.environment, t.manualApproval])).toEqual([
      ['prod', true],
      ['staging', true],
    ]);
    expect([release.soakMinutes, release.approvalTimeoutHours]).toEqual([0, 24]);
    expect(release.smokeTests).toEqual({ 'trip-duration': { contentType: 'text/csv', body: '1,2,3' } });
  });

  test('a -c selection still sees every environment: a workflow in dev names staging and prod', () => {
    const { environments, release } = config(
      { dev: { level: 2 }, staging: { level: 2 }, prod: { level: 2 } },
      undefined,
      { 'mlops:env': 'dev', 'mlops:release:soakMinutes': '5' },
    );
    expect(environments.map((e) => e.name)).toEqual(['dev']);
    expect(release.targets.map((t) => t.environment)).toEqual(['staging', 'prod']);
    expect(release.soakMinutes).toBe(5);
  });

  test.each([
    [{ source: 'lab' }, /release\.source 'lab' is invalid: name an environment at level 2 or higher.*'dev'/],
    [{ source: 'nowhere' }, /release\.source 'nowhere' is invalid/],
    [
      { promotion: 'prod' },
      /release\.promotion 'prod' is invalid: list the environments to release to, in order, e\.g\. \["prod"\]/,
    ],
    [{ promotion: ['dev'] }, /release\.promotion\[0\] 'dev' is invalid: it is the source/],
    [
      { promotion: ['lab'] },
      /release\.promotion\[0\] 'lab' is invalid: environment 'lab' is at level 1, which has no serving slot/,
    ],
    [
      { promotion: ['prod', 'prod'] },
      /release\.promotion\[1\] 'prod' is invalid: name each environment once/,
    ],
    [
      { promotion: ['qa'] },
      /release\.promotion\[0\] 'qa' is invalid: name a configured environment: one of lab, dev, prod/,
    ],
    [
      { manualApproval: ['dev'] },
      /release\.manualApproval .* is invalid: list the promoted environments .* promoted: prod/,
    ],
    [{ soakMinutes: 2.5 }, /release\.soakMinutes '2\.5' is invalid: use a whole number from 0 to 1440/],
    [
      { approvalTimeoutHours: 0 },
      /release\.approvalTimeoutHours '0' is invalid: use a whole number from 1 to 168/,
    ],
    [
      { smokeTest: { 'fare-amount': { contentType: 'text/csv', body: '1' } } },
      /release\.smokeTest\.fare-amount .* no model 'fare-amount' is released from 'dev'/,
    ],
    [
      { smokeTest: { 'trip-duration': { contentType: 'csv', body: '1' } } },
      /release\.smokeTest\.trip-duration\.contentType 'csv' is invalid: use a MIME type/,
    ],
    [
      { smokeTest: { 'trip-duration': { contentType: 'text/csv', body: '' } } },
      /release\.smokeTest\.trip-duration\.body '' is invalid: use one request/,
    ],
    [{ soak: 5 }, /context\.mlops\.release.*soak/],
  ])('%j fails naming the key, the value and the fix', (release, message) => {
    const build = () => config({ lab: { level: 1 }, dev: { level: 2 }, prod: { level: 2 } }, release);
    expect(build).toThrow(MlopsValidationError);
    expect(build).toThrow(message);
  });
});
