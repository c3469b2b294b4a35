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
  Token,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { Construct, IConstruct } from 'constructs';
import { productionVariantsOf, propertyOf, resolvedPropertiesOf } from '../private/cfn-properties';
import { createEncryptedTopic } from '../private/encrypted-topic';
import { MlopsValidationError, ProblemCollector } from '../private/errors';
import { IServingSlot, ServingSlot } from '../serving/serving-slot';

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
   * The scope whose Lambda functions, queues, serving slots and endpoints are discovered and
   * monitored at synth, so that resources added by later tiers are covered without registering
   * them. Only resources of this construct's own stack are monitored: alarms on another stack's
   * resources would import its outputs and reuse conditions that only it defines. Resources of
   * other stacks under the scope are skipped with a warning
   * (`cdk-mlops-maturity:monitoringSkipsOtherStack`); give each stack its own PlatformMonitoring.
   *
   * @default - the stack that holds this construct
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
   * Alarm when an endpoint variant's p99 model latency exceeds this: plain endpoints and serverless
   * serving slots. A real-time ServingSlot is watched by its own rollback alarms, whose threshold
   * is the slot's `rollbackLatency`. A literal: the threshold is converted to microseconds.
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
export type MonitoredKind = 'lambda' | 'dead-letter-queue' | 'queue' | 'endpoint' | 'state-machine';

/**
 * Operational monitoring of one environment (maturity level 1): a dashboard and alarms for every
 * Lambda function (errors, throttles, p99 duration), every dead-letter queue (any message visible)
 * and every other queue (age of the oldest message), every Step Functions state machine (failed,
 * timed-out or aborted executions), plus notifications of failed SageMaker
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
  private readonly queueMessageAgeSeconds: number;
  private readonly endpointLatencyMicroseconds: number;
  private endpointAlarms?: Construct;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    const converted = validateProps(this, props);
    this.queueMessageAgeSeconds = converted.queueMessageAgeSeconds;
    this.endpointLatencyMicroseconds = converted.endpointLatencyMicroseconds;
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
    const discoveryScope = props.discoveryScope ?? Stack.of(this);
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
    const limit = timeout ?? (fn instanceof lambda.Function ? fn.timeout : undefined) ?? Duration.seconds(3);
    const percent = this.props.lambdaP99PercentOfTimeout ?? 80;
    if (limit.isUnresolved()) {
      throw new MlopsValidationError(`PlatformMonitoring '${this.node.path}'`, [
        `the timeout of function ${path} is a token (${limit.toHumanString()}): the p99 duration threshold is a ` +
          'share of it, computed at synth; pass a literal timeout to monitorFunction()',
      ]);
    }
    this.monitored.set(path, 'lambda');
    this.facade.monitorLambdaFunction({
      lambdaFunction: fn,
      alarmFriendlyName: friendlyName(path),
      // Titles the dashboard section by path: the discovered import's id is only a counter.
      humanReadableName: friendlyName(path),
      addFaultCountAlarm: { Error: { maxErrorCount: 0 } },
      addThrottlesCountAlarm: { Error: { maxErrorCount: 0 } },
      addLatencyP99Alarm: {
        Warning: { maxLatency: Duration.millis(Math.round((limit.toMilliseconds() * percent) / 100)) },
      },
    });
  }

  /**
   * Monitors a Step Functions state machine: any failed, timed-out or aborted execution alarms
   * (Error), so that a workflow that ends failed (e.g. a release rolled back) always notifies.
   * Idempotent.
   */
  public monitorStateMachine(stateMachine: sfn.IStateMachine, path: string = stateMachine.node.path): void {
    if (this.monitored.has(path)) {
      return;
    }
    this.monitored.set(path, 'state-machine');
    this.facade.monitorStepFunction({
      stateMachine,
      alarmFriendlyName: friendlyName(path),
      humanReadableName: friendlyName(path),
      addFailedExecutionCountAlarm: { Error: { maxErrorCount: 0 } },
      addTimedOutExecutionCountAlarm: { Error: { maxErrorCount: 0 } },
      addAbortedExecutionCountAlarm: { Error: { maxErrorCount: 0 } },
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
      // Titles the dashboard section by path: the discovered import's id is only a counter.
      humanReadableName: friendlyName(path),
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
      // Titles the dashboard section by path: the discovered import's id is only a counter.
      humanReadableName: friendlyName(path),
      addQueueMaxMessageAgeAlarm: {
        Warning: { maxAgeInSeconds: this.queueMessageAgeSeconds },
      },
    });
  }

  /**
   * Monitors a serving slot with one set of alarms: any 5XX invocation error and p99 model latency.
   *
   * A real-time ServingSlot already has those alarms, to roll blue/green updates back: they get the
   * topic as their action instead of being built again (one-minute periods and the slot's
   * `rollbackLatency`; see ServingSlot). A serverless slot, or an imported one, gets the same two
   * alarms through its `metric5xxErrors()` and `metricModelLatency()`, with `endpointP99Latency`.
   * A created slot's alarms carry its `released` condition. Idempotent.
   *
   * Discovery calls this for every ServingSlot of the stack, and then leaves the slot's endpoint
   * to it. A ServingSlot of another stack (e.g. a serving stack) gets its alarms in that stack,
   * named after its endpoint and notifying this topic; its widgets go on this dashboard.
   */
  public monitorServingSlot(slot: IServingSlot): void {
    const path = slot instanceof ServingSlot ? slot.endpoint.node.path : slot.node.path;
    if (this.monitored.has(path)) {
      return;
    }
    // A created slot of another stack (e.g. the environment's serving stack) gets its alarms in that
    // stack, beside the condition they carry; an imported slot gets them here.
    const elsewhere = slot instanceof ServingSlot && Stack.of(slot) !== Stack.of(this);
    this.monitored.set(path, 'endpoint');
    const released = slot instanceof ServingSlot ? slot.released : undefined;
    let alarms: cloudwatch.Alarm[];
    if (slot instanceof ServingSlot && slot.rollbackAlarms.length > 0) {
      alarms = slot.rollbackAlarms;
    } else {
      const scope = elsewhere ? new Construct(slot, 'Alarms') : this.alarmScopeFor(path);
      const variant = slot.variantName;
      // Named after the endpoint in another stack, so that a role managing only that stack's
      // alarms can name them (docs/adr/0006).
      const name = (suffix: string) =>
        elsewhere && !Token.isUnresolved(slot.endpointName) ? `${slot.endpointName}-${suffix}` : undefined;
      alarms = [
        slot.metric5xxErrors().createAlarm(scope, `${variant}Errors`, {
          alarmName: name('errors'),
          alarmDescription: `${path} variant ${variant}: 5XX invocation errors`,
          ...ENDPOINT_ERRORS_ALARM,
        }),
        slot.metricModelLatency().createAlarm(scope, `${variant}Latency`, {
          alarmName: name('latency'),
          alarmDescription: `${path} variant ${variant}: p99 model latency above ${this.endpointLatency.toHumanString()}`,
          threshold: this.endpointLatencyMicroseconds,
          ...ENDPOINT_LATENCY_ALARM,
        }),
      ];
      if (released) {
        alarms.forEach((a) => ((a.node.defaultChild as CfnResource).cfnOptions.condition = released));
      }
    }
    if (slot instanceof ServingSlot) {
      // A test variant's alarms carry its own condition; they notify like the champion's.
      alarms = [...alarms, ...(slot.challenger?.alarms ?? []), ...(slot.shadow?.alarms ?? [])];
    }
    alarms.forEach((a) => a.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic)));
    // The slot's endpoint name is its own literal (or the user's token), not a reference to the
    // conditional endpoint, so the unconditional dashboard may name it.
    // Titled after the endpoint (in the platform, `mlops-<environment>-<model>`), so that the widgets
    // of several slots on one dashboard tell them apart; a token name would print as a token.
    const title = `${Token.isUnresolved(slot.endpointName) ? slot.node.path : slot.endpointName} ${slot.variantName}`;
    this.facade.addWidget(
      new cloudwatch.GraphWidget({ title: `${title} 5XX`, left: [slot.metric5xxErrors()] }),
    );
    this.facade.addWidget(
      new cloudwatch.GraphWidget({
        title: `${title} p99 model latency (µs)`,
        left: [slot.metricModelLatency()],
      }),
    );
  }

  /**
   * Monitors a SageMaker endpoint's variants: any 5XX invocation error (Error) and p99 model latency
   * above `endpointP99Latency` (Warning). SageMaker publishes these per variant, hence the names.
   * Missing data counts as healthy: an idle endpoint publishes nothing. Periods are one minute, as
   * for serving slots (see `monitorServingSlot`). For an endpoint of a ServingSlot, use
   * `monitorServingSlot`. Idempotent.
   *
   * The alarms' construct ids derive from `path`, so adding an endpoint does not rename (and so
   * replace) the alarms of the others.
   *
   * @param condition a CloudFormation condition the endpoint is created under, of this stack; the
   * alarms get it too
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
    if (condition && Stack.of(condition) !== Stack.of(this)) {
      throw new MlopsValidationError(`PlatformMonitoring '${this.node.path}'`, [
        `condition ${condition.node.path} of endpoint ${path} is defined in stack ${Stack.of(condition).stackName}, ` +
          'and a template can only use its own conditions: monitor that endpoint from its own stack',
      ]);
    }
    this.monitored.set(path, 'endpoint');
    const scope = this.alarmScopeFor(path);
    const widgets: cloudwatch.IWidget[] = [];
    // The dashboard is not conditional, so its widgets must not reference an endpoint that may not
    // exist: behind the endpoint's condition they name it, otherwise a placeholder with no data.
    const dashboardName = condition
      ? Fn.conditionIf(condition.logicalId, endpointName, 'no-endpoint-deployed').toString()
      : endpointName;
    for (const variantName of variantNames) {
      const metric = (name: string, metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName,
          dimensionsMap: { EndpointName: name, VariantName: variantName },
          statistic,
          period: Duration.minutes(1),
        });
      const alarms = [
        metric(endpointName, 'Invocation5XXErrors', cloudwatch.Stats.SUM).createAlarm(
          scope,
          `${variantName}Errors`,
          {
            alarmDescription: `${path} variant ${variantName}: 5XX invocation errors`,
            ...ENDPOINT_ERRORS_ALARM,
          },
        ),
        metric(endpointName, 'ModelLatency', cloudwatch.Stats.p(99)).createAlarm(
          scope,
          `${variantName}Latency`,
          {
            alarmDescription: `${path} variant ${variantName}: p99 model latency above ${this.endpointLatency.toHumanString()}`,
            threshold: this.endpointLatencyMicroseconds,
            ...ENDPOINT_LATENCY_ALARM,
          },
        ),
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
    }
    widgets.forEach((w) => this.facade.addWidget(w));
  }

  private get endpointLatency(): Duration {
    return this.props.endpointP99Latency ?? Duration.seconds(1);
  }

  /**
   * The scope of one endpoint's alarms, named after the endpoint's path within its stack: a stable
   * id, where one from discovery order would rename the alarms when an endpoint is added.
   */
  private alarmScopeFor(path: string): Construct {
    this.endpointAlarms ??= new Construct(this, 'Endpoints');
    const stackPath = Stack.of(this).node.path;
    const relative = stackPath && path.startsWith(`${stackPath}/`) ? path.slice(stackPath.length + 1) : path;
    const id = relative.replace(/\/Resource$/, '').replace(/[^A-Za-z0-9-]+/g, '-');
    return (this.endpointAlarms.node.tryFindChild(id) as Construct) ?? new Construct(this.endpointAlarms, id);
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

/**
 * The one set of endpoint alarm settings, shared with the serving slot's rollback alarms (one-minute
 * periods; see ServingSlot). Missing data is healthy: an idle endpoint publishes nothing.
 */
const ENDPOINT_ERRORS_ALARM = {
  threshold: 0,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  evaluationPeriods: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
};
const ENDPOINT_LATENCY_ALARM = {
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
};

/**
 * Finds every Lambda function, queue, serving slot and endpoint of the monitoring's own stack under
 * the scope at synth and hands it to the monitoring; warns about those of other stacks.
 */
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
    const own = Stack.of(this.monitoring);
    const skipped = new Map<Stack, string[]>();
    const ownStack = (c: IConstruct): boolean => {
      const stack = Stack.of(c);
      if (stack !== own) {
        skipped.set(stack, [...(skipped.get(stack) ?? []), c.node.path]);
      }
      return stack === own;
    };
    const all = this.root.node.findAll();
    const slots = all.filter((c): c is ServingSlot => c instanceof ServingSlot);
    const slotEndpoints = new Set(slots.map((slot) => slot.endpoint.node.path));
    for (const slot of slots.filter(ownStack)) {
      this.monitoring.monitorServingSlot(slot);
    }
    const resources = all.filter((c): c is CfnResource => CfnResource.isCfnResource(c));
    const deadLetterTargets = collectDeadLetterTargets(resources);
    const scope = this.monitoring;
    let n = 0;
    for (const resource of resources) {
      const path = resource.node.path;
      if (
        !MONITORED_TYPES.includes(resource.cfnResourceType) ||
        slotEndpoints.has(path) ||
        !ownStack(resource)
      ) {
        continue;
      }
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
      } else if (resource.cfnResourceType === 'AWS::StepFunctions::StateMachine') {
        const machine = sfn.StateMachine.fromStateMachineArn(scope, `Discovered${n++}`, resource.ref);
        this.monitoring.monitorStateMachine(machine, path);
      }
    }
    for (const [stack, paths] of skipped) {
      Annotations.of(this.monitoring).addWarningV2(
        'cdk-mlops-maturity:monitoringSkipsOtherStack',
        `PlatformMonitoring watches only its own stack (${own.stackName}) and skipped ${paths.length} resource(s) ` +
          `of stack ${stack.stackName}: ${paths.join(', ')}. Give stack ${stack.stackName} its own PlatformMonitoring.`,
      );
    }
  }
}

const MONITORED_TYPES = [
  'AWS::Lambda::Function',
  'AWS::SQS::Queue',
  'AWS::SageMaker::Endpoint',
  'AWS::StepFunctions::StateMachine',
];

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

function validateProps(
  scope: Construct,
  props: PlatformMonitoringProps,
): { queueMessageAgeSeconds: number; endpointLatencyMicroseconds: number } {
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
  const age = props.maxQueueMessageAge ?? Duration.minutes(15);
  let queueMessageAgeSeconds = 0;
  if (age.isUnresolved()) {
    // The alarm threshold takes a token, but only one already in seconds: there is no conversion.
    try {
      queueMessageAgeSeconds = age.toSeconds();
    } catch {
      problems.add(
        'maxQueueMessageAge',
        age.toHumanString(),
        'a token age becomes the alarm threshold in seconds as it is: use Duration.seconds(token)',
      );
    }
  } else {
    queueMessageAgeSeconds = age.toSeconds();
    if (queueMessageAgeSeconds < 60) {
      problems.add(
        'maxQueueMessageAge',
        age.toHumanString(),
        'use at least Duration.minutes(1): SQS reports ages per minute',
      );
    }
  }
  const endpointLatencyMicroseconds =
    problems.latencyMicroseconds('endpointP99Latency', props.endpointP99Latency ?? Duration.seconds(1)) ?? 0;
  problems.throwIfAny();
  return { queueMessageAgeSeconds, endpointLatencyMicroseconds };
}
