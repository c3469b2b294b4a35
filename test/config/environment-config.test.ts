import { RemovalPolicy } from 'aws-cdk-lib';
import { parsePlatformConfig } from '../../bin/config';
import { MlopsValidationError } from '../../lib/private/errors';

// Delivery off unless a test is about it: pinning an environment's account then needs no pipeline home.
const envs = (environments: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  mlops: { environments, delivery: false },
  ...extra,
});

// The one model of a level 2+ environment without `models`, with the default serving and training.
const shorthandModel = {
  name: 'trip-duration',
  workload: 'trip-duration',
  serving: { mode: 'serverless' },
  training: { triggerOnNewData: false },
};

describe('parsePlatformConfig', () => {
  test('parses environments in config order with defaults', () => {
    // GIVEN two environments with only their levels
    const config = parsePlatformConfig(envs({ dev: { level: 2 }, prod: { level: 4 } }));
    // THEN order is kept, data is retained by default and only the first gets a workspace
    expect(config.environments).toEqual([
      {
        manualApproval: false,
        githubOidc: undefined,
        name: 'dev',
        level: 2,
        account: undefined,
        region: undefined,
        removalPolicy: RemovalPolicy.RETAIN,
        workspace: { enabled: true, userProfiles: [] },
        models: [shorthandModel],
        monitoring: { enabled: true },
      },
      {
        manualApproval: true,
        githubOidc: undefined,
        name: 'prod',
        level: 4,
        account: undefined,
        region: undefined,
        removalPolicy: RemovalPolicy.RETAIN,
        workspace: { enabled: false, userProfiles: [] },
        models: [shorthandModel],
        monitoring: { enabled: true },
      },
    ]);
  });

  test('reads every key', () => {
    const [env] = parsePlatformConfig(
      envs({
        prod: {
          level: 3,
          account: '123456789012',
          region: 'us-gov-west-1',
          removalPolicy: 'destroy',
          manualApproval: false,
          githubOidc: {
            repository: 'octo/ml',
            gitHubEnvironment: 'prod',
            providerArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
          },
          workspace: {
            enabled: true,
            userProfiles: ['alice', 'bob-2'],
            vpcId: 'vpc-0123456789abcdef0',
            subnetIds: ['subnet-0123456789abcdef0'],
            networkAccess: 'VpcOnly',
            idleTimeoutMinutes: 120,
          },
          serving: {
            mode: 'realTime',
            instanceType: 'ml.c5.xlarge',
            minInstances: 2,
            maxInstances: 6,
            dataCapture: { samplingPercentage: 20, captureResponses: false },
          },
          training: { schedule: 'rate(7 days)', triggerOnNewData: true },
          monitoring: {
            driftSchedule: 'cron(15 * * * ? *)',
            qualitySchedule: 'rate(12 hours)',
            psiThreshold: 0.25,
            driftedFeatureShareThreshold: 0.4,
          },
        },
      }),
    ).environments;
    expect(env).toEqual({
      name: 'prod',
      level: 3,
      account: '123456789012',
      region: 'us-gov-west-1',
      removalPolicy: RemovalPolicy.DESTROY,
      manualApproval: false,
      githubOidc: {
        repository: 'octo/ml',
        branch: undefined,
        gitHubEnvironment: 'prod',
        providerArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
      },
      workspace: {
        enabled: true,
        userProfiles: ['alice', 'bob-2'],
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0'],
        networkAccess: 'VpcOnly',
        idleTimeoutMinutes: 120,
      },
      models: [
        {
          name: 'trip-duration',
          workload: 'trip-duration',
          serving: {
            mode: 'realTime',
            instanceType: 'ml.c5.xlarge',
            minInstances: 2,
            maxInstances: 6,
            memorySizeInMb: undefined,
            maxConcurrency: undefined,
            // The only environment is the last one, production: a canary by default.
            trafficShifting: { kind: 'canary', size: { unit: 'percent', value: 10 }, waitMinutes: 10 },
            rollbackAlarmNames: [],
            dataCapture: { samplingPercentage: 20, captureResponses: false },
          },
          training: { schedule: 'rate(7 days)', triggerOnNewData: true },
        },
      ],
      monitoring: {
        enabled: true,
        driftSchedule: 'cron(15 * * * ? *)',
        qualitySchedule: 'rate(12 hours)',
        psiThreshold: 0.25,
        driftedFeatureShareThreshold: 0.4,
      },
    });
  });

  test('data capture and monitoring: switches, and refused values naming the key, the value and the fix', () => {
    const parse = (env: Record<string, unknown>) =>
      parsePlatformConfig(envs({ prod: { level: 3, ...env } })).environments[0];
    expect(parse({ serving: { mode: 'realTime', dataCapture: true } }).models[0].serving.dataCapture).toEqual(
      {},
    );
    expect(
      parse({ serving: { mode: 'realTime', dataCapture: false } }).models[0].serving.dataCapture,
    ).toBeUndefined();
    expect(parse({ monitoring: false }).monitoring).toEqual({ enabled: false });
    expect(() => parse({ serving: { mode: 'serverless', dataCapture: true } })).toThrow(
      /serving\.dataCapture 'true' is invalid: it applies to mode realTime only/,
    );
    expect(() =>
      parse({ serving: { mode: 'realTime', dataCapture: { samplingPercentage: 0, sampling: 5 } } }),
    ).toThrow(/serving\.dataCapture\.samplingPercentage '0' is invalid: use a whole number from 1 to 100/);
    expect(() =>
      parse({ monitoring: { driftSchedule: 'hourly', psiThreshold: -1, driftedFeatureShareThreshold: 3 } }),
    ).toThrow(
      /monitoring\.driftSchedule 'hourly' is invalid: use an EventBridge schedule expression[\s\S]*monitoring\.psiThreshold '-1' is invalid[\s\S]*monitoring\.driftedFeatureShareThreshold '3' is invalid: use a share from 0 to 1/,
    );
    expect(() => parsePlatformConfig(envs({ dev: { level: 1, monitoring: true } }))).toThrow(
      /environments\.dev\.monitoring 'true' is invalid: it applies from level 2 and the level is 1/,
    );
  });

  test('serving and training problems name the key, the value and the fix', () => {
    const parse = (dev: Record<string, unknown>) => () =>
      parsePlatformConfig(envs({ dev: { level: 2, ...dev } }));
    expect(parse({ serving: { mode: 'gpu' } })).toThrow(
      /environments\.dev\.serving\.mode 'gpu' is invalid: use one of serverless, realTime/,
    );
    expect(parse({ serving: { mode: 'serverless', instanceType: 'ml.m5.large' } })).toThrow(
      /serving\.instanceType 'ml\.m5\.large' is invalid: it applies to mode realTime only/,
    );
    expect(parse({ serving: { mode: 'realTime', maxConcurrency: 4 } })).toThrow(
      /serving\.maxConcurrency '4' is invalid: it applies to mode serverless only/,
    );
    expect(parse({ serving: { mode: 'realTime', minInstances: 0 } })).toThrow(
      /serving\.minInstances '0' is invalid: use a positive whole number/,
    );
    expect(parse({ serving: { mod: 'realTime' } })).toThrow(
      /serving\.mod is not a known key: did you mean 'mode'/,
    );
    expect(parse({ training: { schedule: 'every day' } })).toThrow(
      /training\.schedule 'every day' is invalid: use an EventBridge schedule expression/,
    );
    expect(parse({ training: { triggerOnNewData: 'yes' } })).toThrow(
      /training\.triggerOnNewData 'yes' is invalid: use true or false/,
    );
  });

  test('workspace may be a boolean', () => {
    const config = parsePlatformConfig(
      envs({ dev: { level: 0, workspace: false }, prod: { level: 0, workspace: true } }),
    );
    expect(config.environments.map((e) => e.workspace.enabled)).toEqual([false, true]);
  });

  describe('-c overrides', () => {
    test('mlops:<env>:<key> sets a key, reading JSON values', () => {
      const config = parsePlatformConfig(
        envs(
          { dev: { level: 0 } },
          {
            'mlops:dev:level': '2',
            'mlops:dev:workspace.userProfiles': '["ann"]',
            'mlops:dev:region': 'eu-west-1',
          },
        ),
      );
      expect(config.environments[0]).toMatchObject({
        level: 2,
        region: 'eu-west-1',
        workspace: { userProfiles: ['ann'] },
      });
    });

    test('mlops:env selects and keeps config order', () => {
      const config = parsePlatformConfig(
        envs({ a: { level: 0 }, b: { level: 0 }, c: { level: 0 } }, { 'mlops:env': 'c, a' }),
      );
      expect(config.environments.map((e) => e.name)).toEqual(['a', 'c']);
    });

    test('mlops as a JSON string replaces the config', () => {
      const config = parsePlatformConfig({ mlops: '{"environments":{"solo":{"level":1}}}' });
      expect(config.environments.map((e) => [e.name, e.level])).toEqual([['solo', 1]]);
    });

    test('overrides do not mutate the context they were read from', () => {
      const context = envs({ dev: { level: 0 } }, { 'mlops:dev:level': '1' });
      parsePlatformConfig(context);
      expect(context.mlops.environments).toEqual({ dev: { level: 0 } });
    });
  });

  describe('invalid config names the key, the value and the fix', () => {
    test.each<[string, Record<string, unknown>, RegExp]>([
      [
        'no config',
        {},
        /context\.mlops\.environments \(undefined\) is invalid: define at least one environment/,
      ],
      [
        'empty environments',
        envs({}),
        /context\.mlops\.environments '\{\}' is invalid: define at least one environment/,
      ],
      ['bad JSON', { mlops: '{nope' }, /context\.mlops '\{nope' is invalid: pass a JSON object/],
      [
        'unknown top-level key',
        { mlops: { environments: { dev: { level: 0 } }, extra: 1 } },
        /context\.mlops\.extra is not a known key: use one of environments/,
      ],
      [
        'level out of range',
        envs({ dev: { level: 5 } }),
        /dev\.level '5' is invalid: use an integer maturity level from 0 to 4/,
      ],
      ['level not an integer', envs({ dev: { level: 1.5 } }), /dev\.level '1\.5' is invalid/],
      ['level missing', envs({ dev: {} }), /dev\.level \(undefined\) is invalid/],
      ['level as a string in cdk.json', envs({ dev: { level: '2' } }), /dev\.level '2' is invalid/],
      [
        'unknown key with a suggestion',
        envs({ dev: { level: 0, regoin: 'eu-west-1' } }),
        /dev\.regoin is not a known key: did you mean 'region'\? use one of level, account, region, removalPolicy, workspace/,
      ],
      [
        'unknown key without a suggestion',
        envs({ dev: { level: 0, colour: 'red' } }),
        /dev\.colour is not a known key: use one of/,
      ],
      [
        'account too short',
        envs({ dev: { level: 0, account: '1234' } }),
        /dev\.account '1234' is invalid: use a 12-digit AWS account id/,
      ],
      [
        'account as a number',
        envs({ dev: { level: 0, account: 123456789012 } }),
        /dev\.account '123456789012' is invalid: use a 12-digit AWS account id as a string/,
      ],
      [
        'region malformed',
        envs({ dev: { level: 0, region: 'EU_WEST_1' } }),
        /dev\.region 'EU_WEST_1' is invalid: use an AWS region code/,
      ],
      [
        'removal policy unknown',
        envs({ dev: { level: 0, removalPolicy: 'snapshot' } }),
        /dev\.removalPolicy 'snapshot' is invalid: use one of retain, destroy/,
      ],
      [
        'environment name',
        envs({ Dev_1: { level: 0 } }),
        /Dev_1 \(environment name\) 'Dev_1' is invalid: use 1-20 lower-case letters/,
      ],
      [
        'environment not an object',
        envs({ dev: 2 }),
        /environments\.dev '2' is invalid: use an object such as \{"level": 0\}/,
      ],
      [
        'workspace key',
        envs({ dev: { level: 0, workspace: { enable: true } } }),
        /dev\.workspace\.enable is not a known key: did you mean 'enabled'\?/,
      ],
      [
        'workspace type',
        envs({ dev: { level: 0, workspace: 'yes' } }),
        /dev\.workspace 'yes' is invalid: use true, false or an object/,
      ],
      [
        'workspace enabled type',
        envs({ dev: { level: 0, workspace: { enabled: 'yes' } } }),
        /workspace\.enabled 'yes' is invalid: use true or false/,
      ],
      [
        'profile name',
        envs({ dev: { level: 0, workspace: { userProfiles: ['bad name'] } } }),
        /workspace\.userProfiles '\["bad name"\]' is invalid: use a list of names/,
      ],
      [
        'duplicate profiles',
        envs({ dev: { level: 0, workspace: { userProfiles: ['a', 'a'] } } }),
        /workspace\.userProfiles '\["a","a"\]' is invalid: remove the duplicate names/,
      ],
      [
        'vpc without subnets',
        envs({ dev: { level: 0, workspace: { vpcId: 'vpc-0123456789abcdef0' } } }),
        /workspace\.vpcId 'vpc-0123456789abcdef0' is invalid: give vpcId and subnetIds together/,
      ],
      [
        'malformed vpc id',
        envs({ dev: { level: 0, workspace: { vpcId: 'vpc1', subnetIds: ['subnet-0123456789abcdef0'] } } }),
        /workspace\.vpcId 'vpc1' is invalid: use a VPC id/,
      ],
      [
        'malformed subnets',
        envs({ dev: { level: 0, workspace: { vpcId: 'vpc-0123456789abcdef0', subnetIds: [] } } }),
        /workspace\.subnetIds '\[\]' is invalid: use a non-empty list of subnet ids/,
      ],
      [
        'network access',
        envs({ dev: { level: 0, workspace: { networkAccess: 'Open' } } }),
        /workspace\.networkAccess 'Open' is invalid: use one of PublicInternetOnly, VpcOnly/,
      ],
      [
        'idle timeout',
        envs({ dev: { level: 0, workspace: { idleTimeoutMinutes: 5 } } }),
        /workspace\.idleTimeoutMinutes '5' is invalid: use a whole number of minutes from 60 to 525600/,
      ],
      [
        'selection of a missing environment',
        envs({ dev: { level: 0 } }, { 'mlops:env': 'prod' }),
        /context mlops:env 'prod' is invalid: name environments that exist, comma-separated: dev/,
      ],
      [
        'empty selection',
        envs({ dev: { level: 0 } }, { 'mlops:env': ' , ' }),
        /context mlops:env ' , ' is invalid/,
      ],
      [
        'override of a missing environment',
        envs({ dev: { level: 0 } }, { 'mlops:qa:level': '1' }),
        /context key 'mlops:qa:level' names environment 'qa', which does not exist: use one of dev/,
      ],
      [
        'malformed override key',
        envs({ dev: { level: 0 } }, { 'mlops:dev': '1' }),
        /context key 'mlops:dev' is not a valid override: use -c mlops:<environment>:<key>=<value>/,
      ],
      [
        'override to a bad value',
        envs({ dev: { level: 0 } }, { 'mlops:dev:level': 'high' }),
        /dev\.level 'high' is invalid/,
      ],
    ])('%s', (_name, context, message) => {
      expect(() => parsePlatformConfig(context)).toThrow(MlopsValidationError);
      expect(() => parsePlatformConfig(context)).toThrow(message);
    });

    test('every problem is reported at once', () => {
      let error: MlopsValidationError | undefined;
      try {
        parsePlatformConfig(envs({ dev: { level: 9, account: 'x', region: 'y' } }));
      } catch (e) {
        error = e as MlopsValidationError;
      }
      expect(error?.problems).toHaveLength(3);
      expect(error?.message).toMatch(/^Invalid platform config:\n {2}- /);
    });
  });
});

describe('-c overrides keep text keys as text', () => {
  test('an account with a leading zero stays a 12-digit string', () => {
    const config = parsePlatformConfig({
      mlops: { environments: { prod: { level: 0 } }, delivery: false },
      'mlops:prod:account': '012345678901',
    });
    expect(config.environments[0].account).toBe('012345678901');
  });
});

describe('delivery and per-environment delivery keys', () => {
  test('the pipeline is on by default with an S3 source, and only the last environment needs an approval', () => {
    const config = parsePlatformConfig({
      mlops: { environments: { dev: { level: 1 }, staging: { level: 1 }, prod: { level: 1 } } },
    });
    expect(config.delivery).toEqual({
      enabled: true,
      branch: 'main',
      connectionArn: undefined,
      repository: undefined,
      account: undefined,
      region: undefined,
    });
    expect(config.environments.map((e) => e.manualApproval)).toEqual([false, false, true]);
  });

  test('a CodeConnections source, pipeline home and per-environment approval', () => {
    const arn =
      'arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab';
    const config = parsePlatformConfig({
      mlops: {
        environments: {
          dev: { level: 1, manualApproval: true },
          prod: { level: 1, account: '444455556666', region: 'eu-west-1', manualApproval: false },
        },
        delivery: {
          connectionArn: arn,
          repository: 'octo/ml',
          branch: 'release',
          account: '111122223333',
          region: 'eu-west-1',
        },
      },
    });
    expect(config.delivery).toEqual({
      enabled: true,
      connectionArn: arn,
      repository: 'octo/ml',
      branch: 'release',
      account: '111122223333',
      region: 'eu-west-1',
    });
    expect(config.environments.map((e) => e.manualApproval)).toEqual([true, false]);
  });

  test('-c mlops:delivery:<key> overrides a delivery key', () => {
    const config = parsePlatformConfig({
      mlops: { environments: { dev: { level: 0 } } },
      'mlops:delivery:enabled': 'false',
    });
    expect(config.delivery.enabled).toBe(false);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'delivery type',
      { delivery: 'yes' },
      /context\.mlops\.delivery 'yes' is invalid: use true, false or an object/,
    ],
    [
      'connection ARN',
      { delivery: { connectionArn: 'arn:aws:s3:::bucket', repository: 'o/r' } },
      /delivery\.connectionArn 'arn:aws:s3:::bucket' is invalid: use the ARN of an AWS CodeConnections connection/,
    ],
    [
      'repository alone',
      { delivery: { repository: 'o/r' } },
      /delivery\.connectionArn 'o\/r' is invalid: give connectionArn and repository together/,
    ],
    [
      'oidc without repository',
      { environments: { dev: { level: 1, githubOidc: { branch: 'main' } } } },
      /dev\.githubOidc\.repository \(undefined\) is invalid: use "owner\/name" exactly as on GitHub/,
    ],
    [
      'oidc provider ARN',
      {
        environments: {
          dev: { level: 1, githubOidc: { repository: 'o/r', providerArn: 'arn:aws:iam::1:role/x' } },
        },
      },
      /githubOidc\.providerArn 'arn:aws:iam::1:role\/x' is invalid/,
    ],
    [
      'approval type',
      { environments: { dev: { level: 1, manualApproval: 'yes' } } },
      /dev\.manualApproval 'yes' is invalid: use true or false/,
    ],
    // Blocks of tiers above the level used to be dropped without a word.
    [
      'oidc below level 1',
      { environments: { dev: { level: 0, githubOidc: { repository: 'o/r' } } } },
      /dev\.githubOidc '\{"repository":"o\/r"\}' is invalid: it applies from level 1 and the level is 0: raise level or remove it/,
    ],
    [
      'serving below level 2',
      { environments: { dev: { level: 1, serving: { mode: 'realTime' } } } },
      /dev\.serving '\{"mode":"realTime"\}' is invalid: it applies from level 2 and the level is 1/,
    ],
    [
      'training below level 2',
      { environments: { dev: { level: 0, training: { triggerOnNewData: true } } } },
      /dev\.training '\{"triggerOnNewData":true\}' is invalid: it applies from level 2 and the level is 0/,
    ],
  ])('invalid %s', (_name, mlops, message) => {
    const context = { mlops: { environments: { dev: { level: 1 } }, ...mlops } };
    expect(() => parsePlatformConfig(context)).toThrow(message);
  });
});

// What a real-time slot of the last environment (here the only one) shifts traffic with by default.
const LAST_ENVIRONMENT_CANARY = { kind: 'canary', size: { unit: 'percent', value: 10 }, waitMinutes: 10 };

describe('models', () => {
  const at = 'context\\.mlops\\.environments\\.dev';
  const parse =
    (dev: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    () =>
      parsePlatformConfig(envs({ dev: { level: 2, ...dev } }, extra));
  const models = (dev: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    parse(dev, extra)().environments[0].models;

  test('a map of models is parsed in config order with every key', () => {
    expect(
      models({
        models: {
          'trip-duration': {
            workload: 'trip-duration',
            maxRmse: 6.5,
            training: { schedule: 'rate(7 days)' },
          },
          'fare-amount': {
            workload: 'fare-amount',
            maxRmse: 4,
            maxFare: 300,
            serving: { mode: 'realTime', instanceType: 'ml.m5.large' },
            training: { triggerOnNewData: true },
          },
        },
      }),
    ).toStrictEqual([
      {
        name: 'trip-duration',
        workload: 'trip-duration',
        maxRmse: 6.5,
        maxFare: undefined,
        serving: { mode: 'serverless' },
        training: { schedule: 'rate(7 days)', triggerOnNewData: false },
      },
      {
        name: 'fare-amount',
        workload: 'fare-amount',
        maxRmse: 4,
        maxFare: 300,
        serving: {
          mode: 'realTime',
          instanceType: 'ml.m5.large',
          minInstances: undefined,
          maxInstances: undefined,
          memorySizeInMb: undefined,
          maxConcurrency: undefined,
          trafficShifting: LAST_ENVIRONMENT_CANARY,
          rollbackAlarmNames: [],
        },
        training: { schedule: undefined, triggerOnNewData: true },
      },
    ]);
  });

  test('without models, one trip-duration model takes the environment-level serving and training', () => {
    expect(
      models({
        serving: { mode: 'realTime' },
        training: { schedule: 'rate(1 day)', triggerOnNewData: true },
      }),
    ).toStrictEqual([
      {
        name: 'trip-duration',
        workload: 'trip-duration',
        maxRmse: undefined,
        maxFare: undefined,
        serving: {
          mode: 'realTime',
          instanceType: undefined,
          minInstances: undefined,
          maxInstances: undefined,
          memorySizeInMb: undefined,
          maxConcurrency: undefined,
          trafficShifting: LAST_ENVIRONMENT_CANARY,
          rollbackAlarmNames: [],
        },
        training: { schedule: 'rate(1 day)', triggerOnNewData: true },
      },
    ]);
  });

  test('below level 2 there are no models', () => {
    const config = parsePlatformConfig(envs({ dev: { level: 0 }, prod: { level: 1 } }));
    expect(config.environments.map((e) => e.models)).toEqual([[], []]);
  });

  test('the workload defaults to the name when the name is a workload, and may be any with another name', () => {
    expect(
      models({
        models: { 'fare-amount': {}, 'trip-duration': {}, fares2: { workload: 'fare-amount', maxFare: 250 } },
      }).map((m) => [m.name, m.workload, m.maxFare]),
    ).toEqual([
      ['fare-amount', 'fare-amount', undefined],
      ['trip-duration', 'trip-duration', undefined],
      ['fares2', 'fare-amount', 250],
    ]);
  });

  test('a model named after no workload needs one', () => {
    expect(parse({ models: { fares: {} } })).toThrow(
      new RegExp(
        `${at}\\.models\\.fares\\.workload \\(undefined\\) is invalid: the model's name is not a workload, ` +
          'so give one: use one of trip-duration, fare-amount',
      ),
    );
    expect(parse({ models: { 'fare-amount': { workload: 'fare' } } })).toThrow(
      new RegExp(
        `${at}\\.models\\.fare-amount\\.workload 'fare' is invalid: use one of trip-duration, fare-amount`,
      ),
    );
  });

  test.each(['Fares', 'fares-', '1fares', 'a'.repeat(33), 'fare--amount', 'fare_amount'])(
    'model name %s is refused',
    (name) => {
      expect(parse({ models: { [name]: { workload: 'fare-amount' } } })).toThrow(
        `environments.dev.models.${name} (model name) '${name}' is invalid: use 1-32 lower-case letters, ` +
          'digits and single hyphens, starting with a letter and not ending with a hyphen',
      );
    },
  );

  test('a 32-character name is accepted', () => {
    const name = `f${'a'.repeat(30)}1`;
    expect(models({ models: { [name]: { workload: 'fare-amount' } } }).map((m) => m.name)).toEqual([name]);
  });

  test('names that differ only in hyphens are refused, naming both', () => {
    expect(
      parse({
        models: { 'ab-c': { workload: 'fare-amount' }, 'a-bc': { workload: 'trip-duration' } },
      }),
    ).toThrow(
      "environments.dev.models.a-bc (model name) 'a-bc' is invalid: models 'ab-c' and 'a-bc' differ only " +
        "in hyphens, which logical ids drop (both become 'abc'): rename one",
    );
    expect(
      parse({ models: { abc: { workload: 'fare-amount' }, 'a-bc': { workload: 'fare-amount' } } }),
    ).toThrow(/models 'abc' and 'a-bc' differ only in hyphens/);
  });

  test.each<[string, unknown]>([
    ['an empty map', {}],
    ['a list', [{ workload: 'fare-amount' }]],
    ['a string', 'fare-amount'],
  ])('models as %s is refused', (_name, value) => {
    expect(parse({ models: value })).toThrow(
      new RegExp(
        `${at}\\.models '.*' is invalid: define at least one model, e.g. \\{"trip-duration": \\{\\}\\}`,
      ),
    );
  });

  test('a model that is not an object is refused', () => {
    expect(parse({ models: { 'fare-amount': 'realTime' } })).toThrow(
      new RegExp(`${at}\\.models\\.fare-amount 'realTime' is invalid: use an object such as \\{"workload"`),
    );
  });

  test('models below level 2 are refused', () => {
    expect(() => parsePlatformConfig(envs({ dev: { level: 1, models: { 'fare-amount': {} } } }))).toThrow(
      `environments.dev.models '{"fare-amount":{}}' is invalid: it applies from level 2 and the level is 1: ` +
        'raise level or remove it',
    );
  });

  test('models with an environment-level serving or training are refused, naming the key and the fix', () => {
    let error: MlopsValidationError | undefined;
    try {
      parse({
        serving: { mode: 'realTime' },
        training: { schedule: 'rate(7 days)' },
        models: { 'fare-amount': {} },
      })();
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toEqual([
      `context.mlops.environments.dev.serving '{"mode":"realTime"}' is invalid: it is the one-model ` +
        'shorthand and cannot come with models: move it into each model, e.g. models.fare-amount.serving',
      `context.mlops.environments.dev.training '{"schedule":"rate(7 days)"}' is invalid: it is the ` +
        'one-model shorthand and cannot come with models: move it into each model, e.g. models.fare-amount.training',
    ]);
  });

  test('maxFare is refused for a trip-duration model', () => {
    expect(parse({ models: { 'trip-duration': { maxFare: 300 } } })).toThrow(
      "environments.dev.models.trip-duration.maxFare '300' is invalid: it applies to workload fare-amount " +
        'only and the workload is trip-duration: remove it or change workload',
    );
  });

  test.each<[string, unknown]>([
    ['maxRmse', 0],
    ['maxRmse', -1],
    ['maxRmse', '4'],
    ['maxFare', 0],
    ['maxFare', 'many'],
  ])('%s %j is refused', (key, value) => {
    expect(parse({ models: { 'fare-amount': { [key]: value } } })).toThrow(
      new RegExp(
        `${at}\\.models\\.fare-amount\\.${key} '${String(value)}' is invalid: use a positive number.*, or leave it out`,
      ),
    );
  });

  test('serving and training of a model are checked as the environment-level ones, at their own key', () => {
    expect(parse({ models: { 'fare-amount': { serving: { mode: 'gpu' } } } })).toThrow(
      "environments.dev.models.fare-amount.serving.mode 'gpu' is invalid: use one of serverless, realTime",
    );
    expect(parse({ models: { 'fare-amount': { training: { schedule: 'daily' } } } })).toThrow(
      "environments.dev.models.fare-amount.training.schedule 'daily' is invalid: use an EventBridge schedule expression",
    );
  });

  test('an unknown model key is reported with a suggestion', () => {
    expect(parse({ models: { 'fare-amount': { maxRMSE: 4 } } })).toThrow(
      "environments.dev.models.fare-amount.maxRMSE is not a known key: did you mean 'maxRmse'? " +
        'use one of workload, maxRmse, maxFare, serving, training',
    );
  });

  test('every model problem is reported at once', () => {
    let error: MlopsValidationError | undefined;
    try {
      parse({ models: { Bad: { workload: 'fare-amount' }, fares: { maxRmse: 0 } } })();
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toHaveLength(3);
  });

  describe('-c overrides of a model key', () => {
    const fare = { 'fare-amount': { serving: { mode: 'realTime', instanceType: 'ml.m5.large' } } };

    test('set a key of a configured model, reading JSON for numbers', () => {
      const [trip, model] = models(
        { models: { 'trip-duration': {}, ...fare } },
        {
          'mlops:dev:models.fare-amount.serving.instanceType': 'ml.m5.xlarge',
          'mlops:dev:models.fare-amount.maxRmse': '3.5',
          'mlops:dev:models.trip-duration.training.schedule': 'rate(1 day)',
        },
      );
      expect(model).toMatchObject({
        name: 'fare-amount',
        maxRmse: 3.5,
        serving: { mode: 'realTime', instanceType: 'ml.m5.xlarge' },
      });
      expect(trip.training).toEqual({ schedule: 'rate(1 day)', triggerOnNewData: false });
    });

    test('a text key whose value reads as JSON stays a string', () => {
      // As JSON, 123 would be a number and refused as an instance type.
      const [model] = models(
        { models: fare },
        { 'mlops:dev:models.fare-amount.serving.instanceType': '123' },
      );
      expect(model.serving.instanceType).toBe('123');
      expect(parse({ models: { fares: {} } }, { 'mlops:dev:models.fares.workload': '2' })).toThrow(
        "environments.dev.models.fares.workload '2' is invalid: use one of trip-duration, fare-amount",
      );
    });

    test('a key of a model that is not configured adds it', () => {
      expect(
        models({}, { 'mlops:dev:models.fare-amount.serving.mode': 'realTime' }).map((m) => [
          m.name,
          m.serving.mode,
        ]),
      ).toEqual([['fare-amount', 'realTime']]);
    });
  });
});

describe('serving.trafficShifting and serving.rollbackAlarmNames (real-time slots)', () => {
  const realTime = { mode: 'realTime', instanceType: 'ml.m5.large' };
  const parse =
    (serving: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    () =>
      parsePlatformConfig(envs({ dev: { level: 2 }, prod: { level: 2, serving } }, extra));
  const prodServing = (serving: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    parse(serving, extra)().environments[1].models[0].serving;

  test('the last environment, production, defaults to a 10% canary for 10 minutes; the others shift all at once', () => {
    // GIVEN three environments whose models all serve in real time, none naming a traffic shifting
    const config = parsePlatformConfig(
      envs({
        dev: { level: 2, models: { 'trip-duration': { serving: realTime }, 'fare-amount': {} } },
        staging: { level: 2, serving: realTime },
        prod: {
          level: 2,
          models: { 'trip-duration': { serving: realTime }, 'fare-amount': { serving: realTime } },
        },
      }),
    );
    // THEN only prod's real-time slots get the canary, and a serverless slot gets neither
    expect(
      config.environments.flatMap((e) =>
        e.models.map((m) => [e.name, m.name, m.serving.trafficShifting, m.serving.rollbackAlarmNames]),
      ),
    ).toEqual([
      ['dev', 'trip-duration', { kind: 'allAtOnce' }, []],
      ['dev', 'fare-amount', undefined, undefined],
      ['staging', 'trip-duration', { kind: 'allAtOnce' }, []],
      [
        'prod',
        'trip-duration',
        { kind: 'canary', size: { unit: 'percent', value: 10 }, waitMinutes: 10 },
        [],
      ],
      ['prod', 'fare-amount', { kind: 'canary', size: { unit: 'percent', value: 10 }, waitMinutes: 10 }, []],
    ]);
  });

  test.each([
    ['"allAtOnce"', 'allAtOnce', { kind: 'allAtOnce' }],
    [
      'a canary of a percentage',
      { canary: { percent: 25, waitMinutes: 15 } },
      { kind: 'canary', size: { unit: 'percent', value: 25 }, waitMinutes: 15 },
    ],
    [
      'a canary of instances',
      { canary: { instances: 1, waitMinutes: 0 } },
      { kind: 'canary', size: { unit: 'instances', value: 1 }, waitMinutes: 0 },
    ],
    [
      'linear steps',
      { linear: { percent: 20, intervalMinutes: 5 } },
      { kind: 'linear', step: { unit: 'percent', value: 20 }, intervalMinutes: 5 },
    ],
  ])('reads %s', (_name, trafficShifting, expected) => {
    expect(prodServing({ ...realTime, trafficShifting }).trafficShifting).toEqual(expected);
  });

  test('reads rollback alarm names', () => {
    expect(
      prodServing({ ...realTime, rollbackAlarmNames: ['checkout-api-5xx', 'Orders / min'] }),
    ).toMatchObject({
      rollbackAlarmNames: ['checkout-api-5xx', 'Orders / min'],
    });
  });

  test('-c sets the traffic shifting as text or as JSON', () => {
    const at = 'mlops:prod:serving.trafficShifting';
    expect(prodServing(realTime, { [at]: 'allAtOnce' }).trafficShifting).toEqual({ kind: 'allAtOnce' });
    expect(
      prodServing(realTime, { [at]: '{"linear":{"percent":50,"intervalMinutes":1}}' }).trafficShifting,
    ).toEqual({ kind: 'linear', step: { unit: 'percent', value: 50 }, intervalMinutes: 1 });
  });

  const at = 'context\\.mlops\\.environments\\.prod\\.serving';
  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'traffic shifting on a serverless slot',
      { mode: 'serverless', trafficShifting: 'allAtOnce' },
      new RegExp(
        `${at}\\.trafficShifting 'allAtOnce' is invalid: it applies to mode realTime only: remove it or change mode`,
      ),
    ],
    [
      'rollback alarms on a serverless slot',
      { rollbackAlarmNames: ['a'] },
      new RegExp(`${at}\\.rollbackAlarmNames '\\["a"\\]' is invalid: it applies to mode realTime only`),
    ],
    [
      'a name that is not a form',
      { ...realTime, trafficShifting: 'canary' },
      new RegExp(
        `${at}\\.trafficShifting 'canary' is invalid: use "allAtOnce", \\{"canary": \\{"percent": 10, "waitMinutes": 10\\}\\} ` +
          'or \\{"linear": \\{"percent": 20, "intervalMinutes": 5\\}\\}',
      ),
    ],
    [
      'a canary and a linear at once',
      {
        ...realTime,
        trafficShifting: {
          canary: { percent: 10, waitMinutes: 1 },
          linear: { percent: 20, intervalMinutes: 1 },
        },
      },
      new RegExp(`${at}\\.trafficShifting '.*' is invalid: give exactly one of canary or linear`),
    ],
    [
      'a misspelt form',
      { ...realTime, trafficShifting: { canery: { percent: 10, waitMinutes: 1 } } },
      new RegExp(`${at}\\.trafficShifting\\.canery is not a known key: did you mean 'canary'`),
    ],
    [
      'a canary above 50%',
      { ...realTime, trafficShifting: { canary: { percent: 60, waitMinutes: 10 } } },
      new RegExp(
        `${at}\\.trafficShifting\\.canary\\.percent '60' is invalid: use a whole number from 1 to 50: SageMaker takes a canary of at most 50% of the fleet`,
      ),
    ],
    [
      'a linear step below 10%',
      { ...realTime, trafficShifting: { linear: { percent: 5, intervalMinutes: 10 } } },
      new RegExp(
        `${at}\\.trafficShifting\\.linear\\.percent '5' is invalid: use a whole number from 10 to 50: SageMaker takes linear steps of 10% to 50% of the fleet`,
      ),
    ],
    [
      'a size in percent and in instances',
      { ...realTime, trafficShifting: { canary: { percent: 10, instances: 1, waitMinutes: 10 } } },
      new RegExp(
        `${at}\\.trafficShifting\\.canary '.*' is invalid: give the canary's size as either "percent" \\(1 to 50\\) or "instances" \\(a whole number\\), not both and not neither`,
      ),
    ],
    [
      'no size',
      { ...realTime, trafficShifting: { linear: { intervalMinutes: 10 } } },
      new RegExp(
        `${at}\\.trafficShifting\\.linear '.*' is invalid: give the size of each step as either "percent"`,
      ),
    ],
    [
      'no instance',
      { ...realTime, trafficShifting: { canary: { instances: 0, waitMinutes: 10 } } },
      new RegExp(`${at}\\.trafficShifting\\.canary\\.instances '0' is invalid: use a positive whole number`),
    ],
    [
      'a wait above an hour',
      { ...realTime, trafficShifting: { canary: { percent: 10, waitMinutes: 90 } } },
      new RegExp(
        `${at}\\.trafficShifting\\.canary\\.waitMinutes '90' is invalid: give a whole number of minutes from 0 to 60 \\(SageMaker waits at most an hour between steps\\)`,
      ),
    ],
    [
      'no interval',
      { ...realTime, trafficShifting: { linear: { percent: 20 } } },
      new RegExp(
        `${at}\\.trafficShifting\\.linear\\.intervalMinutes \\(undefined\\) is invalid: give a whole number of minutes`,
      ),
    ],
    [
      'the wait key of the other form',
      { ...realTime, trafficShifting: { linear: { percent: 20, waitMinutes: 5 } } },
      new RegExp(`${at}\\.trafficShifting\\.linear\\.waitMinutes is not a known key`),
    ],
    [
      'alarm names that are not a list',
      { ...realTime, rollbackAlarmNames: 'checkout-api-5xx' },
      new RegExp(
        `${at}\\.rollbackAlarmNames 'checkout-api-5xx' is invalid: use a list of CloudWatch alarm names, e.g. \\["checkout-api-5xx"\\]`,
      ),
    ],
    [
      'a blank alarm name',
      { ...realTime, rollbackAlarmNames: ['ok', ' '] },
      new RegExp(
        `${at}\\.rollbackAlarmNames\\[1\\] ' ' is invalid: use the name of a CloudWatch alarm in the environment's account and region: 1 to 255 characters, not only spaces, without control characters`,
      ),
    ],
  ])('refuses %s, naming the key, the value and the fix', (_name, serving, message) => {
    expect(parse(serving)).toThrow(MlopsValidationError);
    expect(parse(serving)).toThrow(message);
  });
});
