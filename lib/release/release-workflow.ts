import { Annotations, ArnFormat, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { handlerFunction } from '../private/handler-function';
import { notifyState } from '../private/notify-state';
import { acknowledgeGeneratedPolicyWildcards, acknowledgeWildcards } from '../private/nag-acknowledgements';
import { ENVIRONMENT_NAME, MODEL_NAME, SAGEMAKER_NAME } from '../private/patterns';
import { IModelRegistry } from '../registry/model-registry';
import {
  CHALLENGER_VARIANT,
  SHADOW_VARIANT,
  variantPointerParameterName,
  variantWeightParameterName,
} from '../serving/naming';
import { IReleasePointer, ReleasePointer } from '../serving/release-pointer';
import { VariantWeight } from '../serving/variant-weight';
import { releaseOrchestratorPath } from './release-role';

/** One environment a release workflow promotes to, in order. */
export interface ReleaseWorkflowTarget {
  /** The environment's name, in state names and notifications. */
  readonly environmentName: string;
  /** The stack that holds the model's serving slot and reads its pointer. */
  readonly stackName: string;
  /** The model's release pointer in that environment. */
  readonly pointer: IReleasePointer;
  /**
   * The stack's region.
   *
   * @default - the workflow's region
   */
  readonly region?: string;
  /**
   * The stack's account: a stack found under another account is refused.
   *
   * @default - the workflow's account
   */
  readonly account?: string;
  /**
   * Wait for a person to approve before releasing to this environment (e.g. prod): the workflow
   * publishes a task token to `notificationTopic` and waits for `aws stepfunctions
   * send-task-success` (approve) or `send-task-failure` (reject) with it, up to `approvalTimeout`.
   *
   * @default false
   */
  readonly manualApproval?: boolean;
  /**
   * The environment's serving-only CloudFormation role (docs/adr/0006, `ServingDeployRole`): every
   * release updates the serving stack through it, whatever role the stack was last deployed with.
   * The workflow (or the release role) may update that stack only through this role, and pass it to
   * CloudFormation only.
   *
   * @default - none: the stack is updated with its own role, which the workflow is not allowed to
   * pass, so a stack deployed with CDK's execution role cannot be released to by the workflow
   */
  readonly cloudFormationRoleArn?: string;
  /**
   * The environment's release role (`ReleaseRole`), e.g. in another account: imported with
   * `iam.Role.fromRoleArn(this, 'ProdRelease', 'arn:aws:iam::222222222222:role/mlops-prod-release')`.
   * With it, the step and health functions make every call for this environment through a session
   * of that role, and are granted nothing in the environment themselves: only `sts:AssumeRole` on
   * it. Needs `cloudFormationRoleArn` (the role may update the stack only through it) and the
   * workflow's `sourceEnvironmentName` (the role trusts only the workflows of that environment).
   *
   * @default - none: the functions' own roles are granted the environment's pointer, stack,
   * registry, endpoint and alarms directly (the environment must be in the workflow's account)
   */
  readonly releaseRole?: iam.IRole;
  /**
   * After the release, wait `soakTime` and check the environment's health; when it is unhealthy,
   * release the package it served before again (when it served one) and end the execution failed.
   *
   * @default - no health gate: the environment is done when its stack update succeeds
   */
  readonly healthCheck?: ReleaseHealthCheck;
  /**
   * The test variants of the model's slot in this environment, which executions started with a
   * `variant`, `promote` or `stopVariant` input release to (see `ReleaseWorkflowInput`). The
   * workflow may write their pointers and weights too.
   *
   * @default - the challenger and the shadow under the names the platform gives them:
   * `/mlops/<environmentName>/serving/<modelName>/variants/<variant>/model-package-arn` and
   * `.../weight`. A release to a variant the slot does not offer is refused before anything is
   * written: its parameters do not exist, or the stack does not read them.
   */
  readonly variants?: ReleaseWorkflowVariants;
  /**
   * Whether the online gate's trials (`onlineTrial` inputs: the challenger as the shadow, and the
   * stop that ends it) release to this environment. An environment whose slot has no shadow
   * variant, or whose releases wait for a person, should not take them: the execution skips it
   * (the state `<Env>SkipsOnlineTrial` in its history) and goes on with the next.
   *
   * @default true
   */
  readonly onlineTrials?: boolean;
}

/** The test variants of a model's slot in one environment. */
export interface ReleaseWorkflowVariants {
  /**
   * The A/B test's variant, which answers its share of the requests.
   *
   * @default - none: the workflow releases no challenger to this environment
   */
  readonly challenger?: ReleaseWorkflowVariant;
  /**
   * The shadow test's variant, which gets a copy of its share of the requests.
   *
   * @default - none: the workflow releases no shadow to this environment
   */
  readonly shadow?: ReleaseWorkflowVariant;
}

/** The parameters a slot's variant serves from. */
export interface ReleaseWorkflowVariant {
  /** The variant's release pointer (`ReleasePointer` with a `variant`). */
  readonly pointer: IReleasePointer;
  /** The variant's traffic share (`VariantWeight`). */
  readonly weight: IReleasePointer;
}

/** How a release workflow tells that an environment is healthy after a release. */
export interface ReleaseHealthCheck {
  /** The endpoint of the model's serving slot in that environment: it must be InService. */
  readonly endpointName: string;
  /**
   * Alarms that must not be in ALARM at the end of the soak time, e.g. the slot's 5XX and latency
   * alarms. An alarm that does not exist counts as unhealthy.
   *
   * @default - none
   */
  readonly alarmNames?: string[];
  /**
   * A request the released model must answer (one invocation of the endpoint), e.g. one CSV row
   * of features.
   *
   * @default - no smoke invocation
   */
  readonly smokeTest?: { readonly contentType: string; readonly body: string };
}

/** Props of a ReleaseWorkflow. */
export interface ReleaseWorkflowProps {
  /** The model the workflow releases, in names and notifications. */
  readonly modelName: string;
  /**
   * The registry whose approved versions the workflow releases: a package of another group is
   * refused before anything is written.
   */
  readonly modelRegistry: IModelRegistry;
  /** The environments to release to, in promotion order (e.g. staging, then prod). At least one. */
  readonly targets: ReleaseWorkflowTarget[];
  /**
   * Where failed releases (and, with `notifyOnSuccess`, completed ones) are announced.
   *
   * @default - no notifications; a failed execution is still visible (and alarmed) in Step Functions
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * Also announce each completed release.
   *
   * @default false
   */
  readonly notifyOnSuccess?: boolean;
  /**
   * How long the workflow waits between two checks of a stack update.
   *
   * @default Duration.seconds(30)
   */
  readonly pollInterval?: Duration;
  /**
   * How long one environment's stack update may take before it is cancelled and the pointer
   * restored.
   *
   * @default Duration.hours(1)
   */
  readonly updateTimeout?: Duration;
  /**
   * How long an environment serves the new model before its health gate is checked.
   *
   * @default Duration.minutes(10)
   */
  readonly soakTime?: Duration;
  /**
   * How long a manual approval may wait before the release is abandoned (the environments already
   * released keep the new model).
   *
   * @default Duration.days(3)
   */
  readonly approvalTimeout?: Duration;
  /**
   * The environment the workflow belongs to, e.g. `dev`, where the registry is. The step and health
   * functions' roles get the IAM path `/mlops-release-orchestrator/<sourceEnvironmentName>/`, which is
   * what the targets' release roles trust. Changing it replaces those roles.
   *
   * @default - the roles have no path; no target may have a `releaseRole`
   */
  readonly sourceEnvironmentName?: string;
  /**
   * What happens to the workflow's log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The CloudWatch namespace of the release automation's own metrics (started, ignored, rejected events). */
export const RELEASE_METRICS_NAMESPACE = 'cdk-mlops-maturity/Release';

/**
 * The input an execution takes, one of:
 *
 * - `{"modelPackageArn"}`: each environment's champion serves that version (what an approval
 *   starts);
 * - `{"modelPackageArn"?, "variant", "weightPercent"?}`: the variant (`challenger` or `shadow`)
 *   serves the version, and/or takes that share of the requests (whole percent, 0 to 100);
 * - `{"promote": true, "variant"?}`: the champion takes the variant's package (default the
 *   challenger's) and the variant serves nothing, in one update per environment;
 * - `{"stopVariant"}`: the variant serves nothing;
 * - `{"modelPackageArn", "variant": "shadow", "onlineTrial": true, "weightPercent"?}`: the online
 *   gate's trial (`OnlineGateWorkflow`): the shadow serves a package that is still
 *   PendingManualApproval. It is the only release of a package that is not Approved, and only to
 *   the shadow, which answers no request;
 * - `{"stopVariant": "shadow", "onlineTrial": true}`: the end of that trial: the shadow serves nothing.
 *
 * Each is applied to every target in order, with their approvals and health gates; the two online
 * trial inputs skip the targets with `onlineTrials: false`. Any other
 * input (an unknown field, a variant other than `challenger` or `shadow`, a weight without a
 * variant, ...) fails the execution before anything is read or written, with error
 * `InvalidReleaseInput`.
 */
export interface ReleaseWorkflowInput {
  readonly modelPackageArn?: string;
  readonly variant?: 'challenger' | 'shadow';
  readonly weightPercent?: number;
  readonly promote?: true;
  readonly stopVariant?: 'challenger' | 'shadow';
  readonly onlineTrial?: true;
}

/**
 * A model's release workflow (part of level 3, release on approval): a Step Functions standard
 * workflow that releases one model package version to each target environment in order, through
 * the release engine that `npm run release` drives (one Lambda step starts a release, another
 * checks its stack update every `pollInterval`). A target whose update fails has its pointer
 * restored by the engine, so it keeps serving its last good model; targets already released keep
 * the new one; the execution ends failed with the reason, and the topic is notified.
 *
 * An EventBridge rule on the registry's approvals invokes a trigger function, which starts one
 * execution per approved version (named after the package ARN, so duplicate events start
 * nothing); an execution can also be started by hand with `{"modelPackageArn": "<ARN>"}`, or with
 * a variant's release, a promotion or a stop (`ReleaseWorkflowInput`), whose input is checked
 * before any environment is touched.
 *
 * Least privilege (docs/adr/0006): a target with a `cloudFormationRoleArn` is updated only through
 * that serving-only role, the only role the workflow may pass (to CloudFormation only); a target
 * without one gets no `iam:PassRole` at all, since passing CDK's execution role would let a misused
 * role deploy any template. A target with a `releaseRole` is reached only through that role, whose
 * own grants stop at the environment's serving resources; the workflow's roles then hold nothing
 * in that environment but `sts:AssumeRole`.
 */
export class ReleaseWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The function that runs each release step. */
  public readonly stepFunction: nodejs.NodejsFunction;
  /** The function that checks an environment's health after a release, when a target has a health gate. */
  public readonly healthFunction?: nodejs.NodejsFunction;
  /** The function that starts an execution when a version of the registry's group is approved. */
  public readonly triggerFunction: nodejs.NodejsFunction;
  /** The rule on the registry's approvals that invokes `triggerFunction`. */
  public readonly approvalRule: events.Rule;
  /** Where approval events go that the trigger could not handle after its retries. */
  public readonly triggerDeadLetterQueue: sqs.Queue;
  private readonly defaultVariants = new Map<ReleaseWorkflowTarget, ReleaseWorkflowVariants>();

  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id);
    const poll = props.pollInterval ?? Duration.seconds(30);
    const timeout = props.updateTimeout ?? Duration.hours(1);
    validate(this, props, poll, timeout);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const rolePath = props.sourceEnvironmentName
      ? releaseOrchestratorPath(props.sourceEnvironmentName)
      : undefined;
    const step = this.handlerFunction('Step', 'release-step', removalPolicy, {
      description: `Starts and checks the releases of model ${props.modelName}`,
      // A step reads and writes a few API objects; the slowest is a stack update's first check.
      timeout: Duration.minutes(2),
      environment: {
        POWERTOOLS_SERVICE_NAME: `release-${props.modelName}`,
        RELEASE_POLL_INTERVAL_SECONDS: String(poll.toSeconds()),
        RELEASE_TIMEOUT_SECONDS: String(timeout.toSeconds()),
        MODEL_NAME: props.modelName,
      },
      rolePath,
    });
    this.stepFunction = step.fn;
    const role = step.role;
    this.grantReleases(role, props);

    if (props.targets.some((t) => t.healthCheck)) {
      this.healthFunction = this.createHealthFunction(props, removalPolicy, rolePath);
    }
    const definition = this.definition(props, poll);
    const machineLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: `Releases an approved version of model ${props.modelName} to ${props.targets
        .map((t) => t.environmentName)
        .join(', then ')}`,
      // Every target's update may take `timeout`, plus the checks' own time, plus any approvals.
      timeout: Duration.seconds(
        props.targets.length * (timeout.toSeconds() + 15 * 60) +
          props.targets.filter((t) => t.manualApproval).length *
            (props.approvalTimeout ?? Duration.days(3)).toSeconds() +
          // A health gate soaks, then may restore, which takes another update.
          props.targets.filter((t) => t.healthCheck).length *
            ((props.soakTime ?? Duration.minutes(10)).toSeconds() + timeout.toSeconds() + 15 * 60),
      ),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const trigger = this.createTrigger(props, removalPolicy);
    this.triggerFunction = trigger.fn;
    this.triggerDeadLetterQueue = trigger.deadLetterQueue;
    // One execution per approved version, whatever the number of deliveries: the trigger names
    // the execution after the package ARN.
    this.approvalRule = props.modelRegistry.onApproved(`ReleaseOnApproval${Names.uniqueId(this)}`, {
      description: `Starts the release workflow of model ${props.modelName} when a version is approved`,
      target: new targets.LambdaFunction(trigger.fn, {
        retryAttempts: 4,
        deadLetterQueue: trigger.deadLetterQueue,
      }),
    });

    acknowledgeGeneratedPolicyWildcards(
      this.stateMachine,
      "The state machine invokes the step function's versions (`<arn>:*`), as the Step Functions Lambda " +
        'integration grants, and writes X-Ray traces and log deliveries, which have no resource ARNs.',
    );
  }

  /**
   * A handler of `lambda/<entry>/`, bundled by esbuild (the runtime's AWS SDK left out), with its
   * own role and log group: the role gets only what the caller grants.
   */
  private handlerFunction(
    id: string,
    entry: string,
    removalPolicy: RemovalPolicy,
    {
      rolePath,
      ...options
    }: Pick<
      nodejs.NodejsFunctionProps,
      'description' | 'timeout' | 'environment' | 'deadLetterQueue' | 'retryAttempts'
    > & { rolePath?: string },
  ): { fn: nodejs.NodejsFunction; role: iam.Role } {
    return handlerFunction(this, id, { ...options, entry, removalPolicy, rolePath, memorySize: 256 });
  }

  private createHealthFunction(
    props: ReleaseWorkflowProps,
    removalPolicy: RemovalPolicy,
    rolePath: string | undefined,
  ): nodejs.NodejsFunction {
    const { fn, role } = this.handlerFunction('Health', 'release-health', removalPolicy, {
      description: `Checks the health of model ${props.modelName} after its releases`,
      timeout: Duration.minutes(1),
      environment: {
        POWERTOOLS_SERVICE_NAME: `release-health-${props.modelName}`,
        MODEL_NAME: props.modelName,
      },
      rolePath,
    });
    const stack = Stack.of(this);
    const gatedTargets = props.targets.filter((t) => t.healthCheck);
    grantAssumeReleaseRoles(role, gatedTargets);
    // A target with a release role is checked through it: nothing is granted here for it.
    const gated = gatedTargets.filter((t) => !t.releaseRole);
    if (gated.length === 0) {
      return fn;
    }
    const endpointArn = (t: ReleaseWorkflowTarget) =>
      stack.formatArn({
        service: 'sagemaker',
        resource: 'endpoint',
        // IAM matches SageMaker ARNs in lower case.
        resourceName: t.healthCheck!.endpointName.toLowerCase(),
        region: t.region,
        account: t.account,
      });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheEndpoints',
        actions: ['sagemaker:DescribeEndpoint'],
        resources: gated.map(endpointArn),
      }),
    );
    const smoke = gated.filter((t) => t.healthCheck!.smokeTest);
    if (smoke.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SmokeTestTheEndpoints',
          actions: ['sagemaker:InvokeEndpoint'],
          resources: smoke.map(endpointArn),
        }),
      );
    }
    const alarms = gated.flatMap((t) =>
      (t.healthCheck!.alarmNames ?? []).map((name) =>
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          region: t.region,
          account: t.account,
        }),
      ),
    );
    if (alarms.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadTheAlarms',
          actions: ['cloudwatch:DescribeAlarms'],
          resources: alarms,
        }),
      );
    }
    return fn;
  }

  /**
   * Soak, check the health, and when unhealthy release the previous package again: the
   * environment's last good model.
   */
  private healthGate(
    target: ReleaseWorkflowTarget,
    props: ReleaseWorkflowProps,
    workflowTarget: Record<string, unknown>,
    notify: (id: string, message: string, subject: string) => sfn.INextable & sfn.IChainable,
    failed: sfn.Fail,
    released: sfn.IChainable,
  ): sfn.IChainable {
    const env = target.environmentName;
    const name = pascal(env);
    const check = target.healthCheck!;
    const soak = new sfn.Wait(this, `Soak${name}`, {
      time: sfn.WaitTime.duration(props.soakTime ?? Duration.minutes(10)),
      comment: `${env} serves the new model for the soak time before its health is checked`,
    });
    const health = new tasks.LambdaInvoke(this, `Health${name}`, {
      lambdaFunction: this.healthFunction!,
      comment: `Endpoint InService, no alarm in ALARM${check.smokeTest ? ', a smoke invocation answers' : ''}`,
      payload: sfn.TaskInput.fromObject({
        region: target.region ?? Stack.of(this).region,
        endpointName: check.endpointName,
        alarmNames: check.alarmNames ?? [],
        ...(check.smokeTest ? { smokeTest: check.smokeTest } : {}),
        ...(target.releaseRole ? { releaseRoleArn: target.releaseRole.roleArn } : {}),
      }),
      resultSelector: { 'healthy.$': '$.Payload.healthy', 'reasons.$': '$.Payload.reasons' },
      resultPath: '$.health',
      retryOnServiceExceptions: true,
    });
    // A gate that cannot tell counts as unhealthy.
    const unhealthy = new sfn.Pass(this, `${name}Unhealthy`, {
      parameters: { Error: 'Unhealthy', 'Cause.$': 'States.JsonToString($.health.reasons)' },
      resultPath: '$.failure',
    });
    const gateFailed = new sfn.Pass(this, `${name}HealthUnknown`, {
      parameters: { Error: 'Unhealthy', 'Cause.$': '$.failure.Cause' },
      resultPath: '$.failure',
    });
    health.addCatch(gateFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    // Restore: release what the environment served before (every pointer the release changed),
    // through the same engine steps.
    const restoreFailed = notify(
      `Notify${name}NotRestored`,
      `States.Format('Release of {} to ${env} is unhealthy ({}), and restoring the previous model failed: {}', $.release.description, $.failure.Cause, $.restoreFailure.Cause)`,
      `Release to ${env} unhealthy, not restored`,
    ).next(failed);
    const restore = this.stepTask(
      `Restore${name}`,
      `Releases the package ${env} served before`,
      {
        action: 'restore',
        target: workflowTarget,
        'result.$': '$.step.detail.result',
        ...releaseRoleOf(target),
      },
      '$.restore',
    );
    const restoreCheck = this.stepTask(
      `CheckRestore${name}`,
      `Reads the restoring stack update of ${env} once`,
      { action: 'check', 'token.$': '$.restore.detail.token', ...releaseRoleOf(target) },
      '$.restore',
    );
    for (const state of [restore, restoreCheck]) {
      state.addCatch(restoreFailed, { errors: ['States.ALL'], resultPath: '$.restoreFailure' });
    }
    const restoreWait = new sfn.Wait(this, `WaitRestore${name}`, {
      time: sfn.WaitTime.duration(props.pollInterval ?? Duration.seconds(30)),
    });
    const restoredNotice = new sfn.Choice(this, `${name}RestoredWhat`)
      .when(
        sfn.Condition.stringEquals('$.release.kind', 'champion'),
        notify(
          `Notify${name}Restored`,
          `States.Format('Release of {} to ${env} is unhealthy ({}): ${env} serves {} again', $.release.description, $.failure.Cause, $.step.detail.result.previous)`,
          `Release to ${env} unhealthy, previous model restored`,
        ).next(failed),
      )
      .otherwise(
        notify(
          `Notify${name}VariantsRestored`,
          `States.Format('Release of {} to ${env} is unhealthy ({}): ${env} serves what it served before again ({})', $.release.description, $.failure.Cause, States.JsonToString($.step.detail.result.pointers))`,
          `Release to ${env} unhealthy, previous models restored`,
        ).next(failed),
      );
    const restoreUpdateFailed = new sfn.Pass(this, `${name}RestoreUpdateFailed`, {
      parameters: { Error: 'UpdateFailed', 'Cause.$': '$.restore.detail.failure.message' },
      resultPath: '$.restoreFailure',
    }).next(restoreFailed);
    const restoreOutcome = new sfn.Choice(this, `${name}RestoreOutcome`)
      .when(sfn.Condition.stringEquals('$.restore.status', 'updating'), restoreWait.next(restoreCheck))
      .when(sfn.Condition.stringEquals('$.restore.status', 'failed'), restoreUpdateFailed)
      .otherwise(restoredNotice);
    restore.next(restoreOutcome);
    restoreCheck.next(restoreOutcome);

    const nothingToRestore = notify(
      `Notify${name}NothingToRestore`,
      `States.Format('Release of {} to ${env} is unhealthy ({}); ${env} served no model before, so it keeps this one: release another version', $.release.description, $.failure.Cause)`,
      `Release to ${env} unhealthy`,
    ).next(failed);
    const unchanged = notify(
      `Notify${name}Unchanged`,
      `States.Format('Release of {} to ${env} is unhealthy ({}), but the release changed nothing there: there is nothing to restore', $.release.description, $.failure.Cause)`,
      `Release to ${env} unhealthy`,
    ).next(failed);
    const champion = sfn.Condition.stringEquals('$.release.kind', 'champion');
    const canRestore = new sfn.Choice(this, `${name}CanRestore`)
      .when(sfn.Condition.stringEquals('$.step.detail.result.status', 'unchanged'), unchanged)
      // A champion that served nothing before keeps the new model: restoring none would leave the
      // environment without an endpoint. A variant is given back what it served before, none too.
      .when(
        sfn.Condition.and(champion, sfn.Condition.stringEquals('$.step.detail.result.previous', 'none')),
        nothingToRestore,
      )
      .when(
        sfn.Condition.and(
          champion,
          sfn.Condition.stringEqualsJsonPath('$.step.detail.result.previous', '$.release.modelPackageArn'),
        ),
        unchanged,
      )
      .otherwise(restore);
    unhealthy.next(canRestore);
    gateFailed.next(canRestore);
    return soak
      .next(health)
      .next(
        new sfn.Choice(this, `${name}Healthy`)
          .when(sfn.Condition.booleanEquals('$.health.healthy', true), released)
          .otherwise(unhealthy),
      );
  }

  private createTrigger(
    props: ReleaseWorkflowProps,
    removalPolicy: RemovalPolicy,
  ): { fn: nodejs.NodejsFunction; deadLetterQueue: sqs.Queue } {
    const deadLetterQueue = new sqs.Queue(this, 'TriggerDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    const { fn, role } = this.handlerFunction('Trigger', 'release-trigger', removalPolicy, {
      description: `Starts the release workflow of model ${props.modelName} when a version is approved`,
      timeout: Duration.seconds(30),
      // Events the function fails on after Lambda's retries land here, and are alarmed.
      deadLetterQueue,
      retryAttempts: 2,
      environment: {
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        MODEL_PACKAGE_GROUP_NAME: props.modelRegistry.modelPackageGroupName,
        MODEL_NAME: props.modelName,
        POWERTOOLS_SERVICE_NAME: `release-trigger-${props.modelName}`,
        POWERTOOLS_METRICS_NAMESPACE: RELEASE_METRICS_NAMESPACE,
      },
    });
    this.stateMachine.grantStartExecution(role);
    return { fn, deadLetterQueue };
  }

  private grantReleases(role: iam.IRole, props: ReleaseWorkflowProps): void {
    const stack = Stack.of(this);
    grantAssumeReleaseRoles(role, props.targets);
    // Targets with a release role are released through it: nothing is granted here for them.
    const direct = props.targets.filter((t) => !t.releaseRole);
    if (direct.length === 0) {
      return;
    }
    for (const target of direct) {
      target.pointer.grantWrite(role);
      for (const variant of Object.values(this.variantsOf(target, props))) {
        variant.pointer.grantWrite(role);
        variant.weight.grantWrite(role);
      }
    }
    props.modelRegistry.grantRead(role);
    const stackArn = (t: ReleaseWorkflowTarget) =>
      stack.formatArn({
        service: 'cloudformation',
        resource: 'stack',
        resourceName: `${t.stackName}/*`,
        region: t.region,
        account: t.account,
      });
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadTheServingStacks',
        actions: [
          'cloudformation:DescribeStacks',
          'cloudformation:DescribeStackEvents',
          'cloudformation:CancelUpdateStack',
        ],
        resources: direct.map(stackArn),
      }),
    ];
    // Stacks without a serving-only role are updated with whatever role they have (no PassRole is
    // granted, so a CDK-deployed stack cannot be updated: docs/adr/0006); stacks with one only
    // through it, and the role may be passed to CloudFormation and nowhere else.
    const unscoped = direct.filter((t) => !t.cloudFormationRoleArn);
    if (unscoped.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'UpdateTheServingStacks',
          actions: ['cloudformation:UpdateStack'],
          resources: unscoped.map(stackArn),
        }),
      );
    }
    direct
      .filter((t) => t.cloudFormationRoleArn)
      .forEach((t) => {
        const roleArn = t.cloudFormationRoleArn!;
        statements.push(
          new iam.PolicyStatement({
            sid: `Update${pascal(t.environmentName)}ThroughItsServingRole`,
            actions: ['cloudformation:UpdateStack'],
            resources: [stackArn(t)],
            conditions: { StringEquals: { 'cloudformation:RoleArn': roleArn } },
          }),
          new iam.PolicyStatement({
            sid: `Pass${pascal(t.environmentName)}ServingRoleToCloudFormation`,
            actions: ['iam:PassRole'],
            resources: [roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
          }),
        );
      });
    statements.forEach((st) => role.addToPrincipalPolicy(st));
    acknowledgeWildcards(
      role,
      statements,
      'A stack ARN ends in an id CloudFormation assigns at creation: the grant names each serving stack and ' +
        'matches only its ids.',
    );
  }

  /** A target's variants: those given, or the challenger and the shadow under the platform's names. */
  private variantsOf(target: ReleaseWorkflowTarget, props: ReleaseWorkflowProps): ReleaseWorkflowVariants {
    if (target.variants) {
      return target.variants;
    }
    const cache = this.defaultVariants.get(target);
    if (cache) {
      return cache;
    }
    const variant = (kind: string): ReleaseWorkflowVariant => {
      const id = `${pascal(target.environmentName)}${pascal(kind)}`;
      return {
        pointer: ReleasePointer.fromParameterName(
          this,
          `${id}Pointer`,
          variantPointerParameterName(target.environmentName, props.modelName, kind),
        ),
        weight: VariantWeight.fromParameterName(
          this,
          `${id}Weight`,
          variantWeightParameterName(target.environmentName, props.modelName, kind),
        ),
      };
    };
    const variants = { challenger: variant(CHALLENGER_VARIANT), shadow: variant(SHADOW_VARIANT) };
    this.defaultVariants.set(target, variants);
    return variants;
  }

  /**
   * The step function's view of `target`: the stack, the champion's and the variants' parameters,
   * the region and the group it serves.
   */
  private workflowTarget(
    target: ReleaseWorkflowTarget,
    props: ReleaseWorkflowProps,
  ): Record<string, unknown> {
    const variants = Object.fromEntries(
      Object.entries(this.variantsOf(target, props))
        .filter(([, v]) => v !== undefined)
        .map(([kind, v]: [string, ReleaseWorkflowVariant]) => [
          kind,
          { pointerName: v.pointer.parameterName, weightName: v.weight.parameterName },
        ]),
    );
    return {
      stackName: target.stackName,
      pointerName: target.pointer.parameterName,
      region: target.region ?? Stack.of(this).region,
      modelPackageGroupName: props.modelRegistry.modelPackageGroupName,
      ...(target.account ? { account: target.account } : {}),
      ...(target.cloudFormationRoleArn ? { cloudFormationRoleArn: target.cloudFormationRoleArn } : {}),
      variants,
    };
  }

  /** One call of the step function (`start` or `check`), its ReleaseStep kept at `resultPath`. */
  private stepTask(
    id: string,
    comment: string,
    payload: Record<string, unknown>,
    resultPath: string,
  ): tasks.LambdaInvoke {
    return new tasks.LambdaInvoke(this, id, {
      lambdaFunction: this.stepFunction,
      comment,
      payload: sfn.TaskInput.fromObject(payload),
      resultSelector: { 'status.$': '$.Payload.status', 'detail.$': '$.Payload' },
      resultPath,
      retryOnServiceExceptions: true,
    });
  }

  /** Publishes a task token to the topic and waits for a person to approve or reject with it. */
  private approvalState(
    env: string,
    props: ReleaseWorkflowProps,
    notify: (id: string, message: string, subject: string) => sfn.INextable & sfn.IChainable,
    failed: sfn.Fail,
  ): tasks.SnsPublish {
    const approval = new tasks.SnsPublish(this, `Approve${pascal(env)}`, {
      // Checked by validate(): an approval needs the topic.
      topic: props.notificationTopic!,
      subject: `Approve the release of model ${props.modelName} to ${env}`,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      message: approvalMessage(env, props.modelName),
      taskTimeout: sfn.Timeout.duration(props.approvalTimeout ?? Duration.days(3)),
      resultPath: sfn.JsonPath.DISCARD,
      comment: `A person approves (send-task-success) or rejects (send-task-failure) the release to ${env}`,
    });
    approval.addCatch(
      notify(
        `Notify${pascal(env)}NotApproved`,
        `States.Format('Release of {} to ${env} was not approved: {}', $.release.description, $.failure.Cause)`,
        `Release to ${env} not approved`,
      ).next(failed),
      { errors: ['States.ALL'], resultPath: '$.failure' },
    );
    return approval;
  }

  private definition(props: ReleaseWorkflowProps, poll: Duration): sfn.IChainable {
    const topic = props.notificationTopic;
    const notify = (id: string, message: string, subject: string) =>
      notifyState(this, id, topic, message, subject);
    const failed = new sfn.Fail(this, 'ReleaseFailed', {
      // A Catch records the error as {Error, Cause}; a failed update is recorded the same way.
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });

    // The input is checked once, before any environment is touched: a malformed one fails the
    // execution with nothing read or written.
    const checkInput = new tasks.LambdaInvoke(this, 'CheckInput', {
      lambdaFunction: this.stepFunction,
      comment: 'A champion release, a variant release, a promotion or a stop (ReleaseWorkflowInput)',
      payload: sfn.TaskInput.fromObject({ action: 'plan', input: sfn.JsonPath.entirePayload }),
      resultSelector: Object.fromEntries(
        ['kind', 'modelPackageArn', 'variant', 'weightPercent', 'description'].map((k) => [
          `${k}.$`,
          `$.Payload.${k}`,
        ]),
      ),
      resultPath: '$.release',
      retryOnServiceExceptions: true,
    });
    checkInput.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failure' });

    // Every state that ends an environment's part, which the next environment's part follows.
    let previous: sfn.INextable[] = [checkInput];
    props.targets.forEach((target) => {
      const env = target.environmentName;
      const workflowTarget = this.workflowTarget(target, props);
      const refused = notify(
        `Notify${pascal(env)}Refused`,
        `States.Format('Release of {} to ${env} failed: {}', $.release.description, $.failure.Cause)`,
        `Release to ${env} failed`,
      ).next(failed);
      const onError = (state: tasks.LambdaInvoke) =>
        state.addCatch(refused, { errors: ['States.ALL'], resultPath: '$.failure' });
      const approval = target.manualApproval ? this.approvalState(env, props, notify, failed) : undefined;
      const role = releaseRoleOf(target);
      const start = this.stepTask(
        `Start${pascal(env)}`,
        `Checks the package and ${env}, writes its pointer and starts the stack update`,
        { action: 'start', target: workflowTarget, 'release.$': '$.release', ...role },
        '$.step',
      );
      onError(start);
      const check = this.stepTask(
        `Check${pascal(env)}`,
        `Reads the stack update of ${env} once`,
        { action: 'check', 'token.$': '$.step.detail.token', ...role },
        '$.step',
      );
      onError(check);
      const wait = new sfn.Wait(this, `Wait${pascal(env)}`, {
        time: sfn.WaitTime.duration(poll),
        comment: `The stack update of ${env} is running`,
      });
      const updateFailed = new sfn.Pass(this, `${pascal(env)}UpdateFailed`, {
        parameters: {
          Error: 'UpdateFailed',
          'Cause.$': '$.step.detail.failure.message',
        },
        resultPath: '$.failure',
      }).next(
        notify(
          `Notify${pascal(env)}Failed`,
          `States.Format('Release of {} to ${env} failed: {}', $.release.description, $.failure.Cause)`,
          `Release to ${env} failed`,
        ).next(failed),
      );
      const released = new sfn.Pass(this, `${pascal(env)}Released`, {
        comment: `${env} serves the package`,
        resultPath: sfn.JsonPath.DISCARD,
      });
      const outcome = new sfn.Choice(this, `${pascal(env)}Outcome`)
        .when(sfn.Condition.stringEquals('$.step.status', 'updating'), wait.next(check))
        .when(sfn.Condition.stringEquals('$.step.status', 'failed'), updateFailed)
        .otherwise(
          target.healthCheck
            ? this.healthGate(target, props, workflowTarget, notify, failed, released)
            : released,
        );
      check.next(outcome);
      start.next(outcome);
      const release = approval ? approval.next(start) : start;
      if (target.onlineTrials === false) {
        const skipped = new sfn.Pass(this, `${pascal(env)}SkipsOnlineTrial`, {
          comment: `${env} takes no online trials (its slot has no shadow, or its releases wait for a person)`,
          resultPath: sfn.JsonPath.DISCARD,
        });
        const trialOrNot = new sfn.Choice(this, `${pascal(env)}TakesOnlineTrial`)
          .when(
            sfn.Condition.or(
              sfn.Condition.stringEquals('$.release.kind', 'trial'),
              sfn.Condition.stringEquals('$.release.kind', 'endTrial'),
            ),
            skipped,
          )
          .otherwise(release);
        previous.forEach((p) => p.next(trialOrNot));
        previous = [released, skipped];
      } else {
        previous.forEach((p) => p.next(release));
        previous = [released];
      }
    });
    const done = new sfn.Succeed(this, 'Released', { comment: 'Every target serves the package' });
    const end =
      topic && props.notifyOnSuccess
        ? notify(
            'NotifyReleased',
            `States.Format('Released {} to ${props.targets.map((t) => t.environmentName).join(', ')}', $.release.description)`,
            `Model ${props.modelName} released`,
          ).next(done)
        : done;
    previous.forEach((p) => p.next(end));
    return checkInput;
  }
}

/** The step and health events' field naming a target's release role, when it has one. */
function releaseRoleOf(target: ReleaseWorkflowTarget): { releaseRoleArn?: string } {
  return target.releaseRole ? { releaseRoleArn: target.releaseRole.roleArn } : {};
}

/** Lets `role` assume the release roles of `targets`, and nothing else of theirs. */
function grantAssumeReleaseRoles(role: iam.IRole, targets: ReleaseWorkflowTarget[]): void {
  const releaseRoles = targets.flatMap((t) => (t.releaseRole ? [t.releaseRole.roleArn] : []));
  if (releaseRoles.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTheReleaseRoles',
        actions: ['sts:AssumeRole'],
        resources: [...new Set(releaseRoles)],
      }),
    );
  }
}

function approvalMessage(env: string, modelName: string): sfn.TaskInput {
  return sfn.TaskInput.fromObject({
    request: `Approve the release of model ${modelName} to ${env}`,
    release: sfn.JsonPath.stringAt('$.release.description'),
    modelPackageArn: sfn.JsonPath.stringAt('$.release.modelPackageArn'),
    taskToken: sfn.JsonPath.taskToken,
    approve: "aws stepfunctions send-task-success --task-output '{}' --task-token <taskToken>",
    reject: "aws stepfunctions send-task-failure --error Rejected --cause '<why>' --task-token <taskToken>",
  });
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function validate(
  workflow: ReleaseWorkflow,
  props: ReleaseWorkflowProps,
  poll: Duration,
  timeout: Duration,
): void {
  const problems = new ProblemCollector(`ReleaseWorkflow '${workflow.node.path}'`);
  problems.checkPattern(
    'modelName',
    props.modelName ?? '',
    MODEL_NAME,
    'use 1-32 lower-case letters, digits and single hyphens, starting with a letter',
  );
  if (!Array.isArray(props.targets) || props.targets.length === 0) {
    problems.add('targets', props.targets, 'give at least one environment to release to');
  } else {
    const seen = new Set<string>();
    props.targets.forEach((t, i) => {
      problems.checkPattern(
        `targets[${i}].environmentName`,
        t.environmentName ?? '',
        ENVIRONMENT_NAME,
        'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
      );
      if (seen.has(t.environmentName)) {
        problems.add(`targets[${i}].environmentName`, t.environmentName, 'release to each environment once');
      }
      seen.add(t.environmentName);
    });
  }
  if (!poll.isUnresolved() && (poll.toSeconds() < 5 || poll.toSeconds() > 300)) {
    problems.add('pollInterval', poll.toHumanString(), 'use 5 seconds to 5 minutes');
  }
  if (!timeout.isUnresolved() && (timeout.toSeconds() < 300 || timeout.toSeconds() > 6 * 3600)) {
    problems.add('updateTimeout', timeout.toHumanString(), 'use 5 minutes to 6 hours');
  }
  (props.targets ?? []).forEach((t, i) => {
    if (t.manualApproval && !props.notificationTopic) {
      problems.add(
        `targets[${i}].manualApproval`,
        true,
        'the approval request (with its task token) is published to notificationTopic: give one',
      );
    }
  });
  const soak = props.soakTime;
  if (soak && !soak.isUnresolved() && soak.toSeconds() > 24 * 3600) {
    problems.add('soakTime', soak.toHumanString(), 'use at most 24 hours');
  }
  (props.targets ?? []).forEach((t, i) => {
    const check = t.healthCheck;
    if (!check) {
      return;
    }
    problems.checkPattern(
      `targets[${i}].healthCheck.endpointName`,
      check.endpointName ?? '',
      SAGEMAKER_NAME,
      'use the endpoint name of the slot: up to 63 letters, digits and hyphens',
    );
    for (const name of check.alarmNames ?? []) {
      if (!Token.isUnresolved(name) && !(name.length > 0 && name.length <= 255)) {
        problems.add(`targets[${i}].healthCheck.alarmNames`, name, 'use alarm names of 1 to 255 characters');
      }
    }
  });
  const approvalTimeout = props.approvalTimeout;
  if (
    approvalTimeout &&
    !approvalTimeout.isUnresolved() &&
    (approvalTimeout.toSeconds() < 60 || approvalTimeout.toSeconds() > 30 * 86400)
  ) {
    problems.add('approvalTimeout', approvalTimeout.toHumanString(), 'use 1 minute to 30 days');
  }
  problems.checkPattern(
    'sourceEnvironmentName',
    props.sourceEnvironmentName,
    ENVIRONMENT_NAME,
    'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
  );
  const stack = Stack.of(workflow);
  (props.targets ?? []).forEach((t, i) => {
    if (t.releaseRole && !props.sourceEnvironmentName) {
      problems.add(
        'sourceEnvironmentName',
        props.sourceEnvironmentName,
        `targets[${i}] (${t.environmentName}) has a releaseRole, which trusts only the workflows of one ` +
          "environment: give the workflow's environment, e.g. 'dev'",
      );
    }
    if (t.releaseRole && !t.cloudFormationRoleArn) {
      problems.add(
        `targets[${i}].cloudFormationRoleArn`,
        t.cloudFormationRoleArn,
        "give the environment's serving deploy role: its release role may update the serving stack only through it",
      );
    }
    const elsewhere =
      t.account !== undefined &&
      !Token.isUnresolved(t.account) &&
      !Token.isUnresolved(stack.account) &&
      t.account !== stack.account;
    if (elsewhere && !t.releaseRole) {
      Annotations.of(workflow).addWarningV2(
        'cdk-mlops-maturity:releaseWithoutReleaseRole',
        `targets[${i}] (${t.environmentName}) is in account ${t.account}, but the workflow's roles are in ` +
          `${stack.account}: without a releaseRole its grants cannot reach that account, so its releases fail. ` +
          'Give it the ReleaseRole of that environment.',
      );
    }
  });
  if (props.notifyOnSuccess && !props.notificationTopic) {
    problems.add('notifyOnSuccess', true, 'give notificationTopic too, or leave notifyOnSuccess out');
  }
  problems.throwIfAny();
}
