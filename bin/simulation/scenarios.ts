import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { SHADOW_VARIANT, variantPointerParameterName } from '../../lib/serving/naming';
import {
  AlarmEvaluation,
  evaluateAlarms,
  execute,
  executionInput,
  GateOutcome,
  LoopHandlers,
  matchesEventPattern,
  packageStateChange,
  parameterValue,
  pipelineExecutions,
  RetrainOutcome,
  runPipelineLambdaSteps,
  simulatePipelineResult,
  startedExecution,
  statesWaitingForAPerson,
} from './loop';
import { pointerOf, SimulatedLoop } from './synthesized-app';
import { Json } from './template';
import { CaptureDataset, liveTrialTraffic } from './traffic';
import { EmulatorClients, Seeded } from './world';

/** When the drift schedule fires in every scenario: the window is the hour before 10:00 UTC. */
export const SCHEDULED_TIME = '2026-11-20T10:05:00Z';
/** When the online trial's shadow starts serving: its ShadowServing state's `$$.State.EnteredTime`. */
export const SHADOW_SERVES_AT = '2026-11-20T12:00:00.000Z';
/** When CloudWatch evaluates the alarms: after the drift job published the window's data points. */
export const EVALUATED_AT = new Date('2026-11-20T10:10:00Z');
/** The champion's offline evaluation (RMSE and MAE in minutes), as every scenario seeds it. */
export const CHAMPION_METRICS = { rmse: 4.6, mae: 3.3 } as const;

const MINUTE_MS = 60_000;

/** What a scenario step prints: a check (passed or not) or a plain line. */
export interface StepLog {
  check(passed: boolean, text: string): void;
  info(text: string): void;
}

/** What a scenario runs against: the synthesized loop, the emulator and the loaded handlers. */
export interface ScenarioContext {
  readonly loop: SimulatedLoop;
  readonly clients: EmulatorClients;
  readonly handlers: LoopHandlers;
  readonly motoUrl: string;
  readonly seeded: Seeded;
  /** The production traffic seeded in the level-4 environment's artifact store. */
  readonly traffic: CaptureDataset;
  readonly log: StepLog;
}

/** One scenario of the loop: what it expects, and how to run it in a freshly seeded emulator. */
export interface Scenario {
  readonly title: string;
  readonly expected: string;
  /**
   * Runs on the default app synthesized with the online gate on (`ONLINE_GATE_CONTEXT`).
   * @default false
   */
  readonly onlineGate?: boolean;
  /** Runs the scenario; returns what actually happened, in the terms of `expected`. */
  run(context: ScenarioContext): Promise<string>;
}

const short = (arn: string | undefined) => (arn ?? '?').replace(/^.*:model-package\//, 'model-package/');
const round = (v: number) => Number(v.toPrecision(3));

/** The drift workflow of the level-4 environment, as its schedule starts it. */
async function driftWorkflow(c: ScenarioContext): Promise<void> {
  const run = await execute(
    c.loop.driftWorkflow,
    c.handlers,
    c.motoUrl,
    c.loop.driftScheduleInput(SCHEDULED_TIME),
  );
  if (!run.succeeded) {
    throw new Error(`the drift workflow failed: ${run.error}`);
  }
  const report = run.output?.report as
    | { rows: number; features: Record<string, { psi: number; drifted: boolean }>; driftedShare: number }
    | undefined;
  if (!report) {
    throw new Error(`the drift workflow measured nothing: ${JSON.stringify(run.output)}`);
  }
  const drifted = Object.entries(report.features)
    .filter(([, f]) => f.drifted)
    .map(([name, f]) => `${name} PSI ${round(f.psi)}`);
  c.log.check(
    drifted.length > 0,
    `drift workflow (${c.loop.level4Environment}): ${run.output.objects} capture objects, ${report.rows} rows; ` +
      `drifted: ${drifted.join(', ') || 'none'}; drifted share ${round(report.driftedShare)}`,
  );
}

/** CloudWatch's evaluation of the drift and quality alarms on the published numbers. */
async function alarms(c: ScenarioContext, id: string): Promise<AlarmEvaluation[]> {
  const evaluated = await evaluateAlarms(c.loop, c.clients, EVALUATED_AT, id);
  for (const a of evaluated) {
    c.log.info(`alarm ${a.metricName}: ${a.state} (${a.reason})`);
  }
  const firing = evaluated.filter((a) => a.state === 'ALARM');
  c.log.check(
    firing.length > 0,
    `${firing.length} alarm(s) entered ALARM: "CloudWatch Alarm State Change" event(s)`,
  );
  // What EventBridge does with them: prod's AutomationTarget rule delivers them to dev's trigger.
  const rule = c.loop.alarmRule;
  const delivered = firing.filter((a) => matchesEventPattern(rule.eventPattern, a.event));
  c.log.check(
    delivered.length === firing.length && rule.targetArn === c.loop.retrainTriggerArn,
    `${c.loop.level4Environment}'s alarm rule matches ${delivered.length} of ${firing.length} event(s) and targets ` +
      `${c.loop.sourceEnvironment}'s retrain trigger ${rule.targetArn.split(':').pop()}`,
  );
  return delivered;
}

/** The retrain trigger's handler on an alarm event, with its clock at `now`. */
async function retrain(c: ScenarioContext, alarm: AlarmEvaluation, now: Date): Promise<RetrainOutcome> {
  const outcome = await c.handlers.retrainTrigger(alarm.event, () => now);
  const detail =
    outcome.outcome === 'started'
      ? `started ${outcome.displayName}`
      : outcome.outcome === 'skipped'
        ? `skipped ${outcome.reason}: ${outcome.message}`
        : `${outcome.outcome}: ${outcome.reason}`;
  c.log.info(`retrain trigger on ${alarm.metricName} at ${now.toISOString()}: ${detail}`);
  return outcome;
}

/** The first alarm's event started the pipeline: the run it recorded and the package it registered. */
async function retrainAndRegister(
  c: ScenarioContext,
  challenger: { rmse: number; mae: number },
): Promise<{ arn: string; gate: GateOutcome; status: string | undefined; description: string }> {
  await driftWorkflow(c);
  const [first] = await alarms(c, 'scenario');
  const outcome = await retrain(c, first, new Date(EVALUATED_AT.getTime() + MINUTE_MS));
  c.log.check(outcome.outcome === 'started', `retrain trigger started the pipeline ${c.loop.pipelineName}`);
  const [execution] = await pipelineExecutions(c.loop, c.clients);
  c.log.info(`pipeline execution: ${execution?.PipelineExecutionDescription?.slice(0, 160) ?? '?'}...`);
  await assembleProductionData(c, execution.PipelineExecutionArn!);
  const { arn, reportUri } = await simulatePipelineResult(
    c.loop,
    c.clients,
    execution?.PipelineExecutionDisplayName ?? 'retrain',
    {
      ...challenger,
      rows: 1200,
    },
  );
  c.log.check(
    true,
    `pipeline result (simulated): ${short(arn)} PendingManualApproval, rmse ${challenger.rmse} ` +
      `(champion ${CHAMPION_METRICS.rmse}), report ${reportUri}`,
  );
  const { event } = await packageStateChange(c.clients, arn, 'registered', '2026-11-20T11:40:00Z');
  const gate = (await c.handlers.approvalGate(event)) as GateOutcome;
  const { described } = await packageStateChange(c.clients, arn, 'decided', '2026-11-20T11:41:00Z');
  const description = described.ApprovalDescription ?? '';
  const said =
    'executionName' in gate ? `execution ${gate.executionName}, the package left pending` : description;
  c.log.info(`approval gate: ${gate.outcome}: ${said.slice(0, 200)}${said.length > 200 ? '...' : ''}`);
  return { arn, gate, status: described.ModelApprovalStatus, description };
}

/**
 * The pipeline's first step, real: the production-data handler on the Arguments the synthesized
 * definition gives its Lambda step, for the execution the trigger started. Its CSV must hold the
 * window's captured requests, each with its seeded ground truth.
 */
async function assembleProductionData(c: ScenarioContext, executionArn: string): Promise<void> {
  const steps = await runPipelineLambdaSteps(c.loop, c.clients, c.handlers, executionArn);
  const step = steps.find((s) => s.role === 'productionData');
  if (step === undefined) {
    throw new Error(`the pipeline ${c.loop.pipelineName} has no Lambda step that assembles production data`);
  }
  const { event, output } = step;
  c.log.info(
    `pipeline step ${step.name} (lambda/production-data): window ${event.DataWindowStart} - ${event.DataWindowEnd}, ` +
      `execution ${event.ExecutionId}, label ${event.Label}, features ${event.Features}`,
  );
  c.log.check(
    output.JoinedRows === c.traffic.rows && output.UnmatchedRequests === 0 && output.MalformedLines === 0,
    `production data: ${output.JoinedRows} rows joined (of ${c.traffic.rows} captured requests with ground truth), ` +
      `${output.UnmatchedRequests} unmatched, ${output.MalformedLines} malformed`,
  );
  const url = /^s3:\/\/([^/]+)\/(.+)$/.exec(String(output.ProductionDataUrl));
  const object = url
    ? await c.clients.s3.send(new GetObjectCommand({ Bucket: url[1], Key: url[2] })).catch(() => undefined)
    : undefined;
  const [header, ...rows] = ((await object?.Body?.transformToString()) ?? '').trimEnd().split('\n');
  c.log.check(
    header === [event.Label, event.Features].join(',') &&
      JSON.stringify([...rows].sort()) === JSON.stringify([...c.traffic.trainingRows].sort()),
    `${output.ProductionDataUrl} in S3: header ${header}, ${rows.length} rows, each a seeded request with its label`,
  );
  for (const row of rows.slice(0, 2)) c.log.info(`  ${row}`);
}

/** What each target's release pointer names, in release order. */
async function pointers(c: ScenarioContext): Promise<Record<string, string | undefined>> {
  const values: Record<string, string | undefined> = {};
  for (const env of c.loop.releaseTargets) {
    values[env] = await parameterValue(c.clients, pointerOf(c.loop, env));
  }
  return values;
}

const BETTER: Scenario = {
  title: 'better challenger',
  expected: 'approved; released to staging, then prod without a person',
  async run(c) {
    const { arn, gate, status } = await retrainAndRegister(c, { rmse: 4.1, mae: 3 });
    c.log.check(status === 'Approved', `registry: ${short(arn)} is ${status}`);
    if (gate.outcome !== 'approved') return `${gate.outcome}; not released`;

    // The gate's verdict comes back as an event: the release trigger starts the release workflow.
    const { event } = await packageStateChange(c.clients, arn, 'approved', '2026-11-20T11:41:00Z');
    const trigger = await c.handlers.releaseTrigger(event);
    c.log.check(
      trigger.outcome === 'started',
      `release trigger: ${trigger.outcome} ${trigger.executionName ?? ''}`,
    );
    // prod is at level 4: nothing in the release workflow waits for a person (execute throws if it does).
    const waiting = statesWaitingForAPerson(c.loop.releaseWorkflow.definition);
    c.log.check(
      waiting.length === 0,
      `release workflow: no state waits for a manual approval${waiting.length ? ` (found ${waiting.join(', ')})` : ''}`,
    );
    const order: string[] = [];
    const step = c.handlers.functions.step;
    const handlers: LoopHandlers = {
      ...c.handlers,
      functions: {
        ...c.handlers.functions,
        step: async (payload: Json) => {
          if (payload?.action === 'start') order.push(payload.target.stackName);
          return step(payload);
        },
      },
    };
    const run = await execute(
      c.loop.releaseWorkflow,
      handlers,
      c.motoUrl,
      await executionInput(c.clients, trigger),
    );
    c.log.check(
      run.succeeded,
      `release workflow: ${run.succeeded ? 'succeeded' : run.error} (stack updates: ${order.join(' -> ')})`,
    );
    const now = await pointers(c);
    for (const [env, value] of Object.entries(now)) {
      c.log.check(value === arn, `${env} pointer ${pointerOf(c.loop, env)} = ${short(value)}`);
    }
    const released = c.loop.releaseTargets.filter((env) => now[env] === arn);
    const inOrder = order.map((stack) => stack.replace(/-Serving$/, '')).join(', then ');
    return released.length === c.loop.releaseTargets.length && run.succeeded
      ? `approved; released to ${inOrder}${waiting.length === 0 ? ' without a person' : ''}`
      : `approved; released to ${released.join(', ') || 'nothing'}`;
  },
};

const WORSE: Scenario = {
  title: 'worse challenger',
  expected: 'rejected; champion kept',
  async run(c) {
    const { arn, gate, status } = await retrainAndRegister(c, { rmse: 4.8, mae: 3.5 });
    c.log.check(status === 'Rejected', `registry: ${short(arn)} is ${status}`);
    const { event } = await packageStateChange(c.clients, arn, 'rejected', '2026-11-20T11:41:00Z');
    const trigger = await c.handlers.releaseTrigger(event);
    c.log.check(trigger.outcome !== 'started', `release trigger on the Rejected event: ${trigger.outcome}`);
    const now = await pointers(c);
    const kept = Object.entries(now).every(([, value]) => value === c.seeded.championArn);
    for (const [env, value] of Object.entries(now)) {
      c.log.check(value === c.seeded.championArn, `${env} pointer still names the champion ${short(value)}`);
    }
    return `${gate.outcome}; ${kept ? 'champion kept' : 'champion replaced'}`;
  },
};

const ONLINE_GATE: Scenario = {
  title: 'online gate: wins offline, loses live',
  expected: 'rejected by the online gate; champion kept',
  onlineGate: true,
  async run(c) {
    const trial = c.loop.onlineGate;
    if (trial === undefined) {
      throw new Error(`${c.loop.source.stackName} has no online-gate workflow for ${c.loop.modelName}`);
    }
    const gateArn = c.loop.automationFunctions.approvalGate.ONLINE_GATE_STATE_MACHINE_ARN;
    const counted = c.handlers.countedMetrics.length;
    const { arn, gate, status } = await retrainAndRegister(c, { rmse: 4.1, mae: 3 });
    const gateMetrics = c.handlers.countedMetrics.slice(counted);
    c.log.check(
      gate.outcome === 'trial-started' && gateMetrics.some((m) => m.endsWith(' OnlineTrialsStarted')),
      `approval gate (ONLINE_GATE_STATE_MACHINE_ARN ${gateArn?.split(':').pop()}): ${gate.outcome}, ` +
        `counted ${gateMetrics.map((m) => m.split(' ').pop()).join(', ')}`,
    );
    c.log.check(status === 'PendingManualApproval', `registry: ${short(arn)} is still ${status}`);
    if (gate.outcome !== 'trial-started') return `${gate.outcome}; no online trial`;
    const started = await startedExecution(c.clients, trial.workflow.name, gate.executionName);
    c.log.check(
      started !== undefined && started.input.modelPackageArn === arn,
      `online-gate workflow: execution ${gate.executionName} started, input ${JSON.stringify(started?.input).slice(0, 80)}...`,
    );
    if (started === undefined) return 'trial-started; no execution';

    // prod's endpoint while the shadow serves: each variant's captures and the labels of the window.
    const evaluate = Object.values(trial.workflow.definition.States as Record<string, Json>).find(
      (state) => state.Parameters?.Payload?.windowHours !== undefined,
    );
    const hours = Number(evaluate?.Parameters.Payload.windowHours);
    const live = liveTrialTraffic({
      location: JSON.parse(c.loop.productionData.value),
      championVariant: trial.evaluation.CHAMPION_VARIANT_NAME,
      shadowVariant: trial.evaluation.SHADOW_VARIANT_NAME,
      windowStart: new Date(SHADOW_SERVES_AT),
      hours,
      requestsPerHour: 50,
      // The shadow's weight as deployed (10%): a copy of every tenth request.
      shadowEvery: 10,
    });
    for (const o of live.objects) {
      await c.clients.s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: o.body }));
    }
    c.log.info(
      `live traffic (seeded) from ${SHADOW_SERVES_AT}, ${hours} hours: ${live.championRequests} requests answered by ` +
        `${trial.evaluation.CHAMPION_VARIANT_NAME}, ${live.shadowRequests} copies by ${trial.evaluation.SHADOW_VARIANT_NAME}, ` +
        `each with its label, under ${c.loop.productionData.parameterName}'s captureUrl and groundTruthUrl`,
    );

    const shadowPointers = c.loop.releaseTargets.map((env) => [
      env,
      variantPointerParameterName(env, c.loop.modelName, SHADOW_VARIANT),
    ]);
    const shadowsBefore = await Promise.all(
      shadowPointers.map(([, name]) => parameterValue(c.clients, name)),
    );
    const releases: string[] = [];
    const run = await execute(trial.workflow, c.handlers, c.motoUrl, started.input, {
      // The Context Object of the execution the gate started; the shadow serves at a fixed time.
      context: {
        Execution: { Id: started.executionArn, Name: gate.executionName },
        State: { EnteredTime: SHADOW_SERVES_AT },
      },
      stateMachines: {
        [c.loop.releaseWorkflow.name]: async (input) => {
          const ran = await execute(c.loop.releaseWorkflow, c.handlers, c.motoUrl, input);
          const shadows = await Promise.all(
            shadowPointers.map(([, name]) => parameterValue(c.clients, name)),
          );
          const asked = input.stopVariant
            ? `stop the ${input.stopVariant}`
            : `${input.variant} ${short(input.modelPackageArn)}`;
          releases.push(
            `${asked}: ${ran.succeeded ? 'succeeded' : ran.error}; shadow ${shadowPointers
              .map(([env], i) => `${env} ${short(shadows[i])}`)
              .join(', ')}`,
          );
          return ran;
        },
      },
    });
    for (const release of releases) c.log.info(`release workflow (.sync): ${release.slice(0, 300)}`);
    const verdict = String(run.output?.verdict?.outcome ?? 'no verdict');
    c.log.check(
      run.succeeded,
      `online-gate workflow: ${run.succeeded ? 'succeeded' : run.error}, verdict ${verdict}`,
    );

    const { described } = await packageStateChange(c.clients, arn, 'tried', '2026-11-21T12:30:00Z');
    const description = described.ApprovalDescription ?? '';
    const variant = (who: string, name: string, labels: number) =>
      new RegExp(`${who} \\(${name}\\) rmse ([0-9.]+) on ${labels} labels`).exec(description)?.[1];
    const shadowRmse = variant('shadow', trial.evaluation.SHADOW_VARIANT_NAME, live.shadowRequests);
    const championRmse = variant('champion', trial.evaluation.CHAMPION_VARIANT_NAME, live.championRequests);
    c.log.check(
      described.ModelApprovalStatus === 'Rejected' &&
        c.handlers.countedMetrics.some((m) => m.endsWith(' OnlineTrialsRejected')),
      `registry: ${short(arn)} is ${described.ModelApprovalStatus}: ${description.slice(0, 240)}...`,
    );
    c.log.check(
      shadowRmse !== undefined && championRmse !== undefined && Number(shadowRmse) > Number(championRmse),
      `live numbers recorded: shadow rmse ${shadowRmse} on ${live.shadowRequests} labels, champion rmse ` +
        `${championRmse} on ${live.championRequests} labels`,
    );
    const now = await pointers(c);
    for (const [env, value] of Object.entries(now)) {
      c.log.check(value === c.seeded.championArn, `${env} pointer still names the champion ${short(value)}`);
    }
    const shadowsAfter = await Promise.all(shadowPointers.map(([, name]) => parameterValue(c.clients, name)));
    shadowPointers.forEach(([env, name], i) =>
      c.log.check(
        shadowsAfter[i] === shadowsBefore[i],
        `${env} shadow pointer ${name} = ${short(shadowsAfter[i])}, as before the trial (stopped)`,
      ),
    );
    const kept =
      Object.values(now).every((value) => value === c.seeded.championArn) &&
      shadowsAfter.every((value, i) => value === shadowsBefore[i]);
    return `${verdict} by the online gate; ${kept ? 'champion kept' : 'champion replaced'}`;
  },
};

const COOLDOWN: Scenario = {
  title: 'second alarm during the cooldown',
  expected: 'first started; second skipped Cooldown',
  async run(c) {
    await driftWorkflow(c);
    const firing = await alarms(c, 'cooldown');
    const first = await retrain(c, firing[0], new Date(EVALUATED_AT.getTime() + MINUTE_MS));
    const [started] = await pipelineExecutions(c.loop, c.clients);
    // Another alarm entering ALARM ten minutes after the start, on the clock of the emulator's start.
    const second = firing[1] ?? { ...firing[0], event: { ...firing[0].event, id: 'cooldown-again' } };
    const at = new Date(started.StartTime!.getTime() + 10 * MINUTE_MS);
    const again = await retrain(c, second, at);
    const executions = await pipelineExecutions(c.loop, c.clients);
    c.log.check(first.outcome === 'started', `first alarm started ${started.PipelineExecutionDisplayName}`);
    c.log.check(
      again.outcome === 'skipped' && again.reason === 'Cooldown',
      `second alarm ten minutes later: ${again.outcome} ${again.outcome === 'skipped' ? again.reason : ''}`,
    );
    c.log.check(executions.length === 1, `the pipeline has ${executions.length} execution(s)`);
    return `first ${first.outcome}; second ${again.outcome}${again.outcome === 'skipped' ? ` ${again.reason}` : ''}`;
  },
};

const PAUSED: Scenario = {
  title: 'pause switch',
  expected: 'skipped Paused; pipeline not started',
  async run(c) {
    const name = c.loop.pauseSwitch.parameterName;
    await c.clients.ssm.send(
      new PutParameterCommand({ Name: name, Value: 'paused', Type: 'String', Overwrite: true }),
    );
    c.log.info(`an operator paused retraining: ${name} = paused`);
    await driftWorkflow(c);
    const [first] = await alarms(c, 'paused');
    const outcome = await retrain(c, first, new Date(EVALUATED_AT.getTime() + MINUTE_MS));
    const executions = await pipelineExecutions(c.loop, c.clients);
    c.log.check(
      outcome.outcome === 'skipped' && outcome.reason === 'Paused',
      `retrain trigger: ${outcome.outcome} ${outcome.outcome === 'skipped' ? outcome.reason : ''}`,
    );
    c.log.check(executions.length === 0, `the pipeline has ${executions.length} execution(s)`);
    return `${outcome.outcome}${outcome.outcome === 'skipped' ? ` ${outcome.reason}` : ''}; pipeline ${
      executions.length === 0 ? 'not started' : 'started'
    }`;
  },
};

/** The scenarios, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [BETTER, WORSE, ONLINE_GATE, COOLDOWN, PAUSED];
