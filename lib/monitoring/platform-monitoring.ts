import {
  Annotations,
  Aspects,
  CfnCondition,
  CfnResource,
  Duration,
  Fn,
  IAspect,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { Construct, IConstruct } from 'constructs';
import { productionVariantsOf, propertyOf, resolvedPropertiesOf } from '../private/cfn-properties';
import { createEncryptedTopic } from '../private/encrypted-topic';
import { ProblemCollector } from '../private/errors';

/** Props of PlatformMonitoring. */
export interface PlatformMonitoringProps {
  /** The environment's name: prefixes the dashboard and alarm names, which must be unique per account. */
  readonly environmentName: string;

  /**
   * The topic alarms and failure events notify.
   *
   * @default - a new topic encrypted with a new rotating KMS key, TLS-only
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * The scope whose Lambda functions and queues are discovered and monitored at synth, so that
   * resources added by later tiers are covered without registering them.
   *
   * @default - the stage (environment) that holds this construct, or its app
   */
  readonly discoveryScope?: IConstruct;

  /**
   * Alarm when a function's p99 duration exceeds this share of its timeout.
   *
   * @default 80
   */
  readonly lambdaP99PercentOfTimeout?: number;

  /**
   * Alarm when the oldest message in a (non dead-letter) queue is older than this.
   *
   * @default Duration.minutes(15)
   */
  readonly maxQueueMessageAge?: Duration;

  /**
   * Alarm when an endpoint variant's p99 model latency exceeds this.
   *
   * @default Duration.seconds(1)
   */
  readonly endpointP99Latency?: Duration;

  /**
   * Whether SageMaker pipeline executions and training jobs that fail notify the topic.
   *
   * @default true
   */
  readonly notifySageMakerFailures?: boolean;

  /**
   * What happens to the created topic key when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The kinds of resource PlatformMonitoring watches. */
export type MonitoredKind = 'lambda' | 'dead-letter-queue' | 'queue' | 'endpoint';

/**
 * Operational monitoring of one environment (maturity level 1): a dashboard and alarms for every
 * Lambda function (errors, throttles, p99 duration), every dead-letter queue (any message visible)
 * and every other queue (age of the oldest message), plus notifications of failed SageMaker
 * pipeline executions and training jobs. Alarms and notifications go to one SNS topic.
 *
 * Built on cdk-monitoring-constructs for the dashboard and alarms. Discovery is this construct's
 * own: it works on the CloudFormation resources (so aws-cdk-lib's own provider functions are
 * covered too) and tells dead-letter queues from work queues by the references to them, which the
 * library's generic aspect does not.
 */
export class PlatformMonitoring extends Construct {
  public readonly alarmTopic: sns.ITopic;
  public readonly facade: MonitoringFacade;
  private readonly monitored = new Map<string, MonitoredKind>();
  private readonly props: PlatformMonitoringProps;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    validateProps(this, props);
    this.props = props;
    this.alarmTopic = props.alarmTopic ?? this.createTopic(props.removalPolicy ?? RemovalPolicy.RETAIN);

    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.environmentName,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic }),
        datapointsToAlarm: 1,
      },
      metricFactoryDefaults: {},
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: `mlops-${props.environmentName}`,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });

    if (props.notifySageMakerFailures ?? true) {
      this.notifyOnFailures();
    }
    const discoveryScope = props.discoveryScope ?? Stack.of(this).node.scope ?? Stack.of(this);
    Aspects.of(discoveryScope).add(new DiscoverMonitoredResources(this, discoveryScope));
  }

  /** What is monitored, by construct path: filled in at synth by discovery and by the monitor methods. */
  public get monitoredResources(): ReadonlyMap<string, MonitoredKind> {
    return this.monitored;
  }

  /**
   * Monitors a Lambda function: errors, throttles and p99 duration against a share of `timeout`.
   * Idempotent.
   *
   * @param timeout the function's timeout; defaults to the function's own, else Lambda's 3 seconds
   */
  public monitorFunction(fn: lambda.IFunction, path: string = fn.node.path, timeout?: Duration): void {
    if (this.monitored.has(path)) {
      return;
    }
    this.monitored.set(path, 'lambda');
    const limit = timeout ?? (fn instanceof lambda.Function ? fn.timeout : undefined) ?? Duration.seconds(3);
    const percent = this.props.lambdaP99PercentOfTimeout ?? 80;
    this.facade.monitorLambdaFunction({
      lambdaFunction: fn,
      alarmFriendlyName: friendlyName(path),
      addFaultCountAlarm: { Error: { maxErrorCount: 0 } },
      addThrottlesCountAlarm: { Error: { maxErrorCount: 0 } },
      addLatencyP99Alarm: {
        Warning: { maxLatency: Duration.millis(Math.round((limit.toMilliseconds() * percent) / 100)) },
      },
    });
  }

  /** Monitors a dead-letter queue: any visible message alarms. Idempotent. */
  public monitorDeadLetterQueue(queue: sqs.IQueue, path: string = queue.node.path): void {
    if (this.monitored.get(path) === 'dead-letter-queue') {
      return;
    }
    this.monitored.set(path, 'dead-letter-queue');
    this.facade.monitorSqsQueue({
      queue,
      alarmFriendlyName: friendlyName(path),
      addQueueMaxSizeAlarm: { Error: { maxMessageCount: 0 } },
    });
  }

  /** Monitors a work queue: the oldest message's age alarms past `maxQueueMessageAge`. Idempotent. */
  public monitorQueue(queue: sqs.IQueue, path: string = queue.node.path): void {
    if (this.monitored.has(path)) {
      return;
    }
    this.monitored.set(path, 'queue');
    this.facade.monitorSqsQueue({
      queue,
      alarmFriendlyName: friendlyName(path),
      addQueueMaxMessageAgeAlarm: {
        Warning: { maxAgeInSeconds: (this.props.maxQueueMessageAge ?? Duration.minutes(15)).toSeconds() },
      },
    });
  }

  /**
   * Monitors a SageMaker endpoint's variants: any 5XX invocation error (Error) and p99 model latency
   * above `endpointP99Latency` (Warning). SageMaker publishes these per variant, hence the names.
   * Missing data counts as healthy: an idle endpoint publishes nothing. Idempotent.
   *
   * @param condition a CloudFormation condition the endpoint is created under; the alarms get it too
   */
  public monitorEndpoint(
    endpointName: string,
    variantNames: string[],
    path: string,
    condition?: CfnCondition,
  ): void {
    if (this.monitored.has(path)) {
      return;
    }
    this.monitored.set(path, 'endpoint');
    const latency = this.props.endpointP99Latency ?? Duration.seconds(1);
    const widgets: cloudwatch.IWidget[] = [];
    // The dashboard is not conditional, so its widgets must not reference an endpoint that may not
    // exist: behind the endpoint's condition they name it, otherwise a placeholder with no data.
    const dashboardName = condition
      ? Fn.conditionIf(condition.logicalId, endpointName, 'no-endpoint-deployed').toString()
      : endpointName;
    variantNames.forEach((variantName, i) => {
      const metric = (name: string, metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName,
          dimensionsMap: { EndpointName: name, VariantName: variantName },
          statistic,
          period: Duration.minutes(5),
        });
      const errors = metric(endpointName, 'Invocation5XXErrors', cloudwatch.Stats.SUM);
      // ModelLatency is reported in microseconds.
      const modelLatency = metric(endpointName, 'ModelLatency', cloudwatch.Stats.p(99));
      const alarms = [
        errors.createAlarm(this, `Endpoint${this.monitored.size}V${i}Errors`, {
          alarmDescription: `${path} variant ${variantName}: 5XX invocation errors`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        modelLatency.createAlarm(this, `Endpoint${this.monitored.size}V${i}Latency`, {
          alarmDescription: `${path} variant ${variantName}: p99 model latency above ${latency.toHumanString()}`,
          threshold: latency.toMilliseconds() * 1000,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      ];
      for (const alarm of alarms) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
        if (condition) {
          (alarm.node.defaultChild as CfnResource).cfnOptions.condition = condition;
        }
      }
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `${variantName} 5XX`,
          left: [metric(dashboardName, 'Invocation5XXErrors', cloudwatch.Stats.SUM)],
        }),
        new cloudwatch.GraphWidget({
          title: `${variantName} p99 model latency (µs)`,
          left: [metric(dashboardName, 'ModelLatency', cloudwatch.Stats.p(99))],
        }),
      );
    });
    widgets.forEach((w) => this.facade.addWidget(w));
  }

  private createTopic(removalPolicy: RemovalPolicy): sns.Topic {
    return createEncryptedTopic(this, 'AlarmTopic', {
      description: `Encrypts the MLOps alarm topic of ${this.props.environmentName}`,
      publishers: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'],
      removalPolicy,
    });
  }

  private notifyOnFailures(): void {
    const notify = (id: string, detailType: string, detail: Record<string, string[]>, what: string) =>
      new events.Rule(this, id, {
        description: `Notifies the alarm topic when ${what} fails`,
        eventPattern: { source: ['aws.sagemaker'], detailType: [detailType], detail },
        targets: [
          new targets.SnsTopic(this.alarmTopic, {
            message: events.RuleTargetInput.fromText(
              `${this.props.environmentName}: ${what} failed: ${events.EventField.fromPath('$.resources')} ` +
                `(${events.EventField.fromPath('$.detail')})`,
            ),
          }),
        ],
      });
    // Pipeline execution events use camelCase detail fields; training job events PascalCase.
    notify(
      'PipelineFailed',
      'SageMaker Model Building Pipeline Execution Status Change',
      { currentPipelineExecutionStatus: ['Failed'] },
      'a SageMaker pipeline execution',
    );
    notify(
      'TrainingFailed',
      'SageMaker Training Job State Change',
      { TrainingJobStatus: ['Failed'] },
      'a SageMaker training job',
    );
  }
}

/** Finds every Lambda function, queue and endpoint under the scope at synth and hands it to the monitoring. */
class DiscoverMonitoredResources implements IAspect {
  private done = false;

  constructor(
    private readonly monitoring: PlatformMonitoring,
    private readonly root: IConstruct,
  ) {}

  public visit(node: IConstruct): void {
    // Everything is classified in one pass from the root, because telling a dead-letter queue from
    // a work queue needs the references made by other resources.
    if (this.done || node !== this.root) {
      return;
    }
    this.done = true;
    const resources = this.root.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c));
    const deadLetterTargets = collectDeadLetterTargets(resources);
    const scope = this.monitoring;
    let n = 0;
    for (const resource of resources) {
      const path = resource.node.path;
      if (resource.cfnResourceType === 'AWS::Lambda::Function') {
        const fn = lambda.Function.fromFunctionAttributes(scope, `Discovered${n++}`, {
          functionArn: resource.getAtt('Arn').toString(),
          sameEnvironment: true,
        });
        this.monitoring.monitorFunction(fn, path, timeoutOf(resolvedPropertiesOf(resource)));
      } else if (resource.cfnResourceType === 'AWS::SQS::Queue') {
        const queue = sqs.Queue.fromQueueAttributes(scope, `Discovered${n++}`, {
          queueArn: resource.getAtt('Arn').toString(),
          queueUrl: resource.ref,
          queueName: resource.getAtt('QueueName').toString(),
        });
        if (deadLetterTargets.has(referenceKey(resource))) {
          this.monitoring.monitorDeadLetterQueue(queue, path);
        } else {
          this.monitoring.monitorQueue(queue, path);
        }
      } else if (resource.cfnResourceType === 'AWS::SageMaker::Endpoint') {
        discoverEndpointInto(this.monitoring, resource, path);
      }
    }
  }
}

function discoverEndpointInto(monitoring: PlatformMonitoring, endpoint: CfnResource, path: string): void {
  const variants = variantNamesOf(endpoint);
  if (!variants) {
    Annotations.of(endpoint).addWarningV2(
      'cdk-mlops-maturity:endpointVariantsUnknown',
      "PlatformMonitoring cannot tell this endpoint's variant names (its endpoint config is not a resource of the " +
        'same stack with literal variant names), so it has no alarms: call monitoring.monitorEndpoint() for it.',
    );
    return;
  }
  monitoring.monitorEndpoint(
    endpoint.getAtt('EndpointName').toString(),
    variants,
    path,
    endpoint.cfnOptions.condition,
  );
}

/** A CfnFunction's or provider handler's Timeout property, when it is a plain number of seconds. */
function timeoutOf(properties: Record<string, unknown>): Duration | undefined {
  const seconds = propertyOf(properties, 'timeout');
  return typeof seconds === 'number' ? Duration.seconds(seconds) : undefined;
}

/** The variant names of an endpoint's config, when the config is a resource of the same stack. */
function variantNamesOf(endpoint: CfnResource): string[] | undefined {
  const names = (productionVariantsOf(endpoint) ?? []).map((v) => propertyOf(v, 'variantName'));
  return names.length > 0 && names.every((n): n is string => typeof n === 'string') ? names : undefined;
}

/** Keys of the queues that some resource names as its dead-letter target. */
function collectDeadLetterTargets(resources: CfnResource[]): Set<string> {
  const keys = new Set<string>();
  for (const resource of resources) {
    const stack = Stack.of(resource);
    const text = JSON.stringify(resolvedPropertiesOf(resource));
    // Lambda DeadLetterConfig.TargetArn, SQS RedrivePolicy.deadLetterTargetArn, rule targets' DeadLetterConfig.Arn.
    for (const match of text.matchAll(
      /"(?:DeadLetterConfig|deadLetterConfig|RedrivePolicy|redrivePolicy)":\{[^}]*?\{"Fn::GetAtt":\["([^"]+)","Arn"\]/g,
    )) {
      keys.add(`${stack.artifactId}/${match[1]}`);
    }
  }
  return keys;
}

function referenceKey(resource: CfnResource): string {
  const stack = Stack.of(resource);
  return `${stack.artifactId}/${stack.getLogicalId(resource)}`;
}

/** A readable, unique alarm name part from a construct path. */
function friendlyName(path: string): string {
  return path
    .replace(/\/Resource$/, '')
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .slice(-200);
}

function validateProps(scope: Construct, props: PlatformMonitoringProps): void {
  const problems = new ProblemCollector(`PlatformMonitoring '${scope.node.path}'`);
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(props.environmentName ?? '')) {
    problems.add(
      'environmentName',
      props.environmentName,
      'use 1-40 letters, digits and hyphens, starting with a letter',
    );
  }
  const pct = props.lambdaP99PercentOfTimeout;
  if (pct !== undefined && !(pct > 0 && pct <= 100)) {
    problems.add('lambdaP99PercentOfTimeout', pct, 'use a percentage above 0 and at most 100');
  }
  const age = props.maxQueueMessageAge;
  if (age !== undefined && age.toSeconds() < 60) {
    problems.add(
      'maxQueueMessageAge',
      age.toHumanString(),
      'use at least Duration.minutes(1): SQS reports ages per minute',
    );
  }
  problems.throwIfAny();
}
