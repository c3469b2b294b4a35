import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { ModelMonitoring } from '../monitoring/model-monitoring';
import { ProblemCollector } from '../private/errors';
import { acknowledgeGrantWildcards, acknowledgeNagFindings } from '../private/nag-acknowledgements';
import { ENVIRONMENT_NAME, MODEL_NAME } from '../private/patterns';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';
import {
  onlineGateRoleName,
  productionDataParameterName,
  productionDataRoleName,
  retrainTriggerFunctionName,
} from './naming';

/** Props of AutomationTarget. */
export interface AutomationTargetProps {
  /** The model's name, the same in both environments. */
  readonly modelName: string;
  /** This environment's name (the one whose production drives the loop). */
  readonly environmentName: string;
  /**
   * The release source: the environment, in this account and region, where the model retrains
   * and its ModelAutomation runs.
   */
  readonly sourceEnvironmentName: string;
  /** The model's monitoring here: its drift and quality alarms start retraining. */
  readonly modelMonitoring: ModelMonitoring;
  /** This environment's artifact store, where the model's requests are captured and its ground truth uploaded. */
  readonly artifactStore: IArtifactStore;
  /**
   * Whether the source's release workflow waits for a person before releasing here. With it, the
   * loop is not fully automatic: `automatic-release` is not registered.
   *
   * @default false
   */
  readonly manualApproval?: boolean;
  /**
   * Whether the source runs the model's online gate (OnlineGateWorkflow): its evaluation role
   * (`onlineGateRoleName`) is granted read access to the captures and ground truth too.
   *
   * @default false
   */
  readonly onlineGate?: boolean;
  /**
   * What happens to the dead-letter queue of undelivered alarm events when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The level-4 environment's side of one model's loop (same account and region as the source):
 *
 * - a rule on the model's drift and quality alarms entering ALARM, invoking the source's retrain
 *   trigger by the name both sides derive (`retrainTriggerFunctionName`), with a Lambda permission;
 * - the SSM parameter `productionDataParameterName` holding, as JSON, where the model's captured
 *   requests and ground truth are (`captureUrl`, `groundTruthUrl`, `kmsKeyArn`);
 * - read access to them, and to the key, for the source's production-data role
 *   (`productionDataRoleName`), imported by name.
 *
 * It registers the level-4 capabilities in this environment, the one whose production the loop
 * keeps: `automated-retraining`, `approval-gate`, `automation-guardrails`, and `automatic-release`
 * unless releases here wait for a person.
 */
export class AutomationTarget extends Construct {
  /** The rule on the model's alarms. */
  public readonly alarmRule: events.Rule;
  /** Where alarm events go that could not be delivered to the trigger. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The location of the model's production data, for the source's retraining. */
  public readonly productionDataParameter: ssm.StringParameter;
  /** The source's production-data role, imported by name. */
  public readonly productionDataRole: iam.IRole;
  /** The alarms whose entering ALARM starts a retraining, by name. */
  public readonly watchedAlarmNames: string[];
  /** The source's online-gate evaluation role, imported by name, with `onlineGate`. */
  public readonly onlineGateRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: AutomationTargetProps) {
    super(scope, id);
    validate(this, props);
    const stack = Stack.of(this);
    const model = props.modelName;
    const monitoring = props.modelMonitoring;
    const alarms = [
      monitoring.driftedFeatureShareAlarm,
      monitoring.maxFeaturePsiAlarm,
      ...(monitoring.qualityAlarm ? [monitoring.qualityAlarm] : []),
    ];
    this.watchedAlarmNames = alarms.map((a) => a.alarmName);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNagFindings(this.deadLetterQueue, {
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is the dead-letter queue of the alarm rule's target (an EventBridge DeadLetterConfig, which " +
        'cdk-nag does not recognise); a queue for dead letters needs none of its own.',
    });
    const trigger = lambda.Function.fromFunctionAttributes(this, 'RetrainTrigger', {
      functionArn: stack.formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: retrainTriggerFunctionName(props.sourceEnvironmentName, model),
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      // Same account and region: the rule's target adds a Lambda permission for this rule.
      sameEnvironment: true,
    });
    this.alarmRule = new events.Rule(this, 'AlarmRule', {
      description: `Starts a retraining of model ${model} in ${props.sourceEnvironmentName} when its drift or quality alarm in ${props.environmentName} enters ALARM`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        // The retrain trigger's ALARM_DETAIL_TYPE (lambda/shared/automation/trigger-events.ts); the
        // library loads nothing from lambda/.
        detailType: ['CloudWatch Alarm State Change'],
        resources: alarms.map((a) => a.alarmArn),
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [
        new targets.LambdaFunction(trigger, { retryAttempts: 4, deadLetterQueue: this.deadLetterQueue }),
      ],
    });

    const store = props.artifactStore;
    const capture = `${ArtifactStorePrefix.CAPTURE}${monitoring.endpointName}/`;
    const groundTruth = `${ArtifactStorePrefix.GROUND_TRUTH}${monitoring.endpointName}/`;
    this.productionDataParameter = new ssm.StringParameter(this, 'ProductionData', {
      parameterName: productionDataParameterName(props.environmentName, model),
      description: `Where model ${model}'s captured requests and ground truth in ${props.environmentName} are, for retraining`,
      stringValue: stack.toJsonString({
        captureUrl: `s3://${store.bucketName}/${capture}`,
        groundTruthUrl: `s3://${store.bucketName}/${groundTruth}`,
        kmsKeyArn: store.encryptionKey?.keyArn ?? '',
      }),
    });

    this.productionDataRole = iam.Role.fromRoleName(
      this,
      'ProductionDataRole',
      productionDataRoleName(props.sourceEnvironmentName, model),
    );
    const grantProductionData = (role: iam.IRole, reader: string) => {
      for (const [prefix, what] of [
        [capture, 'captured requests'],
        [groundTruth, 'ground truth'],
      ]) {
        acknowledgeGrantWildcards(
          role,
          store.grantRead(role, `${prefix}*`),
          `The source's ${reader} reads the model's ${what}: objects under one prefix of the artifact store, written at run time.`,
        );
      }
    };
    grantProductionData(this.productionDataRole, 'retraining');
    if (props.onlineGate) {
      this.onlineGateRole = iam.Role.fromRoleName(
        this,
        'OnlineGateRole',
        onlineGateRoleName(props.sourceEnvironmentName, model),
      );
      grantProductionData(this.onlineGateRole, 'online gate');
    }

    MaturityContract.provide(
      this,
      Capability.AUTOMATED_RETRAINING,
      Capability.APPROVAL_GATE,
      Capability.AUTOMATION_GUARDRAILS,
      ...(props.manualApproval ? [] : [Capability.AUTOMATIC_RELEASE]),
    );
    MaturityContract.attributeToModel(this, model);
  }
}

function validate(scope: Construct, props: AutomationTargetProps): void {
  const problems = new ProblemCollector(`AutomationTarget '${scope.node.path}'`);
  problems.checkPattern(
    'modelName',
    props.modelName ?? '',
    MODEL_NAME,
    'use 1-32 lower-case letters, digits and single hyphens, starting with a letter, e.g. trip-duration',
  );
  for (const key of ['environmentName', 'sourceEnvironmentName'] as const) {
    problems.checkPattern(
      key,
      props[key] ?? '',
      ENVIRONMENT_NAME,
      'use 1-20 lower-case letters, digits and hyphens',
    );
  }
  if (props.environmentName === props.sourceEnvironmentName) {
    problems.add(
      'sourceEnvironmentName',
      props.sourceEnvironmentName,
      'name the environment where the model retrains, not this one',
    );
  }
  problems.throwIfAny();
}
