import { createHash } from 'node:crypto';
import {
  ListPipelineExecutionsCommand,
  Parameter,
  PipelineExecutionSummary,
  SageMakerClient,
  StartPipelineExecutionCommand,
  StartPipelineExecutionCommandInput,
} from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CloudWatchAlarmData, EventBridgeEvent } from 'aws-lambda';
import { describeValue } from '../../../lib/private/describe-value';
import { isAwsError } from '../release/errors';
import { EnvironmentProblems } from './errors';
import { ALARM_DETAIL_TYPE, SCHEDULED_DETAIL_TYPE, SCHEDULER_SOURCE } from './trigger-events';

export {
  ALARM_DETAIL_TYPE,
  SCHEDULED_DETAIL_TYPE,
  SCHEDULER_INPUT,
  SCHEDULER_SOURCE,
} from './trigger-events';

/** A "CloudWatch Alarm State Change" event. */
export type AlarmStateChangeEvent = EventBridgeEvent<typeof ALARM_DETAIL_TYPE, CloudWatchAlarmData>;
/** A scheduled start: an EventBridge rule's "Scheduled Event", or SCHEDULER_INPUT as Scheduler fills it in. */
export type RetrainScheduleEvent = EventBridgeEvent<typeof SCHEDULED_DETAIL_TYPE, Record<string, unknown>>;
/** The events the retrain trigger receives. */
export type RetrainTriggerEvent = AlarmStateChangeEvent | RetrainScheduleEvent;

/** What asked for a retraining, once the event is understood. */
export interface RetrainRequest {
  readonly trigger: 'alarm' | 'schedule';
  /** The alarm's name, or the ARN of the rule or schedule. */
  readonly triggerName: string;
  /** One sentence for people: what happened, when. */
  readonly reason: string;
  readonly eventId: string;
  /** When the trigger fired (the alarm's event time, the scheduled time): the data window's end. */
  readonly at: Date;
  /**
   * The same for every delivery of one event: an alarm event's id; a schedule and its scheduled
   * time (Scheduler gives each attempt another id).
   */
  readonly idempotencyKey: string;
}

/** Why an event starts nothing before any guardrail is consulted. */
export type IgnoredBecause = 'AlarmNotWatched' | 'NotInAlarm';

/** What an event asks for, decided without calling anything. */
export type RetrainEventClassification =
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'ignored'; readonly because: IgnoredBecause; readonly reason: string }
  | { readonly kind: 'retrain'; readonly request: RetrainRequest };

// The `time` of an EventBridge event, e.g. 2021-02-24T17:00:14Z.
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const MAX_REASON_LENGTH = 512;

/**
 * Decides what an event asks for: alarms of `watchedAlarms` (names or ARNs) entering ALARM, and
 * scheduled events, ask for a retraining; other alarms and other states are ignored; anything else
 * is malformed.
 */
export function classifyRetrainEvent(
  event: unknown,
  watchedAlarms: readonly string[],
): RetrainEventClassification {
  const malformed = (reason: string): RetrainEventClassification => ({ kind: 'malformed', reason });
  if (!isRecord(event)) {
    return malformed(`the event is not an object: ${describeValue(event)}`);
  }
  const { id, time, source, detail, resources } = event;
  const detailType = event['detail-type'];
  if (typeof id !== 'string' || id.trim() === '') {
    return malformed(`the event's id is ${describeValue(id)}, not a non-empty string`);
  }
  if (typeof time !== 'string' || !EVENT_TIME.test(time) || Number.isNaN(Date.parse(time))) {
    return malformed(`the event's time is ${describeValue(time)}, not an ISO 8601 timestamp`);
  }
  const at = new Date(Date.parse(time));

  if (source === 'aws.cloudwatch' && detailType === ALARM_DETAIL_TYPE) {
    if (!isRecord(detail) || typeof detail.alarmName !== 'string' || detail.alarmName === '') {
      return malformed(
        `the alarm event's detail.alarmName is ${describeValue(isRecord(detail) ? detail.alarmName : detail)}`,
      );
    }
    const alarmName = detail.alarmName;
    const state = isRecord(detail.state) ? detail.state : undefined;
    if (state === undefined || typeof state.value !== 'string') {
      return malformed(`the alarm event's detail.state.value is ${describeValue(state?.value)}, not a state`);
    }
    const arns = Array.isArray(resources) ? resources.filter((r): r is string => typeof r === 'string') : [];
    if (!watchedAlarms.some((watched) => watched === alarmName || arns.includes(watched))) {
      return {
        kind: 'ignored',
        because: 'AlarmNotWatched',
        reason: `alarm '${alarmName}' is not one of the alarms that trigger retraining`,
      };
    }
    if (state.value !== 'ALARM') {
      return {
        kind: 'ignored',
        because: 'NotInAlarm',
        reason: `alarm '${alarmName}' changed to ${state.value}, not ALARM`,
      };
    }
    const when = typeof state.timestamp === 'string' ? state.timestamp : time;
    // CloudWatch's reasons end with a period; the reason is quoted inside sentences.
    const stated = typeof state.reason === 'string' ? state.reason.trim().replace(/\.+$/, '') : '';
    const why = stated !== '' ? `: ${stated}` : '';
    return {
      kind: 'retrain',
      request: {
        trigger: 'alarm',
        triggerName: alarmName,
        reason: truncate(`alarm ${alarmName} entered ALARM at ${when}${why}`, MAX_REASON_LENGTH),
        eventId: id,
        at,
        idempotencyKey: `alarm|${id}`,
      },
    };
  }

  if ((source === 'aws.events' || source === SCHEDULER_SOURCE) && detailType === SCHEDULED_DETAIL_TYPE) {
    const schedule = Array.isArray(resources) ? resources[0] : undefined;
    if (typeof schedule !== 'string' || !schedule.startsWith('arn:')) {
      return malformed(
        `the scheduled event's resources[0] is ${describeValue(schedule)}, not the ARN of its rule or schedule`,
      );
    }
    return {
      kind: 'retrain',
      request: {
        trigger: 'schedule',
        triggerName: schedule,
        reason: `schedule ${schedule} at ${time}`,
        eventId: id,
        at,
        idempotencyKey: `schedule|${schedule}|${at.toISOString()}`,
      },
    };
  }

  return malformed(
    `the event (source ${describeValue(source)}, detail-type ${describeValue(detailType)}) is neither ` +
      `a '${ALARM_DETAIL_TYPE}' event of aws.cloudwatch nor a '${SCHEDULED_DETAIL_TYPE}'`,
  );
}

/** The guardrails between a trigger and a pipeline start. */
export interface RetrainGuardrails {
  /** How long after the start of the pipeline's last execution, whoever started it, no new one starts. */
  readonly cooldownMinutes: number;
  /** How many executions of the pipeline may start in any 24 hours, counting every starter. */
  readonly maxStartsPerDay: number;
}

export const DEFAULT_GUARDRAILS: RetrainGuardrails = { cooldownMinutes: 360, maxStartsPerDay: 2 };

/** The value of the pause switch that stops every start (compared case-insensitively). */
export const PAUSED = 'paused';
/** The value the pause switch holds while retraining runs. Any value but PAUSED lets it run. */
export const ACTIVE = 'active';

/**
 * How far back executions are listed: SageMaker stops a pipeline execution after 672 hours
 * (the "pipeline execution timeout" quota), so an older execution is not running any more.
 */
export const EXECUTION_LOOKBACK_DAYS = 28;
/** At most this many pages of 100 executions are read. */
export const MAX_EXECUTION_PAGES = 10;

/** Why a start was skipped: the `Reason` dimension of the RetrainsSkipped metric. */
export type SkipReason =
  'Paused' | 'PauseSwitchMissing' | 'Duplicate' | 'ExecutionRunning' | 'Cooldown' | 'DailyCap';

/** What the guardrails decide. */
export type GuardrailDecision =
  | { readonly kind: 'start' }
  | {
      readonly kind: 'skip';
      readonly reason: SkipReason;
      readonly message: string;
      /** The execution behind the decision, when one is. */
      readonly pipelineExecutionArn?: string;
    };

/** What the guardrails look at. */
export interface GuardrailInputs {
  /** The pause switch's value; undefined when the parameter does not exist. */
  readonly pauseSwitch: string | undefined;
  readonly pauseParameterName: string;
  /** The pipeline's recent executions, as ListPipelineExecutions returns them. */
  readonly executions: readonly PipelineExecutionSummary[];
  /** The display name this request's execution has. */
  readonly displayName: string;
  readonly now: Date;
  readonly guardrails: RetrainGuardrails;
}

const RUNNING = new Set(['Executing', 'Stopping']);
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * Applies the guardrails, in order: the pause switch (a missing switch stops starts too: the
 * operators' brake must be there), an execution already started for this event, a running
 * execution, the cooldown after the last start, the daily cap.
 */
export function decideRetrain(inputs: GuardrailInputs): GuardrailDecision {
  const { executions, now, guardrails } = inputs;
  if (inputs.pauseSwitch === undefined) {
    return {
      kind: 'skip',
      reason: 'PauseSwitchMissing',
      message:
        `the pause switch ${inputs.pauseParameterName} does not exist: create it (aws ssm put-parameter ` +
        `--name ${inputs.pauseParameterName} --type String --value ${ACTIVE}) to let retraining start`,
    };
  }
  if (inputs.pauseSwitch.trim().toLowerCase() === PAUSED) {
    return {
      kind: 'skip',
      reason: 'Paused',
      message: `retraining is paused: ${inputs.pauseParameterName} is '${inputs.pauseSwitch}'`,
    };
  }
  const same = executions.find((e) => e.PipelineExecutionDisplayName === inputs.displayName);
  if (same) {
    return {
      kind: 'skip',
      reason: 'Duplicate',
      message: `this event already started execution ${same.PipelineExecutionArn} (${same.PipelineExecutionStatus})`,
      pipelineExecutionArn: same.PipelineExecutionArn,
    };
  }
  const running = executions.find((e) => RUNNING.has(e.PipelineExecutionStatus ?? ''));
  if (running) {
    return {
      kind: 'skip',
      reason: 'ExecutionRunning',
      message: `execution ${running.PipelineExecutionArn} is ${running.PipelineExecutionStatus}`,
      pipelineExecutionArn: running.PipelineExecutionArn,
    };
  }
  const started = executions
    .filter((e): e is PipelineExecutionSummary & { StartTime: Date } => e.StartTime instanceof Date)
    .sort((a, b) => b.StartTime.getTime() - a.StartTime.getTime());
  const last = started[0];
  const cooldownMs = guardrails.cooldownMinutes * MINUTE_MS;
  if (last && now.getTime() - last.StartTime.getTime() < cooldownMs) {
    const ago = Math.floor((now.getTime() - last.StartTime.getTime()) / MINUTE_MS);
    return {
      kind: 'skip',
      reason: 'Cooldown',
      message:
        `execution ${last.PipelineExecutionArn} started at ${last.StartTime.toISOString()}, ${ago} minutes ago, ` +
        `within the cooldown of ${guardrails.cooldownMinutes} minutes: the next start can be after ` +
        new Date(last.StartTime.getTime() + cooldownMs).toISOString(),
      pipelineExecutionArn: last.PipelineExecutionArn,
    };
  }
  const today = started.filter((e) => now.getTime() - e.StartTime.getTime() < DAY_MS);
  if (today.length >= guardrails.maxStartsPerDay) {
    const oldest = today[today.length - 1];
    return {
      kind: 'skip',
      reason: 'DailyCap',
      message:
        `${today.length} executions started in the last 24 hours, the cap is ${guardrails.maxStartsPerDay}: ` +
        `the next start can be after ${new Date(oldest.StartTime.getTime() + DAY_MS).toISOString()}`,
    };
  }
  return { kind: 'start' };
}

/** The placeholders a PIPELINE_PARAMETERS template may hold, as `{name}`. */
export const PARAMETER_PLACEHOLDERS = [
  'windowStart',
  'windowEnd',
  'windowDays',
  'trigger',
  'triggerName',
  'reason',
  'eventId',
] as const;
export type ParameterPlaceholder = (typeof PARAMETER_PLACEHOLDERS)[number];

/** The longest value of a pipeline parameter (SageMaker API reference, Parameter). */
export const MAX_PARAMETER_VALUE_LENGTH = 1024;
/** The longest PipelineExecutionDescription (SageMaker API reference, StartPipelineExecution). */
export const MAX_EXECUTION_DESCRIPTION_LENGTH = 3072;

const PARAMETER_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Everything the trigger needs besides its clients. */
export interface RetrainTriggerSettings {
  /** The pipeline's name or ARN. */
  readonly pipelineName: string;
  /** The SSM String parameter whose value `paused` stops every start. */
  readonly pauseParameterName: string;
  /** Names or ARNs of the alarms whose ALARM state starts a retraining. */
  readonly watchedAlarms: readonly string[];
  readonly guardrails: RetrainGuardrails;
  /** How many days before the trigger the data window starts. */
  readonly dataWindowDays: number;
  /** Pipeline parameter name -> template of its value, with `{placeholder}`s. */
  readonly parameterTemplates: Readonly<Record<string, string>>;
}

export const DEFAULT_DATA_WINDOW_DAYS = 30;

const PIPELINE_NAME =
  /^(?:[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,255}|arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline\/[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,255})$/;
const SSM_PARAMETER_NAME =
  /^(?:[a-zA-Z0-9_.\-/]{1,2048}|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[a-zA-Z0-9_.\-/]{1,2048})$/;

/**
 * Reads the settings from `env`, adding each missing or invalid value to `problems`:
 * PIPELINE_NAME and PAUSE_PARAMETER_NAME (required), WATCHED_ALARMS (JSON array of names or ARNs,
 * default none), COOLDOWN_MINUTES (360), MAX_STARTS_PER_DAY (2), DATA_WINDOW_DAYS (30),
 * PIPELINE_PARAMETERS (JSON object of templates, default none).
 */
export function readRetrainSettings(
  env: NodeJS.ProcessEnv,
  problems: EnvironmentProblems,
): RetrainTriggerSettings {
  const text = (name: string) => env[name]?.trim() ?? '';
  const pipelineName = text('PIPELINE_NAME');
  if (pipelineName === '') {
    problems.add("PIPELINE_NAME is not set: set it to the name or ARN of the model's training pipeline");
  } else if (!PIPELINE_NAME.test(pipelineName)) {
    problems.add(`PIPELINE_NAME ${describeValue(pipelineName)} is not a pipeline name or ARN`);
  }
  const pauseParameterName = text('PAUSE_PARAMETER_NAME');
  if (pauseParameterName === '') {
    problems.add(
      'PAUSE_PARAMETER_NAME is not set: set it to the name of the SSM parameter that pauses retraining',
    );
  } else if (!SSM_PARAMETER_NAME.test(pauseParameterName)) {
    problems.add(
      `PAUSE_PARAMETER_NAME ${describeValue(pauseParameterName)} is not an SSM parameter name or ARN`,
    );
  }

  const integer = (name: string, fallback: number, min: number, max: number, what: string): number => {
    const raw = text(name);
    if (raw === '') {
      return fallback;
    }
    const value = Number(raw);
    if (!(Number.isInteger(value) && value >= min && value <= max)) {
      problems.add(
        `${name} ${describeValue(env[name])} is not ${what}: use a whole number from ${min} to ${max}`,
      );
      return fallback;
    }
    return value;
  };
  // The cooldown cannot outlast the listing: starts older than the lookback are not seen.
  const cooldownMinutes = integer(
    'COOLDOWN_MINUTES',
    DEFAULT_GUARDRAILS.cooldownMinutes,
    0,
    EXECUTION_LOOKBACK_DAYS * 24 * 60,
    'a number of minutes',
  );
  const maxStartsPerDay = integer(
    'MAX_STARTS_PER_DAY',
    DEFAULT_GUARDRAILS.maxStartsPerDay,
    1,
    1000,
    'a number of starts',
  );
  const dataWindowDays = integer('DATA_WINDOW_DAYS', DEFAULT_DATA_WINDOW_DAYS, 1, 3650, 'a number of days');

  const watchedAlarms = readWatchedAlarms(text('WATCHED_ALARMS'), problems);
  const parameterTemplates = readParameterTemplates(text('PIPELINE_PARAMETERS'), problems);
  return {
    pipelineName,
    pauseParameterName,
    watchedAlarms,
    guardrails: { cooldownMinutes, maxStartsPerDay },
    dataWindowDays,
    parameterTemplates,
  };
}

function readWatchedAlarms(text: string, problems: EnvironmentProblems): string[] {
  if (text === '') {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string' && a.trim() !== '')) {
    problems.add(
      `WATCHED_ALARMS ${describeValue(text)} is not a JSON array of alarm names or ARNs: use e.g. '["trip-duration-drift"]'`,
    );
    return [];
  }
  return parsed.map((a: string) => a.trim());
}

/** Reads PIPELINE_PARAMETERS: a JSON object of parameter name -> template. */
export function readParameterTemplates(text: string, problems: EnvironmentProblems): Record<string, string> {
  if (text === '') {
    return {};
  }
  const example = `use e.g. '{"InputDataUrl":"s3://bucket/data/","DataWindowStart":"{windowStart}"}'`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    problems.add(
      `PIPELINE_PARAMETERS ${describeValue(text)} is not a JSON object of parameter templates: ${example}`,
    );
    return {};
  }
  const templates: Record<string, string> = {};
  for (const [name, template] of Object.entries(parsed)) {
    if (!PARAMETER_NAME.test(name)) {
      problems.add(
        `PIPELINE_PARAMETERS key ${describeValue(name)} is not a pipeline parameter name (letters, digits, - and _)`,
      );
      continue;
    }
    if (typeof template !== 'string') {
      problems.add(`PIPELINE_PARAMETERS.${name} ${describeValue(template)} is not a string: ${example}`);
      continue;
    }
    const unknown = [...template.matchAll(PLACEHOLDER)]
      .map((m) => m[1])
      .filter((p) => !(PARAMETER_PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown.length > 0) {
      problems.add(
        `PIPELINE_PARAMETERS.${name} uses ${unknown.map((p) => `{${p}}`).join(', ')}: ` +
          `the placeholders are ${PARAMETER_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
      );
      continue;
    }
    templates[name] = template;
  }
  return templates;
}

/** `2026-11-20T10:05:00Z`: whole seconds, UTC. */
function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The values of the placeholders for one request. */
export function placeholderValues(
  request: RetrainRequest,
  dataWindowDays: number,
): Record<ParameterPlaceholder, string> {
  const end = new Date(Math.floor(request.at.getTime() / 1000) * 1000);
  const start = new Date(end.getTime() - dataWindowDays * DAY_MS);
  return {
    windowStart: isoSeconds(start),
    windowEnd: isoSeconds(end),
    windowDays: String(dataWindowDays),
    trigger: request.trigger,
    triggerName: request.triggerName,
    reason: request.reason,
    eventId: request.eventId,
  };
}

/** The pipeline parameters of a start: each template with its placeholders filled in, in the configured order. */
export function renderParameters(
  templates: Readonly<Record<string, string>>,
  values: Readonly<Record<ParameterPlaceholder, string>>,
): Parameter[] {
  return Object.entries(templates).map(([Name, template]) => ({
    Name,
    Value: truncate(
      template.replace(PLACEHOLDER, (_, p: ParameterPlaceholder) => values[p]),
      MAX_PARAMETER_VALUE_LENGTH,
    ),
  }));
}

/**
 * The ClientRequestToken of the start a request asks for: the SHA-256 of the pipeline and the
 * request's idempotency key, 64 hex digits (SageMaker takes 32 to 128 characters). Every delivery
 * of one event sends the same token, so SageMaker starts at most one execution for it.
 */
export function clientRequestToken(pipelineName: string, request: RetrainRequest): string {
  return createHash('sha256').update(`${pipelineName}|${request.idempotencyKey}`).digest('hex');
}

/**
 * The display name of the execution a request starts, e.g. `retrain-alarm-20261120T100500Z-1a2b3c4d5e6f`:
 * what triggered it and when, and 12 hex digits of its token, so that a listing of the pipeline's
 * executions shows whether this event already started one.
 */
export function executionDisplayName(token: string, request: RetrainRequest): string {
  const when = isoSeconds(request.at).replace(/[-:]/g, '');
  return `retrain-${request.trigger}-${when}-${token.slice(0, 12)}`;
}

/** The description of the execution a request starts: the reason, the data window and the event id. */
function executionDescription(request: RetrainRequest, values: Record<ParameterPlaceholder, string>): string {
  return truncate(
    `Retraining on ${request.trigger === 'alarm' ? 'an alarm' : 'a schedule'}: ${request.reason}. ` +
      `Data window ${values.windowStart} to ${values.windowEnd} (${values.windowDays} days). ` +
      `Started by the retrain trigger for event ${request.eventId}.`,
    MAX_EXECUTION_DESCRIPTION_LENGTH,
  );
}

/** What the display name and description of an execution the trigger started say about its start. */
export interface RetrainExecutionRecord {
  readonly trigger: 'alarm' | 'schedule';
  /** When the trigger fired (whole seconds, UTC), from the display name. */
  readonly triggeredAt: string;
  /** The first 12 hex digits of the start's ClientRequestToken. */
  readonly tokenPrefix: string;
  /** The reason, when the description holds it (it may end in `...` when the description was cut). */
  readonly reason?: string;
  /** The alarm's name, or the rule's or schedule's ARN, when the reason names it. */
  readonly triggerName?: string;
  readonly windowStart?: string;
  readonly windowEnd?: string;
  readonly windowDays?: number;
  readonly eventId?: string;
}

const DISPLAY_NAME = /^retrain-(alarm|schedule)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{12})$/;
const DESCRIPTION =
  /^Retraining on (?:an alarm|a schedule): (.*)\. Data window (\S+) to (\S+) \((\d+) days\)\. Started by the retrain trigger for event (.*)\.$/s;
const DESCRIPTION_START = /^Retraining on (?:an alarm|a schedule): (.*)$/s;
const ALARM_REASON = /^alarm (.+?) entered ALARM at /s;
const SCHEDULE_REASON = /^schedule (arn:\S+) at /;

/**
 * Reads back what executionDisplayName and the start's description record; undefined when the
 * display name is not one the trigger gives (an execution started by hand or by another schedule).
 */
export function parseRetrainExecution(
  displayName: string | undefined,
  description: string | undefined,
): RetrainExecutionRecord | undefined {
  const name = DISPLAY_NAME.exec(displayName ?? '');
  if (!name) {
    return undefined;
  }
  const [, trigger, year, month, day, hour, minute, second, tokenPrefix] = name;
  const record = {
    trigger: trigger as 'alarm' | 'schedule',
    triggeredAt: `${year}-${month}-${day}T${hour}:${minute}:${second}Z`,
    tokenPrefix,
  };
  const full = DESCRIPTION.exec(description ?? '');
  const reason = full ? full[1] : DESCRIPTION_START.exec(description ?? '')?.[1];
  if (reason === undefined) {
    return record;
  }
  const triggerName = (trigger === 'alarm' ? ALARM_REASON : SCHEDULE_REASON).exec(reason)?.[1];
  return {
    ...record,
    reason,
    ...(triggerName === undefined ? {} : { triggerName }),
    ...(full
      ? { windowStart: full[2], windowEnd: full[3], windowDays: Number(full[4]), eventId: full[5] }
      : {}),
  };
}

/** The StartPipelineExecution request for a retraining request. */
export function startRequest(
  settings: RetrainTriggerSettings,
  request: RetrainRequest,
): StartPipelineExecutionCommandInput {
  const token = clientRequestToken(settings.pipelineName, request);
  const values = placeholderValues(request, settings.dataWindowDays);
  return {
    PipelineName: settings.pipelineName,
    PipelineExecutionDisplayName: executionDisplayName(token, request),
    PipelineExecutionDescription: executionDescription(request, values),
    PipelineParameters: renderParameters(settings.parameterTemplates, values),
    ClientRequestToken: token,
  };
}

/** The clients the trigger calls. */
export interface RetrainTriggerClients {
  readonly sageMaker: SageMakerClient;
  readonly ssm: SSMClient;
}

/** What the trigger did with a request. */
export type RetrainResult =
  | {
      readonly outcome: 'started';
      readonly pipelineExecutionArn: string;
      /** The StartPipelineExecution request sent. */
      readonly start: StartPipelineExecutionCommandInput;
    }
  | {
      readonly outcome: 'skipped';
      readonly reason: SkipReason;
      readonly message: string;
      readonly pipelineExecutionArn?: string;
    };

async function readPauseSwitch(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const response = await ssm.send(new GetParameterCommand({ Name: name }));
    return response.Parameter?.Value ?? '';
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) {
      return undefined;
    }
    throw error;
  }
}

/** The pipeline's executions created in the lookback, newest first. */
export async function recentExecutions(
  sageMaker: SageMakerClient,
  pipelineName: string,
  now: Date,
): Promise<PipelineExecutionSummary[]> {
  const executions: PipelineExecutionSummary[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_EXECUTION_PAGES; page++) {
    const response = await sageMaker.send(
      new ListPipelineExecutionsCommand({
        PipelineName: pipelineName,
        CreatedAfter: new Date(now.getTime() - EXECUTION_LOOKBACK_DAYS * DAY_MS),
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 100,
        NextToken: nextToken,
      }),
    );
    executions.push(...(response.PipelineExecutionSummaries ?? []));
    nextToken = response.NextToken;
    if (!nextToken) {
      break;
    }
  }
  return executions;
}

/**
 * Starts the pipeline for `request` unless a guardrail says no. The state the guardrails need is
 * read, not kept: the pause switch from SSM, the last starts and running executions from
 * ListPipelineExecutions. Throws when a read or the start fails, having started nothing, so that
 * the event is retried.
 */
export async function runRetrainTrigger(
  clients: RetrainTriggerClients,
  settings: RetrainTriggerSettings,
  request: RetrainRequest,
  now: Date,
): Promise<RetrainResult> {
  const start = startRequest(settings, request);
  const pauseSwitch = await readPauseSwitch(clients.ssm, settings.pauseParameterName);
  const executions =
    pauseSwitch === undefined || pauseSwitch.trim().toLowerCase() === PAUSED
      ? []
      : await recentExecutions(clients.sageMaker, settings.pipelineName, now);
  const decision = decideRetrain({
    pauseSwitch,
    pauseParameterName: settings.pauseParameterName,
    executions,
    displayName: start.PipelineExecutionDisplayName ?? '',
    now,
    guardrails: settings.guardrails,
  });
  if (decision.kind === 'skip') {
    return {
      outcome: 'skipped',
      reason: decision.reason,
      message: decision.message,
      pipelineExecutionArn: decision.pipelineExecutionArn,
    };
  }
  const response = await clients.sageMaker.send(new StartPipelineExecutionCommand(start));
  return { outcome: 'started', pipelineExecutionArn: response.PipelineExecutionArn ?? '', start };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
