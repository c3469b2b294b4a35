// What the project's event handlers share around their own logic: Powertools' logger and metrics
// created once per execution environment, and each invocation's log keys and stored metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/** What a handler's logger and metrics are named after. */
export interface HandlerIdentity {
  readonly serviceName: string;
  readonly metricsNamespace: string;
  readonly modelName: string;
}

/** The logger and metrics of a handler, with the model in every log line and metric. */
export function handlerTelemetry(identity: HandlerIdentity): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({
      serviceName: identity.serviceName,
      persistentKeys: { modelName: identity.modelName },
    }),
    metrics: new Metrics({
      namespace: identity.metricsNamespace,
      serviceName: identity.serviceName,
      defaultDimensions: { ModelName: identity.modelName },
    }),
  };
}

/** The keys an EventBridge event adds to each log line: its id, and the model package it is about. */
export function eventLogKeys(event: unknown): Record<string, string | undefined> {
  const record = isRecord(event) ? event : undefined;
  const detail = isRecord(record?.detail) ? record.detail : undefined;
  return {
    eventId: typeof record?.id === 'string' ? record.id : undefined,
    ...(typeof detail?.ModelPackageArn === 'string' ? { modelPackageArn: detail.ModelPackageArn } : {}),
  };
}

/**
 * Runs `handle` for one invocation: the context and the event's keys on every log line, the stored
 * metrics published and the keys cleared afterwards, whatever the outcome.
 */
export async function runInvocation<T>(
  telemetry: { logger: Logger; metrics: Metrics },
  event: unknown,
  context: Context | undefined,
  handle: (event: unknown) => Promise<T>,
): Promise<T> {
  const { logger, metrics } = telemetry;
  if (context !== undefined) {
    logger.addContext(context);
  }
  logger.appendKeys(eventLogKeys(event));
  try {
    return await handle(event);
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
