import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreatePipelineCommand,
  ModelApprovalStatus,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { NO_MODEL_RELEASED, releasePointerParameterName } from '../../lib/serving/naming';
import { evaluationReport, XGBOOST_INFERENCE_SPECIFICATION } from './model-package';
import {
  CloudFormationProxy,
  EMULATOR_CREDENTIALS,
  motoSnsCall,
  resetMotoServer,
  startCloudFormationProxy,
} from './moto-server';
import { SimulatedLoop } from './synthesized-app';
import { Json, SIMULATED_ACCOUNT, SIMULATED_REGION } from './template';
import { CaptureDataset } from './traffic';

/** The SDK clients of the simulation itself (seeding and reading back), all on the emulator. */
export interface EmulatorClients {
  readonly s3: S3Client;
  readonly sageMaker: SageMakerClient;
  readonly ssm: SSMClient;
  readonly cloudWatch: CloudWatchClient;
  readonly cloudFormation: CloudFormationClient;
  readonly sfn: SFNClient;
}

/**
 * Points every AWS SDK client this process creates (the handlers' too) at the emulator, with dummy
 * credentials: CloudFormation through the proxy, everything else straight to moto. No profile, no
 * instance metadata, so no real AWS endpoint or credential is ever reached.
 */
export function useEmulator(motoUrl: string, proxy: CloudFormationProxy, verbose: boolean): void {
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_PROFILE', 'AWS_ROLE_ARN']) {
    delete process.env[name];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: motoUrl,
    AWS_ENDPOINT_URL_CLOUDFORMATION: proxy.url,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: SIMULATED_REGION,
    AWS_DEFAULT_REGION: SIMULATED_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    // The handlers' JSON log lines and metrics would drown the steps; --verbose keeps them.
    POWERTOOLS_LOG_LEVEL: verbose ? 'INFO' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: verbose ? 'false' : 'true',
  });
  delete process.env.POWERTOOLS_DEV;
}

export function emulatorClients(motoUrl: string, proxy: CloudFormationProxy): EmulatorClients {
  const config = { region: SIMULATED_REGION, endpoint: motoUrl, credentials: EMULATOR_CREDENTIALS };
  return {
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sageMaker: new SageMakerClient(config),
    ssm: new SSMClient(config),
    cloudWatch: new CloudWatchClient(config),
    cloudFormation: new CloudFormationClient({ ...config, endpoint: proxy.url }),
    sfn: new SFNClient(config),
  };
}

/**
 * The environment of the retrain trigger, of the approval gate and of the pipeline's production-data
 * step: the variables of their synthesized functions in the release source (ModelAutomation and the
 * reference pipeline's Lambda step), as `releaseFunctions` holds the release workflow's.
 */
export function handlerEnvironment(loop: SimulatedLoop): {
  retrainTrigger: Record<string, string>;
  approvalGate: Record<string, string>;
  productionData: Record<string, string>;
} {
  return { ...loop.automationFunctions };
}

/** What a scenario starts from, and what the seeding created. */
export interface Seeded {
  readonly championArn: string;
  readonly championReportUri: string;
  readonly stateMachineArn: string;
}

/** The loop's account as it stands before the first alarm: reset, then seeded from nothing. */
export async function seedWorld(
  motoUrl: string,
  proxy: CloudFormationProxy,
  clients: EmulatorClients,
  loop: SimulatedLoop,
  traffic: CaptureDataset,
  champion: { rmse: number; mae: number },
): Promise<Seeded> {
  await resetMotoServer(motoUrl);
  const { s3, sageMaker, ssm, cloudWatch, cloudFormation, sfn } = clients;
  const put = (bucket: string, key: string, body: unknown) =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentType: 'application/json',
        Body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  const parameter = (Name: string, Value: string) =>
    ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true }));

  // The two artifact stores, the registry and the training pipeline of the release source.
  for (const bucket of new Set([loop.sourceBucket, loop.monitoredBucket])) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  await sageMaker.send(
    new CreateModelPackageGroupCommand({ ModelPackageGroupName: loop.modelPackageGroupName }),
  );
  await sageMaker.send(
    new CreatePipelineCommand({
      PipelineName: loop.pipelineName,
      RoleArn: `arn:aws:iam::${SIMULATED_ACCOUNT}:role/${loop.pipelineName}-execution`,
      // The synthesized definition: its parameters are what StartPipelineExecution may pass.
      PipelineDefinition: JSON.stringify(loop.pipelineDefinition),
    }),
  );

  // The champion: the package every target serves, with its evaluation report and its baseline.
  const folder = `pipelines/${loop.modelName}/champion`;
  await put(
    loop.sourceBucket,
    `${folder}/evaluation/evaluation.json`,
    evaluationReport(champion.rmse, champion.mae, 1200),
  );
  await put(loop.sourceBucket, `${folder}/preprocess/baseline/baseline.json`, traffic.baseline);
  const championReportUri = `s3://${loop.sourceBucket}/${folder}/evaluation/evaluation.json`;
  const championArn = await registerPackage(
    sageMaker,
    loop,
    'Approved',
    championReportUri,
    `s3://${loop.sourceBucket}/${folder}/preprocess/baseline/baseline.json`,
  );

  // Each target as `cdk deploy` left it: its pointers, its serving stack, its endpoint, its alarms.
  for (const [environment, serving] of Object.entries(loop.serving)) {
    const ssmParameters: Record<string, string> = {};
    for (const [key, p] of Object.entries(serving.template.Parameters ?? {})) {
      const name = p.Default ?? '';
      if (!p.Type.startsWith('AWS::SSM::Parameter::Value') || !name.includes(`/serving/${loop.modelName}/`)) {
        continue;
      }
      ssmParameters[key] = name;
      const value =
        name === releasePointerParameterName(environment, loop.modelName)
          ? championArn
          : name.endsWith('/weight')
            ? '10'
            : NO_MODEL_RELEASED;
      await parameter(name, value);
    }
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: serving.stackName,
        TemplateBody: JSON.stringify({
          Parameters: Object.fromEntries(
            Object.entries(ssmParameters).map(([key, name]) => [
              key,
              { Type: 'AWS::SSM::Parameter::Value<String>', Default: name },
            ]),
          ),
          // moto's CloudFormation creates no endpoint: a marker, and an output per value it serves.
          Resources: {
            Marker: {
              Type: 'AWS::SSM::Parameter',
              Properties: { Name: `/simulation/${environment}/marker`, Type: 'String', Value: environment },
            },
          },
          Outputs: Object.fromEntries(
            Object.keys(ssmParameters).map((key) => [key, { Value: { Ref: key } }]),
          ),
        }),
      }),
    );
    proxy.shape.ssmParameters[serving.stackName] = ssmParameters;
  }
  for (const check of healthChecksOf(loop)) {
    const model = `${check.endpointName}-model`;
    await sageMaker.send(
      new CreateModelCommand({
        ModelName: model,
        ExecutionRoleArn: `arn:aws:iam::${SIMULATED_ACCOUNT}:role/${model}`,
        PrimaryContainer: { Image: XGBOOST_INFERENCE_SPECIFICATION.Containers[0].Image },
      }),
    );
    await sageMaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${check.endpointName}-config`,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: model,
            InitialInstanceCount: 1,
            InstanceType: 'ml.m5.large',
          },
        ],
      }),
    );
    await sageMaker.send(
      new CreateEndpointCommand({
        EndpointName: check.endpointName,
        EndpointConfigName: `${check.endpointName}-config`,
      }),
    );
    for (const AlarmName of check.alarmNames) {
      await cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName,
          Namespace: 'AWS/SageMaker',
          MetricName: 'Invocation5XXErrors',
          Dimensions: [{ Name: 'EndpointName', Value: check.endpointName }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
      await cloudWatch.send(
        new SetAlarmStateCommand({ AlarmName, StateValue: 'OK', StateReason: 'deployed' }),
      );
    }
  }

  // The level-4 environment's monitoring: its drift and quality alarms, OK since the deployment.
  for (const alarm of loop.alarms) {
    const p = alarm.properties;
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm.alarmName,
        AlarmDescription: p.AlarmDescription,
        Namespace: p.Namespace,
        MetricName: p.MetricName,
        Dimensions: p.Dimensions,
        Statistic: p.Statistic,
        Period: p.Period,
        EvaluationPeriods: p.EvaluationPeriods,
        DatapointsToAlarm: p.DatapointsToAlarm,
        Threshold: p.Threshold,
        ComparisonOperator: p.ComparisonOperator,
        TreatMissingData: p.TreatMissingData,
      }),
    );
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: alarm.alarmName, StateValue: 'OK', StateReason: 'deployed' }),
    );
  }

  // The topics the workflows notify, and the workflows the release trigger and the approval gate
  // start: the release workflow and, when the app has it, the online gate's.
  const workflows = [loop.releaseWorkflow, ...(loop.onlineGate ? [loop.onlineGate.workflow] : [])];
  const topics = new Set(workflows.flatMap((w) => [...topicsOf(w.definition)]));
  for (const topic of topics) {
    await snsCall(motoUrl, { Action: 'CreateTopic', Name: topic.split(':').pop()! });
  }
  const [stateMachineArn] = await Promise.all(
    workflows.map(
      async (workflow) =>
        (
          await sfn.send(
            new CreateStateMachineCommand({
              name: workflow.name.split(':').pop()!,
              definition: JSON.stringify(workflow.definition),
              roleArn: `arn:aws:iam::${SIMULATED_ACCOUNT}:role/${workflow.logicalId}`,
            }),
          )
        ).stateMachineArn!,
    ),
  );

  // The operators' brake, and where prod publishes its production data.
  await parameter(loop.pauseSwitch.parameterName, loop.pauseSwitch.value);
  // The value is the one prod's AutomationTarget deploys (its parameter, resolved).
  await parameter(loop.productionData.parameterName, loop.productionData.value);

  // The traffic prod captured in the last hour, drifted, and the ground truth that arrived for it.
  for (const [key, body] of Object.entries(traffic.objects)) {
    await put(loop.monitoredBucket, key, body);
  }
  return { championArn, championReportUri, stateMachineArn };
}

/** Registers a package of the loop's group with its evaluation report and baseline. */
export async function registerPackage(
  sageMaker: SageMakerClient,
  loop: SimulatedLoop,
  status: ModelApprovalStatus,
  reportUri: string,
  baselineUri: string,
): Promise<string> {
  const { ModelPackageArn } = await sageMaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: loop.modelPackageGroupName,
      ModelApprovalStatus: status,
      InferenceSpecification: XGBOOST_INFERENCE_SPECIFICATION,
      ModelMetrics: {
        ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: reportUri } },
        ModelDataQuality: { Statistics: { ContentType: 'application/json', S3Uri: baselineUri } },
      },
    }),
  );
  return ModelPackageArn!;
}

/** The health checks of the release workflow's targets: endpoint and alarms, from its definition. */
export function healthChecksOf(loop: SimulatedLoop): Array<{ endpointName: string; alarmNames: string[] }> {
  const checks = new Map<string, string[]>();
  for (const state of Object.values(loop.releaseWorkflow.definition.States as Record<string, Json>)) {
    const payload = state.Parameters?.Payload;
    if (typeof payload?.endpointName === 'string' && Array.isArray(payload.alarmNames)) {
      checks.set(payload.endpointName, payload.alarmNames);
    }
  }
  return [...checks].map(([endpointName, alarmNames]) => ({ endpointName, alarmNames }));
}

function topicsOf(definition: Record<string, Json>): Set<string> {
  const topics = new Set<string>();
  for (const state of Object.values(definition.States as Record<string, Json>)) {
    if (typeof state.Parameters?.TopicArn === 'string') topics.add(state.Parameters.TopicArn);
  }
  return topics;
}

/** An SNS call in its query protocol, to moto, in the simulated region. */
export function snsCall(motoUrl: string, parameters: Record<string, string>): Promise<string> {
  return motoSnsCall(motoUrl, SIMULATED_REGION, parameters);
}

export { startCloudFormationProxy };
