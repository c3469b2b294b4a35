import { XGBOOST_INFERENCE_SPECIFICATION } from '../../bin/simulation/model-package';
import {
  CloudFormationProxy,
  MotoServer,
  startCloudFormationProxy,
  startMotoServer,
} from '../../bin/simulation/moto-server';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  ModelApprovalStatus,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { NO_MODEL_RELEASED, releasePointerParameterName } from '../../lib/serving/naming';
import {
  PointersReleaseRequest,
  ReleaseDependencies,
  ReleaseError,
  releaseModel,
  ReleaseRequest,
} from '../../lambda/shared/release';
import { Token } from 'aws-cdk-lib';
import { PlatformApp } from '../../bin/platform-app';
import { buildPlatformAppForRelease } from '../../bin/release-target';
import { ServingSlot } from '../../lib/serving/serving-slot';

/*
 * The release against an AWS API emulator (moto server, pinned in requirements-emulator.txt): real
 * SDK clients, real wire protocols and the emulator's own responses and errors, for SageMaker's
 * model registry, SSM Parameter Store and CloudFormation.
 *
 * What moto 5.2.5 does not emulate: on UpdateStack with UsePreviousTemplate and every parameter
 * UsePreviousValue (what a release sends, and what CloudFormation answers by re-reading SSM-typed
 * parameters), moto compares the values it resolved at the last deployment and answers "No updates
 * are to be performed" without reading the pointer again. The tests say where they rely on this.
 * And DescribeStacks reports an SSM-typed parameter's resolved value as its ParameterValue, where
 * CloudFormation reports the SSM parameter's name there and the value as ResolvedValue (API
 * reference of DescribeStacks, type Parameter): the proxy of bin/simulation/moto-server.ts restores that shape.
 */

const ROOT = path.join(__dirname, '..', '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
// The platform app of the command's runs here: dev at level 2, whose one model is trip-duration.
const CONTEXT = { mlops: { environments: { dev: { level: 2 } }, delivery: false } };
const MODEL = 'trip-duration';
// The model package group the app gives that model (the command refuses a package of another).
const GROUP = modelPackageGroupOf(buildPlatformAppForRelease(CONTEXT), MODEL);
// The group of another model, whose packages the slot refuses.
const OTHER_GROUP = 'fare-amount';
const POINTER = releasePointerParameterName('dev', MODEL);
// The stack the platform app names for environment dev (see bin/release-target.ts).
const STACK = 'dev-Serving';
const SERVED_PARAMETER = '/emulator/dev/served-model-package-arn';

// A slot in a stack of a user's own, with its own stack name and pointer.
const USER_STACK = 'ml-serving';
const USER_POINTER = '/team/serving/model-package-arn';

/**
 * The serving slot's shape in small: an SSM-typed parameter defaulting to the pointer's name, and a
 * resource that exists only while the pointer is not `none` and holds the pointer's value (moto's
 * CloudFormation cannot create SageMaker endpoints, so an SSM parameter stands in for them).
 */
function servingTemplate(pointerName: string, prefix: string): string {
  return JSON.stringify({
    Parameters: {
      ServingModelPackageArn: { Type: 'AWS::SSM::Parameter::Value<String>', Default: pointerName },
    },
    Conditions: {
      Released: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ServingModelPackageArn' }, NO_MODEL_RELEASED] }] },
    },
    Resources: {
      Marker: {
        Type: 'AWS::SSM::Parameter',
        Properties: { Name: `${prefix}/marker`, Type: 'String', Value: 'platform' },
      },
      ServedModel: {
        Type: 'AWS::SSM::Parameter',
        Condition: 'Released',
        Properties: {
          Name: `${prefix}/served-model-package-arn`,
          Type: 'String',
          Value: { Ref: 'ServingModelPackageArn' },
        },
      },
    },
  });
}
const TEMPLATE = servingTemplate(POINTER, '/emulator/dev');

/** What the release command resolves environment `env` of the platform app to. */
function target(modelPackageArn: string, env = 'dev'): ReleaseRequest {
  return {
    modelPackageArn,
    stackName: `${env}-Serving`,
    pointerName: releasePointerParameterName(env, MODEL),
    region: REGION,
    deployCommand: `npx cdk deploy '${env}/*'`,
  };
}

let moto: MotoServer | undefined;
let endpoint: string;
let proxy: CloudFormationProxy | undefined;
let ssm: SSMClient;
let sageMaker: SageMakerClient;
let cloudFormation: CloudFormationClient;
const packages: Record<'approved' | 'pending' | 'approvedLater' | 'forUserStack' | 'otherGroup', string> = {
  approved: '',
  pending: '',
  approvedLater: '',
  forUserStack: '',
  otherGroup: '',
};

/** The model package group of `model`'s serving slot, as the app names it. */
function modelPackageGroupOf(platform: PlatformApp, model: string): string {
  const slot = platform.app.node
    .findAll()
    .find((c): c is ServingSlot => c instanceof ServingSlot && c.node.path.endsWith(`/Serving/${model}`));
  const group = slot?.modelRegistry?.modelPackageGroupName;
  if (group === undefined || Token.isUnresolved(group)) {
    throw new Error(`the app has no serving slot of model ${model} with a literal model package group`);
  }
  return group;
}

async function registerPackage(status: ModelApprovalStatus, group = GROUP): Promise<string> {
  const response = await sageMaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: group,
      ModelApprovalStatus: status,
      InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
    }),
  );
  return response.ModelPackageArn!;
}

function deps(): ReleaseDependencies {
  return { ssm, sageMaker, cloudFormation, pollIntervalMs: 10, sleep: async () => undefined };
}

async function pointer(name = POINTER) {
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
  return { value: Parameter?.Value, version: Parameter?.Version };
}

async function stackState(stackName = STACK) {
  const [{ Stacks }, { StackResourceSummaries }, { StackEvents }] = await Promise.all([
    cloudFormation.send(new DescribeStacksCommand({ StackName: stackName })),
    cloudFormation.send(new ListStackResourcesCommand({ StackName: stackName })),
    cloudFormation.send(new DescribeStackEventsCommand({ StackName: stackName })),
  ]);
  return {
    status: Stacks?.[0]?.StackStatus,
    resources: (StackResourceSummaries ?? [])
      .map((r) => r.LogicalResourceId)
      .filter((id) => id)
      .sort(),
    events: StackEvents?.length ?? 0,
  };
}

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startCloudFormationProxy(moto.url);
  endpoint = proxy.url;
  const clientConfig = { region: REGION, endpoint, credentials: CREDENTIALS };
  ssm = new SSMClient(clientConfig);
  sageMaker = new SageMakerClient(clientConfig);
  cloudFormation = new CloudFormationClient(clientConfig);

  await sageMaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
  packages.approved = await registerPackage('Approved');
  packages.pending = await registerPackage('PendingManualApproval');
  packages.approvedLater = await registerPackage('Approved');
  packages.forUserStack = await registerPackage('Approved');
  await sageMaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: OTHER_GROUP }));
  packages.otherGroup = await registerPackage('Approved', OTHER_GROUP);
  // What `cdk deploy 'dev/*'` leaves: the pointer (dev-Release) and the platform stack that reads it.
  await ssm.send(new PutParameterCommand({ Name: POINTER, Type: 'String', Value: NO_MODEL_RELEASED }));
  await cloudFormation.send(new CreateStackCommand({ StackName: STACK, TemplateBody: TEMPLATE }));
  proxy.shape.ssmParameters[STACK] = { ServingModelPackageArn: POINTER };
}, 60_000);

afterAll(() => {
  moto?.stop();
  proxy?.close();
});

describe('release against the AWS API emulator', () => {
  test('the emulator starts where the release expects it: pointer none, stack without the served model', async () => {
    expect(packages.approved).toBe(`arn:aws:sagemaker:${REGION}:123456789012:model-package/${GROUP}/1`);
    expect(await pointer()).toMatchObject({ value: NO_MODEL_RELEASED });
    expect(await stackState()).toMatchObject({ status: 'CREATE_COMPLETE', resources: ['Marker'] });
  });

  test('an unapproved package is refused with its status, and the pointer and the stack stay as they were', async () => {
    const before = { pointer: await pointer(), stack: await stackState() };

    const error = await releaseModel(target(packages.pending), deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).code).toBe('model-package-not-approved');
    expect((error as ReleaseError).message).toContain(
      `model package '${packages.pending}' is PendingManualApproval, not Approved`,
    );
    expect(await pointer()).toEqual(before.pointer);
    expect(await stackState()).toEqual(before.stack);
  });

  test("a package that does not exist is refused on SageMaker's own error", async () => {
    const missing = `arn:aws:sagemaker:${REGION}:123456789012:model-package/${GROUP}/99`;

    const error = await releaseModel(target(missing), deps()).catch((e: unknown) => e);

    expect((error as ReleaseError).code).toBe('model-package-not-found');
    expect(await pointer()).toMatchObject({ value: NO_MODEL_RELEASED });
  });

  test('an environment that was never deployed: the missing pointer, then the missing stack', async () => {
    const request = target(packages.approved, 'staging');

    const noPointer = await releaseModel(request, deps()).catch((e: unknown) => e);
    expect((noPointer as ReleaseError).message).toBe(
      `release pointer ${releasePointerParameterName('staging', MODEL)} does not exist in ${REGION}: ` +
        "deploy the environment first: npx cdk deploy 'staging/*'",
    );

    await ssm.send(
      new PutParameterCommand({
        Name: releasePointerParameterName('staging', MODEL),
        Type: 'String',
        Value: NO_MODEL_RELEASED,
      }),
    );
    const noStack = await releaseModel(request, deps()).catch((e: unknown) => e);
    expect((noStack as ReleaseError).message).toBe(
      `stack staging-Serving does not exist in ${REGION}: deploy the environment first: npx cdk deploy 'staging/*'`,
    );
    expect(await pointer(releasePointerParameterName('staging', MODEL))).toMatchObject({
      value: NO_MODEL_RELEASED,
    });
  });

  test("a pointer the stack does not read is refused on the stack's own parameters, before anything is written", async () => {
    // GIVEN a pointer that exists, but that the dev stack does not read
    const unread = '/emulator/unread/model-package-arn';
    await ssm.send(new PutParameterCommand({ Name: unread, Type: 'String', Value: NO_MODEL_RELEASED }));
    const before = { pointer: await pointer(unread), stack: await stackState() };

    // WHEN
    const error = await releaseModel({ ...target(packages.approved), pointerName: unread }, deps()).catch(
      (e: unknown) => e,
    );

    // THEN
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).code).toBe('pointer-not-read');
    expect((error as ReleaseError).message).toMatch(
      new RegExp(
        `^stack ${STACK} does not read release pointer ${unread}: none of its parameters has that value \\(ServingModelPackageArn=${POINTER}\\)`,
      ),
    );
    expect(await pointer(unread)).toEqual(before.pointer);
    expect(await stackState()).toEqual(before.stack);
  });

  test("an approved package of another model's group is refused before anything is read or written", async () => {
    // GIVEN the slot of dev's trip-duration, which serves GROUP, and an approved package of another group
    const before = { pointer: await pointer(), stack: await stackState() };

    // WHEN
    const error = await releaseModel(
      { ...target(packages.otherGroup), modelPackageGroupName: GROUP },
      deps(),
    ).catch((e: unknown) => e);

    // THEN
    expect((error as ReleaseError).code).toBe('wrong-model-group');
    expect((error as ReleaseError).message).toBe(
      `model package '${packages.otherGroup}' belongs to group '${OTHER_GROUP}', but the slot reading ${POINTER} ` +
        `(stack ${STACK}) serves group '${GROUP}': release a version of '${GROUP}'; nothing was changed`,
    );
    expect(await pointer()).toEqual(before.pointer);
    expect(await stackState()).toEqual(before.stack);
  });

  test('an approved package is released: the pointer names it, and the stack, re-reading it, serves it', async () => {
    const result = await releaseModel(target(packages.approved), deps());

    expect(result).toMatchObject({
      status: 'released',
      previous: NO_MODEL_RELEASED,
      current: packages.approved,
      stackName: STACK,
    });
    expect(await pointer()).toMatchObject({ value: packages.approved });
    // The release's UpdateStack (previous template, the capabilities) re-read the SSM parameter, as
    // CloudFormation does (moto only with the SSM-typed parameters left out, which the proxy does):
    // the pointer the release wrote is the one the stack reads, and the conditional resource then
    // exists and holds the released ARN.
    expect(result.stackUpdated).toBe(true);
    expect(await stackState()).toMatchObject({
      status: 'UPDATE_COMPLETE',
      resources: ['Marker', 'ServedModel'],
    });
    expect(await pointer(SERVED_PARAMETER)).toMatchObject({ value: packages.approved });
  });

  test('releasing the same package again changes nothing', async () => {
    const before = { pointer: await pointer(), stack: await stackState() };

    const result = await releaseModel(target(packages.approved), deps());

    expect(result).toMatchObject({ status: 'unchanged', stackUpdated: false });
    expect(await pointer()).toEqual(before.pointer);
    expect(await stackState()).toEqual(before.stack);
  });

  function cliEnv(home: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: home,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  /** Runs the command without blocking this process, which answers its requests (the proxy). */
  function release(
    args: string[],
    cwd: string,
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['-r', require.resolve('esbuild-register'), path.join(ROOT, 'bin', 'release.ts'), ...args],
        { cwd, env: cliEnv(cwd) },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  test('npm run release, with the SDK pointed at the emulator, releases the next version and exits 0', async () => {
    // Its own cdk.json, so the run does not depend on how the repository configures its environments.
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'release-cli-'));
    try {
      fs.writeFileSync(path.join(cwd, 'cdk.json'), JSON.stringify({ context: CONTEXT }));
      // --model may be left out: dev has one model.
      const run = await release(['--env', 'dev', '--model-package-arn', packages.approvedLater], cwd);

      // stderr may carry the SDK's notice that its releases after January 2027 need Node.js 22.
      expect({ status: run.status, stderr: run.stderr }).toEqual({
        status: 0,
        stderr: expect.not.stringMatching(/Release failed/),
      });
      expect(run.stdout).toContain(`Model package ${packages.approvedLater} exists and is Approved`);
      expect(run.stdout).toContain(
        `Released: model ${MODEL} of dev serves ${packages.approvedLater} (before: ${packages.approved}).`,
      );
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
    expect((await pointer()).value).toBe(packages.approvedLater);
  });

  test('npm run release --stack --pointer releases to a slot in a stack of the user, without a cdk.json', async () => {
    // GIVEN a user's stack with its own name, reading its own pointer
    await ssm.send(new PutParameterCommand({ Name: USER_POINTER, Type: 'String', Value: NO_MODEL_RELEASED }));
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: USER_STACK,
        TemplateBody: servingTemplate(USER_POINTER, '/emulator/user'),
      }),
    );
    proxy!.shape.ssmParameters[USER_STACK] = { ServingModelPackageArn: USER_POINTER };
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'release-cli-'));
    try {
      // WHEN
      const run = await release(
        ['--stack', USER_STACK, '--pointer', USER_POINTER, '--model-package-arn', packages.forUserStack],
        cwd,
      );

      // THEN
      expect({ status: run.status, stderr: run.stderr }).toEqual({
        status: 0,
        stderr: expect.not.stringMatching(/Release failed/),
      });
      expect(run.stdout).toContain(`Target: stack ${USER_STACK}, pointer ${USER_POINTER}, region ${REGION}`);
      expect(run.stdout).toContain(
        `Released: stack ${USER_STACK} serves ${packages.forUserStack} (before: none).`,
      );
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
    expect(await pointer(USER_POINTER)).toMatchObject({ value: packages.forUserStack });
    // The environment's pointer is not touched.
    expect(await pointer()).toMatchObject({ value: packages.approvedLater });
  });
});

describe('variants against the AWS API emulator: several pointers in one update', () => {
  const VARIANT_STACK = 'dev-Variants';
  const CHAMPION = '/emulator/variants/model-package-arn';
  const CHALLENGER = '/emulator/variants/challenger/model-package-arn';
  const WEIGHT = '/emulator/variants/challenger/weight';

  /** A slot with a challenger in small: three SSM-typed parameters, a stand-in resource per served value. */
  function variantTemplate(): string {
    const parameter = (name: string) => ({ Type: 'AWS::SSM::Parameter::Value<String>', Default: name });
    return JSON.stringify({
      Parameters: {
        ServingModelPackageArn: parameter(CHAMPION),
        ChallengerModelPackageArn: parameter(CHALLENGER),
        ChallengerWeight: parameter(WEIGHT),
      },
      Conditions: {
        ChallengerServes: {
          'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ChallengerModelPackageArn' }, NO_MODEL_RELEASED] }],
        },
      },
      Resources: {
        Marker: {
          Type: 'AWS::SSM::Parameter',
          Properties: { Name: '/emulator/variants/marker', Type: 'String', Value: 'x' },
        },
        ServedChallenger: {
          Type: 'AWS::SSM::Parameter',
          Condition: 'ChallengerServes',
          Properties: {
            Name: '/emulator/variants/served-challenger',
            Type: 'String',
            Value: { Ref: 'ChallengerModelPackageArn' },
          },
        },
        ServedWeight: {
          Type: 'AWS::SSM::Parameter',
          Properties: {
            Name: '/emulator/variants/served-weight',
            Type: 'String',
            Value: { Ref: 'ChallengerWeight' },
          },
        },
      },
    });
  }

  const request = (pointers: PointersReleaseRequest['pointers']): PointersReleaseRequest => ({
    stackName: VARIANT_STACK,
    region: REGION,
    modelPackageGroupName: GROUP,
    pointers,
  });

  /** The values the stack was last deployed with, by parameter key (the proxy's ResolvedValue). */
  async function resolvedParameters(stackName: string) {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries((Stacks?.[0]?.Parameters ?? []).map((p) => [p.ParameterKey, p.ResolvedValue]));
  }

  beforeAll(async () => {
    for (const [name, value] of [
      [CHAMPION, packages.approved],
      [CHALLENGER, NO_MODEL_RELEASED],
      [WEIGHT, '10'],
    ]) {
      await ssm.send(new PutParameterCommand({ Name: name, Type: 'String', Value: value, Overwrite: true }));
    }
    await cloudFormation.send(
      new CreateStackCommand({ StackName: VARIANT_STACK, TemplateBody: variantTemplate() }),
    );
    proxy!.shape.ssmParameters[VARIANT_STACK] = {
      ServingModelPackageArn: CHAMPION,
      ChallengerModelPackageArn: CHALLENGER,
      ChallengerWeight: WEIGHT,
    };
  });

  test('starting a challenger writes its pointer and weight; the stack then serves both', async () => {
    const result = await releaseModel(
      request([
        { pointerName: CHALLENGER, modelPackageArn: packages.approvedLater },
        { pointerName: WEIGHT, weightPercent: 30 },
      ]),
      deps(),
    );

    expect(result.pointers).toEqual([
      { pointerName: CHALLENGER, previous: NO_MODEL_RELEASED, current: packages.approvedLater },
      { pointerName: WEIGHT, previous: '10', current: '30' },
    ]);
    expect((await pointer(CHALLENGER)).value).toBe(packages.approvedLater);
    expect((await pointer(WEIGHT)).value).toBe('30');
    // As above, moto re-reads SSM-typed parameters only on an update that leaves them at their defaults.
    await cloudFormation.send(
      new UpdateStackCommand({ StackName: VARIANT_STACK, UsePreviousTemplate: true }),
    );
    // The stack read the written pointers again: it was deployed with them, and the challenger's
    // conditional resource exists.
    expect(await resolvedParameters(VARIANT_STACK)).toEqual({
      ServingModelPackageArn: packages.approved,
      ChallengerModelPackageArn: packages.approvedLater,
      ChallengerWeight: '30',
    });
    expect((await stackState(VARIANT_STACK)).resources).toEqual([
      'Marker',
      'ServedChallenger',
      'ServedWeight',
    ]);
  });

  test("an unapproved package for the challenger is refused on the emulator's answer: no pointer is written", async () => {
    const before = [await pointer(CHALLENGER), await pointer(WEIGHT)];

    const error = await releaseModel(
      request([
        { pointerName: CHALLENGER, modelPackageArn: packages.pending },
        { pointerName: WEIGHT, weightPercent: 50 },
      ]),
      deps(),
    ).catch((e: unknown) => e);

    expect((error as ReleaseError).code).toBe('model-package-not-approved');
    expect([await pointer(CHALLENGER), await pointer(WEIGHT)]).toEqual(before);
  });

  test("promoting: the champion's pointer takes the challenger's package, the challenger's becomes none", async () => {
    const result = await releaseModel(
      request([
        { pointerName: CHAMPION, copyFrom: CHALLENGER },
        { pointerName: CHALLENGER, modelPackageArn: NO_MODEL_RELEASED },
      ]),
      deps(),
    );

    expect(result.pointers).toEqual([
      { pointerName: CHAMPION, previous: packages.approved, current: packages.approvedLater },
      { pointerName: CHALLENGER, previous: packages.approvedLater, current: NO_MODEL_RELEASED },
    ]);
    expect((await pointer(CHAMPION)).value).toBe(packages.approvedLater);
    expect((await pointer(CHALLENGER)).value).toBe(NO_MODEL_RELEASED);
    await cloudFormation.send(
      new UpdateStackCommand({ StackName: VARIANT_STACK, UsePreviousTemplate: true }),
    );
    // (moto 5.2.5 does not delete a resource whose condition turns false on an update; CloudFormation
    // does, so on AWS the challenger's resources go.)
  });
});
