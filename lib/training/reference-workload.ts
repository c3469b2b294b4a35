import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { productionDataRoleName } from '../automation/naming';
import { ProblemCollector } from '../private/errors';
import { handlerFunction } from '../private/handler-function';
import { SAGEMAKER_INSTANCE_TYPE } from '../private/sagemaker-names';
import { acknowledgeGrantWildcards } from '../private/nag-acknowledgements';
import { IModelRegistry } from '../registry/model-registry';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';
import { IExperimentTracking } from '../tracking/experiment-tracking';
import { BuiltInAlgorithmImage } from './builtin-algorithm-image';
import {
  ConditionStep,
  ExecutionVariable,
  FailStep,
  Join,
  LambdaStep,
  PipelineDefinition,
  PipelineParameter,
  PipelineValue,
  ProcessingStep,
  RegisterModelStep,
  TrainingStep,
} from './pipeline-definition';
import { TrainingPipeline } from './training-pipeline';

/** Hyperparameters of the built-in XGBoost algorithm, as SageMaker passes them (strings). */
export interface XgboostHyperparameters {
  /** Boosting rounds. @default 200 */
  readonly numRound?: number;
  /** Maximum tree depth. @default 6 */
  readonly maxDepth?: number;
  /** Learning rate. @default 0.2 */
  readonly eta?: number;
  /** Row subsampling ratio. @default 0.8 */
  readonly subsample?: number;
  /** The learning objective. @default 'reg:squarederror' */
  readonly objective?: string;
}

/**
 * What the reference workload predicts from the NYC taxi trips: each target is its own model, with
 * its own label, unit and registration gate.
 */
export class ReferenceTarget {
  /** The trip duration in minutes (regression). */
  public static readonly TRIP_DURATION = new ReferenceTarget('duration', 'the trip duration', 'minutes', 10, [
    'trip_distance',
    'pickup_hour',
    'pickup_weekday',
    'PULocationID',
    'DOLocationID',
  ]);
  /**
   * The fare amount in dollars (regression), with the trip duration as one more feature: the fare
   * is charged at drop-off, when the duration is known.
   */
  public static readonly FARE_AMOUNT = new ReferenceTarget('fare_amount', 'the fare amount', 'dollars', 5, [
    'trip_distance',
    'pickup_hour',
    'pickup_weekday',
    'duration',
    'PULocationID',
    'DOLocationID',
  ]);

  /** The location ids, categories of both models (ml/preprocess.py `CATEGORICAL_FEATURES`). */
  public readonly categoricalFeatures: readonly string[] = ['PULocationID', 'DOLocationID'];

  private constructor(
    /** The label column the preprocessing step derives (`--target` of ml/preprocess.py). */
    public readonly label: string,
    /** What is predicted, for descriptions. */
    public readonly description: string,
    /** The label's unit, which the RMSE gate is in. */
    public readonly unit: string,
    /** The default largest test RMSE, in `unit`, for a model to be registered. */
    public readonly defaultMaxRmse: number,
    /**
     * The model's input columns, in order (ml/preprocess.py `FEATURES`, `FARE_FEATURES`): the
     * columns of a request, and of the training data after the label.
     */
    public readonly features: readonly string[],
  ) {}
}

/** Props of the ReferenceWorkload. */
export interface ReferenceWorkloadProps {
  /** Where the data is read (`data/`) and the pipeline's outputs and models are written. */
  readonly artifactStore: IArtifactStore;
  /** Where passing models are registered. */
  readonly modelRegistry: IModelRegistry;
  /**
   * Where the steps log their parameters and metrics (one MLflow run per pipeline execution).
   *
   * @default - no experiment tracking
   */
  readonly experimentTracking?: IExperimentTracking;
  /**
   * What the model predicts.
   *
   * @default ReferenceTarget.TRIP_DURATION
   */
  readonly target?: ReferenceTarget;
  /**
   * The largest test RMSE, in the target's unit (minutes for the trip duration, dollars for the
   * fare), a model may have to be registered; above it the execution fails. Also a pipeline
   * parameter (`MaxRmse`), so one execution can override it.
   *
   * @default - the target's `defaultMaxRmse`: 10 minutes, 5 dollars
   */
  readonly maxRmse?: number;
  /**
   * The largest test RMSE in minutes, for the trip duration target.
   *
   * @deprecated use `maxRmse`, which is in the target's unit
   * @default - see `maxRmse`
   */
  readonly maxRmseMinutes?: number;
  /**
   * The fare target only: fares above this many dollars are dropped in preprocessing (counted as
   * `fare_out_of_range`), like meter errors.
   *
   * @default 500
   */
  readonly maxFare?: number;
  /**
   * A folder of the store's `pipelines/`, `models/` and `reports/` prefixes that this workload
   * writes under (and is granted), e.g. the model's name when several models share a store.
   *
   * @default - the prefixes themselves
   */
  readonly artifactFolder?: string;
  /**
   * XGBoost hyperparameters.
   *
   * @default - the defaults of XgboostHyperparameters
   */
  readonly hyperparameters?: XgboostHyperparameters;
  /**
   * Instance type of the processing jobs (pipeline parameter `ProcessingInstanceType`).
   *
   * @default 'ml.m5.large'
   */
  readonly processingInstanceType?: string;
  /**
   * Instance type of the training job (pipeline parameter `TrainingInstanceType`).
   *
   * @default 'ml.m5.large'
   */
  readonly trainingInstanceType?: string;
  /**
   * Run on a schedule. @default - no schedule
   */
  readonly schedule?: events.Schedule;
  /**
   * Run when new objects arrive under the store's `data/` prefix. @default false
   */
  readonly triggerOnNewData?: boolean;
  /**
   * The directory holding the step code (`run_step.py`, `preprocess.py`, `evaluate.py`, ...).
   *
   * @default - the `ml/` directory shipped with this library
   */
  readonly codeDirectory?: string;
  /**
   * The pipeline's name. @default - derived from the construct path
   */
  readonly pipelineName?: string;
  /**
   * Retrain on production data too: a first pipeline step (a Lambda step) joins the requests a
   * level-4 environment captured in the execution's data window (`DataWindowStart`,
   * `DataWindowEnd`) with their ground truth, and preprocessing adds those rows to the training
   * data.
   *
   * @default - no production data: the pipeline trains on `InputDataUrl` alone
   */
  readonly productionData?: ReferenceProductionData;
}

/** Where a model's production data is published, for retraining on it (see ReferenceWorkloadProps). */
export interface ReferenceProductionData {
  /**
   * The SSM parameter in which the level-4 environment publishes where the model's captured
   * requests and ground truth are, as JSON `{"captureUrl","groundTruthUrl","kmsKeyArn"}`:
   * `productionDataParameterName(level4Environment, modelName)`. In this stack's account and region.
   */
  readonly locationParameterName: string;
  /**
   * The environment this workload trains in (the release source), which with `modelName` names
   * the function's role, `productionDataRoleName(sourceEnvironment, modelName)`, so that the
   * level-4 environment can grant it reading its data.
   */
  readonly sourceEnvironment: string;
  /** The model's name, as the level-4 environment knows it. */
  readonly modelName: string;
  /**
   * The function's log retention.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Names of the pipeline's steps, parameters and property file, for callers and tests. */
export const REFERENCE_PIPELINE = {
  steps: {
    productionData: 'AssembleProductionData',
    preprocess: 'Preprocess',
    train: 'Train',
    evaluate: 'Evaluate',
    check: 'CheckRmse',
    register: 'Register',
    fail: 'RmseTooHigh',
  },
  parameters: {
    inputData: 'InputDataUrl',
    maxRmse: 'MaxRmse',
    processingInstanceType: 'ProcessingInstanceType',
    trainingInstanceType: 'TrainingInstanceType',
    dataWindowStart: 'DataWindowStart',
    dataWindowEnd: 'DataWindowEnd',
    retrainReason: 'RetrainReason',
  },
  /** The Lambda step's output parameters (with `productionData`). */
  productionDataOutputs: {
    url: 'ProductionDataUrl',
    joinedRows: 'JoinedRows',
    unmatchedRequests: 'UnmatchedRequests',
    malformedLines: 'MalformedLines',
  },
  evaluationReport: 'EvaluationReport',
} as const;

const PROCESSING = '/opt/ml/processing';
const CODE_DIR = `${PROCESSING}/input/code`;
/**
 * The processing jobs' entrypoint: the step code arrives as one zip (a CDK asset), which is
 * extracted with the container's own Python and handed to the launcher with the step's arguments.
 */
const BOOTSTRAP = `set -e; python3 -m zipfile -e ${CODE_DIR}/*.zip /tmp/step; exec python3 /tmp/step/run_step.py "$@"`;

/**
 * The platform's reference workload (NYC taxi trips: the trip duration or the fare amount, each a
 * regression, see ReferenceTarget) as a SageMaker pipeline:
 * preprocess (scikit-learn container) -> train (built-in XGBoost) -> evaluate (XGBoost container,
 * writes an evaluation report) -> RMSE check -> register the model package (pending manual
 * approval, with the report as its model quality metrics and the drift baseline as its data
 * quality statistics), or fail
 * with the RMSE in the message. Each execution writes under `pipelines/<execution id>/` and
 * `models/<execution id>/`; the steps log to one MLflow run per execution.
 */
export class ReferenceWorkload extends Construct {
  public readonly pipeline: TrainingPipeline;
  /** The step code, uploaded as a CDK asset. */
  public readonly code: s3assets.Asset;
  /** The function that assembles the production data (with `productionData`). */
  public readonly productionDataFunction?: lambda.IFunction;
  /**
   * Its role, named `productionDataRoleName(sourceEnvironment, modelName)` (with `productionData`):
   * the level-4 environment grants it reading its capture and ground truth.
   */
  public readonly productionDataRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: ReferenceWorkloadProps) {
    super(scope, id);
    const problems = new ProblemCollector(`ReferenceWorkload '${this.node.path}'`);
    const target = props.target ?? ReferenceTarget.TRIP_DURATION;
    if (props.maxRmseMinutes !== undefined && props.maxRmse !== undefined) {
      problems.add(
        'maxRmseMinutes',
        props.maxRmseMinutes,
        'give maxRmse alone (maxRmseMinutes is its old name)',
      );
    } else if (props.maxRmseMinutes !== undefined && target !== ReferenceTarget.TRIP_DURATION) {
      problems.add(
        'maxRmseMinutes',
        props.maxRmseMinutes,
        `the ${target.label} target is in ${target.unit}: give maxRmse instead`,
      );
    }
    const maxRmseProp = props.maxRmse !== undefined ? 'maxRmse' : 'maxRmseMinutes';
    const maxRmse = props.maxRmse ?? props.maxRmseMinutes ?? target.defaultMaxRmse;
    if (!(maxRmse > 0) || !Number.isFinite(maxRmse)) {
      problems.add(maxRmseProp, maxRmse, `give a positive number of ${target.unit}`);
    }
    for (const [name, value] of [
      ['processingInstanceType', props.processingInstanceType],
      ['trainingInstanceType', props.trainingInstanceType],
    ] as const) {
      problems.checkPattern(
        name,
        value,
        SAGEMAKER_INSTANCE_TYPE,
        "use a SageMaker instance type such as 'ml.m5.large'",
      );
    }
    if (props.maxFare !== undefined && target !== ReferenceTarget.FARE_AMOUNT) {
      problems.add(
        'maxFare',
        props.maxFare,
        `it applies to the ${ReferenceTarget.FARE_AMOUNT.label} target only: remove it or set target`,
      );
    } else if (props.maxFare !== undefined && !(props.maxFare > 0 && Number.isFinite(props.maxFare))) {
      problems.add('maxFare', props.maxFare, 'give a positive number of dollars');
    }
    const hp = props.hyperparameters ?? {};
    for (const [name, value] of Object.entries(hp)) {
      if (typeof value === 'number' && !(value > 0)) {
        problems.add(`hyperparameters.${name}`, value, 'give a positive number');
      }
    }
    const codeDirectory = props.codeDirectory ?? defaultCodeDirectory();
    if (!fs.existsSync(path.join(codeDirectory, 'run_step.py'))) {
      problems.add(
        'codeDirectory',
        codeDirectory,
        'point it at a directory that holds run_step.py and the steps',
      );
    }
    const production = props.productionData;
    if (production) {
      problems.checkPattern(
        'productionData.locationParameterName',
        production.locationParameterName,
        /^\/[a-zA-Z0-9_.\-/]{1,1010}$/,
        "give the SSM parameter's full name, e.g. productionDataParameterName('prod', 'trip-duration')",
      );
      for (const [name, value] of [
        ['productionData.sourceEnvironment', production.sourceEnvironment],
        ['productionData.modelName', production.modelName],
      ] as const) {
        problems.checkPattern(name, value, /^[A-Za-z0-9][A-Za-z0-9-]*$/, 'use letters, digits and hyphens');
      }
    }
    problems.throwIfAny();

    this.code = new s3assets.Asset(this, 'StepCode', {
      path: codeDirectory,
      exclude: ['tests', '**/__pycache__', '**/*.pyc', '.pytest_cache'],
    });

    const store = props.artifactStore;
    const tracking = props.experimentTracking;
    const productionDataFunction = production
      ? this.productionDataAssembly(production, store, props.artifactFolder)
      : undefined;
    this.productionDataFunction = productionDataFunction;
    this.productionDataRole = productionDataFunction?.role;
    this.pipeline = new TrainingPipeline(this, 'Pipeline', {
      artifactStore: store,
      modelRegistry: props.modelRegistry,
      schedule: props.schedule,
      triggerOnNewData: props.triggerOnNewData,
      pipelineName: props.pipelineName,
      artifactFolder: props.artifactFolder,
      definition: ({ role }) =>
        referenceDefinition(this, {
          role,
          store,
          registry: props.modelRegistry,
          trackingArn: tracking?.trackingArn,
          codeUri: this.code.s3ObjectUrl,
          target,
          maxRmse,
          maxFare: props.maxFare,
          folder: props.artifactFolder,
          hyperparameters: hp,
          processingInstanceType: props.processingInstanceType ?? 'ml.m5.large',
          trainingInstanceType: props.trainingInstanceType ?? 'ml.m5.large',
          productionDataFunctionArn: productionDataFunction?.functionArn,
        }),
    });
    if (productionDataFunction) {
      acknowledgeGrantWildcards(
        this.pipeline.role,
        productionDataFunction.grantInvoke(this.pipeline.role),
        "The pipeline's Lambda step invokes the one production data function; the wildcard is that function's " +
          'versions and aliases, as aws-cdk-lib grants invoking it.',
      );
    }

    const role = this.pipeline.role;
    acknowledgeGrantWildcards(
      role,
      // The one object of the code asset, not the whole CDK assets bucket.
      this.code.bucket.grantRead(role, this.code.s3ObjectKey),
      "The processing jobs read the step code, one content-addressed CDK asset object, with CDK's standard S3 read " +
        'action groups; the resource is that single object.',
    );
    tracking?.grantLogging(role);
  }

  /**
   * The function of the Lambda step: it reads the location parameter and writes one CSV per
   * execution under `pipelines/[<folder>/]production-data/`. Reading the level-4 environment's
   * data is granted there, to the role's name.
   */
  private productionDataAssembly(
    production: ReferenceProductionData,
    store: IArtifactStore,
    folder: string | undefined,
  ): nodejs.NodejsFunction {
    const stack = Stack.of(this);
    const outputPrefix = `${ArtifactStorePrefix.PIPELINES}${folder ? `${folder}/` : ''}production-data/`;
    const { fn, role } = handlerFunction(this, 'ProductionData', {
      entry: 'production-data',
      removalPolicy: RemovalPolicy.RETAIN,
      logRetention: production.logRetention,
      roleName: productionDataRoleName(production.sourceEnvironment, production.modelName),
      roleDescription: `Assembles the production data of ${production.modelName} for its retraining`,
      description: `Joins ${production.modelName}'s captured requests with their ground truth for retraining`,
      // SageMaker waits at most ten minutes for a Lambda step.
      timeout: Duration.minutes(10),
      memorySize: 1024,
      ephemeralStorageSize: Size.gibibytes(4),
      environment: {
        PRODUCTION_DATA_PARAMETER_NAME: production.locationParameterName,
        OUTPUT_BUCKET: store.bucketName,
        OUTPUT_PREFIX: outputPrefix,
        MODEL_NAME: production.modelName,
        POWERTOOLS_SERVICE_NAME: `production-data-${production.modelName}`,
        POWERTOOLS_METRICS_NAMESPACE: 'cdk-mlops-maturity/ProductionData',
      },
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: production.locationParameterName.replace(/^\//, ''),
          }),
        ],
      }),
    );
    acknowledgeGrantWildcards(
      role,
      store.grantWrite(role, `${outputPrefix}*`),
      "The function writes each pipeline execution's production data CSV, keyed by the execution id, under one " +
        'prefix of the artifact store, with the standard aws-cdk-lib S3 and KMS action groups.',
    );
    return fn;
  }
}

interface DefinitionInputs {
  readonly role: iam.IRole;
  readonly store: IArtifactStore;
  readonly registry: IModelRegistry;
  readonly trackingArn?: string;
  readonly codeUri: string;
  readonly target: ReferenceTarget;
  readonly maxRmse: number;
  readonly maxFare?: number;
  readonly folder?: string;
  readonly hyperparameters: XgboostHyperparameters;
  readonly processingInstanceType: string;
  readonly trainingInstanceType: string;
  readonly productionDataFunctionArn?: string;
}

function referenceDefinition(scope: Construct, inputs: DefinitionInputs): PipelineDefinition {
  const { store } = inputs;
  const names = REFERENCE_PIPELINE;
  const sklearn = BuiltInAlgorithmImage.SKLEARN_1_2_1.imageUri(scope);
  const xgboost = BuiltInAlgorithmImage.XGBOOST_1_7_1.imageUri(scope);
  const keyArn = store.encryptionKey?.keyArn;
  const executionId = ExecutionVariable.PIPELINE_EXECUTION_ID;

  const inputData = PipelineParameter.string(
    names.parameters.inputData,
    store.s3UrlFor(ArtifactStorePrefix.DATA),
  );
  const maxRmse = PipelineParameter.float(names.parameters.maxRmse, inputs.maxRmse);
  const processingType = PipelineParameter.string(
    names.parameters.processingInstanceType,
    inputs.processingInstanceType,
  );
  const trainingType = PipelineParameter.string(
    names.parameters.trainingInstanceType,
    inputs.trainingInstanceType,
  );
  // The retrain trigger fills these; an execution started by hand or by the schedule has no window.
  const windowStart = PipelineParameter.string(names.parameters.dataWindowStart, '');
  const windowEnd = PipelineParameter.string(names.parameters.dataWindowEnd, '');
  const retrainReason = PipelineParameter.string(names.parameters.retrainReason, 'manual');

  const hp = inputs.hyperparameters;
  const hyperparameters: Record<string, string> = {
    objective: hp.objective ?? 'reg:squarederror',
    num_round: String(hp.numRound ?? 200),
    max_depth: String(hp.maxDepth ?? 6),
    eta: String(hp.eta ?? 0.2),
    subsample: String(hp.subsample ?? 0.8),
    eval_metric: 'rmse',
  };

  /** `s3://<store>/<prefix>[<folder>/]`, without the trailing slash. */
  const base = (prefix: ArtifactStorePrefix) => store.s3UrlFor(prefix, inputs.folder).replace(/\/$/, '');
  /** `s3://<store>/pipelines/[<folder>/]<execution id>/<step>/<output>` */
  const outputUri = (step: string, output: string) =>
    new Join('/', [base(ArtifactStorePrefix.PIPELINES), executionId, step, output]);
  const s3Input = (name: string, uri: PipelineValue, localPath: string) => ({
    InputName: name,
    S3Input: {
      S3Uri: uri,
      LocalPath: localPath,
      S3DataType: 'S3Prefix',
      S3InputMode: 'File',
      S3DataDistributionType: 'FullyReplicated',
    },
  });
  const s3Output = (step: string, name: string, localPath: string) => ({
    OutputName: name,
    S3Output: { S3Uri: outputUri(step, name), LocalPath: localPath, S3UploadMode: 'EndOfJob' },
  });
  const environment: Record<string, PipelineValue> = {
    PIPELINE_EXECUTION_ID: executionId,
    RETRAIN_REASON: retrainReason.ref,
    MLFLOW_EXPERIMENT_NAME: ExecutionVariable.PIPELINE_NAME,
    ...(inputs.trackingArn ? { MLFLOW_TRACKING_URI: inputs.trackingArn } : {}),
  };
  const processing = (image: string, step: string, args: PipelineValue[]) => ({
    ProcessingResources: {
      ClusterConfig: { InstanceCount: 1, InstanceType: processingType.ref, VolumeSizeInGB: 30 },
    },
    AppSpecification: {
      ImageUri: image,
      ContainerEntrypoint: ['bash', '-c', BOOTSTRAP, 'run_step', step],
      ContainerArguments: args,
    },
    RoleArn: inputs.role.roleArn,
    Environment: environment,
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  });

  const outputs = names.productionDataOutputs;
  const productionData = inputs.productionDataFunctionArn
    ? new LambdaStep(names.steps.productionData, {
        description:
          'Joins the requests captured in the data window with their ground truth, in the training data layout',
        functionArn: inputs.productionDataFunctionArn,
        arguments: {
          DataWindowStart: windowStart.ref,
          DataWindowEnd: windowEnd.ref,
          RetrainReason: retrainReason.ref,
          ExecutionId: executionId,
          Label: inputs.target.label,
          Features: inputs.target.features.join(','),
          CategoricalFeatures: inputs.target.categoricalFeatures.join(','),
        },
        outputParameters: [
          { name: outputs.url, type: 'String' },
          { name: outputs.joinedRows, type: 'Integer' },
          { name: outputs.unmatchedRequests, type: 'Integer' },
          { name: outputs.malformedLines, type: 'Integer' },
        ],
      })
    : undefined;

  const preprocessOutputs = ['train', 'validation', 'test', 'baseline', 'report'];
  const preprocess = new ProcessingStep(names.steps.preprocess, {
    description:
      inputs.target === ReferenceTarget.TRIP_DURATION
        ? 'Cleans the trips, derives the duration, splits train/validation/test and writes the drift baseline'
        : `Cleans the trips, takes ${inputs.target.description} as the label, splits train/validation/test and writes the drift baseline`,
    arguments: {
      ...processing(sklearn, 'preprocess', [
        '--input',
        `${PROCESSING}/input/data`,
        '--output',
        `${PROCESSING}/output`,
        // The duration is the step's default target, so its definition names none.
        ...(inputs.target === ReferenceTarget.TRIP_DURATION ? [] : ['--target', inputs.target.label]),
        ...(inputs.maxFare !== undefined ? ['--max-fare', String(inputs.maxFare)] : []),
        ...(productionData ? ['--production', `${PROCESSING}/input/production`] : []),
      ]),
      ProcessingInputs: [
        s3Input('code', inputs.codeUri, CODE_DIR),
        s3Input('data', inputData.ref, `${PROCESSING}/input/data`),
        ...(productionData
          ? [
              s3Input(
                'production',
                productionData.outputParameter(outputs.url),
                `${PROCESSING}/input/production`,
              ),
            ]
          : []),
      ],
      ProcessingOutputConfig: {
        ...(keyArn ? { KmsKeyId: keyArn } : {}),
        Outputs: preprocessOutputs.map((o) => s3Output('preprocess', o, `${PROCESSING}/output/${o}`)),
      },
    },
  });
  const preprocessed = (output: string) =>
    preprocess.property(`ProcessingOutputConfig.Outputs['${output}'].S3Output.S3Uri`, 'String');

  const channel = (name: string) => ({
    ChannelName: name,
    ContentType: 'text/csv',
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix',
        S3Uri: preprocessed(name),
        S3DataDistributionType: 'FullyReplicated',
      },
    },
  });
  const train = new TrainingStep(names.steps.train, {
    description:
      'Trains the built-in XGBoost algorithm on the train split, validating on the validation split',
    arguments: {
      AlgorithmSpecification: { TrainingImage: xgboost, TrainingInputMode: 'File' },
      RoleArn: inputs.role.roleArn,
      HyperParameters: hyperparameters,
      InputDataConfig: [channel('train'), channel('validation')],
      OutputDataConfig: {
        S3OutputPath: new Join('/', [base(ArtifactStorePrefix.MODELS), executionId]),
        ...(keyArn ? { KmsKeyId: keyArn } : {}),
      },
      ResourceConfig: { InstanceCount: 1, InstanceType: trainingType.ref, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    },
  });

  const evaluate = new ProcessingStep(names.steps.evaluate, {
    description: 'Scores the model on the test split: RMSE and MAE in evaluation.json',
    propertyFiles: [{ name: names.evaluationReport, outputName: 'evaluation', path: 'evaluation.json' }],
    arguments: {
      ...processing(xgboost, 'evaluate', [
        '--model',
        `${PROCESSING}/model`,
        '--test',
        `${PROCESSING}/test`,
        '--output',
        `${PROCESSING}/evaluation`,
        ...Object.entries(hyperparameters).flatMap(([k, v]) => ['--hyperparameter', `${k}=${v}`]),
      ]),
      ProcessingInputs: [
        s3Input('code', inputs.codeUri, CODE_DIR),
        s3Input('model', train.modelArtifacts, `${PROCESSING}/model`),
        s3Input('test', preprocessed('test'), `${PROCESSING}/test`),
      ],
      ProcessingOutputConfig: {
        ...(keyArn ? { KmsKeyId: keyArn } : {}),
        Outputs: [s3Output('evaluate', 'evaluation', `${PROCESSING}/evaluation`)],
      },
    },
  });
  const rmse = evaluate.jsonGet(names.evaluationReport, 'regression_metrics.rmse.value', 'Float');
  const evaluationUri = evaluate.property(
    `ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri`,
    'String',
  );

  const register = new RegisterModelStep(names.steps.register, {
    // No ModelApprovalStatus: a versioned package starts PendingManualApproval by default, and AWS's
    // published definition schema does not allow the field in a RegisterModel step.
    description: 'Registers the model package, pending manual approval, with its evaluation as model metrics',
    arguments: {
      ModelPackageGroupName: inputs.registry.modelPackageGroupName,
      ModelPackageDescription: new Join(' ', ['Trained by pipeline execution', executionId]),
      InferenceSpecification: {
        Containers: [{ Image: xgboost, ModelDataUrl: train.modelArtifacts }],
        SupportedContentTypes: ['text/csv'],
        SupportedResponseMIMETypes: ['text/csv'],
        SupportedRealtimeInferenceInstanceTypes: [
          'ml.t2.medium',
          'ml.m5.large',
          'ml.m5.xlarge',
          'ml.c5.large',
        ],
        SupportedTransformInstanceTypes: ['ml.m5.large', 'ml.m5.xlarge'],
      },
      ModelMetrics: {
        ModelQuality: {
          Statistics: {
            ContentType: 'application/json',
            S3Uri: new Join('/', [evaluationUri, 'evaluation.json']),
          },
        },
        // The training data's feature distributions, which drift detection compares requests with.
        ModelDataQuality: {
          Statistics: {
            ContentType: 'application/json',
            S3Uri: new Join('/', [preprocessed('baseline'), 'baseline.json']),
          },
        },
      },
    },
  });
  const fail = new FailStep(
    names.steps.fail,
    new Join(' ', [
      'Test RMSE',
      rmse,
      'is above the MaxRmse parameter',
      maxRmse.ref,
      '- the model was not registered',
    ]),
  );
  const check = new ConditionStep(names.steps.check, {
    description: 'Registers the model only if its test RMSE is at most MaxRmse',
    conditions: [{ type: 'LessThanOrEqualTo', left: rmse, right: maxRmse.ref }],
    ifSteps: [register],
    elseSteps: [fail],
  });

  return new PipelineDefinition({
    name: 'reference-workload',
    parameters: [inputData, maxRmse, processingType, trainingType, windowStart, windowEnd, retrainReason],
    steps: [...(productionData ? [productionData] : []), preprocess, train, evaluate, check],
  });
}

/** The `ml/` directory next to this library, whether it runs from source or from `dist/`. */
function defaultCodeDirectory(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'ml');
    if (fs.existsSync(path.join(candidate, 'run_step.py'))) {
      return candidate;
    }
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', 'ml');
}
