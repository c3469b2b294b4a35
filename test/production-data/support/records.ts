// SageMaker's documented shapes: a data capture line (endpointInput, the CSV request the model
// saw) and a ground-truth merge line (groundTruthData, keyed by the request's inference id).

/** A captured CSV request of the trip duration model: trip_distance, hour, weekday, PU, DO. */
export function captureLine(inferenceId: string | undefined, features: string, prediction = '11.2'): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: features, encoding: 'CSV' },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: prediction, encoding: 'CSV' },
    },
    eventMetadata: {
      eventId: `event-${inferenceId ?? 'none'}`,
      ...(inferenceId !== undefined ? { inferenceId } : {}),
      inferenceTime: '2026-05-01T10:05:00Z',
    },
    eventVersion: '0',
  });
}

/** A ground-truth label for an inference id. */
export function labelLine(inferenceId: string, label: string): string {
  return JSON.stringify({
    groundTruthData: { data: label, encoding: 'CSV' },
    eventMetadata: { eventId: inferenceId },
    eventVersion: '0',
  });
}

export const jsonl = (...lines: string[]) => `${lines.join('\n')}\n`;

/** The trip duration model's layout, as the reference workload passes it. */
export const DURATION_EVENT = {
  ExecutionId: 'a1b2c3d4e5f6',
  RetrainReason: 'alarm trip-duration-drift entered ALARM',
  Label: 'duration',
  Features: 'trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID',
  CategoricalFeatures: 'PULocationID,DOLocationID',
};
