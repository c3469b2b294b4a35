/** One SageMaker data capture line (the shape an endpoint writes) whose output is `data`. */
export function captureLine(
  inferenceId: string | undefined,
  data: string,
  options: { encoding?: string; contentType?: string; eventId?: string; time?: string | null } = {},
): string {
  const encoding = options.encoding ?? 'CSV';
  const metadata: Record<string, string> = { eventId: options.eventId ?? `event-of-${inferenceId}` };
  if (inferenceId !== undefined) metadata.inferenceId = inferenceId;
  if (options.time !== null) metadata.inferenceTime = options.time ?? '2026-12-01T09:30:00Z';
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: '3.5,132,9', encoding: 'CSV' },
      endpointOutput: {
        observedContentType: options.contentType ?? (encoding === 'JSON' ? 'application/json' : 'text/csv'),
        mode: 'OUTPUT',
        data,
        encoding,
      },
    },
    eventMetadata: metadata,
    eventVersion: '0',
  });
}

/** One ground-truth line in SageMaker's merge shape, keyed by the inference id. */
export function labelLine(
  inferenceId: string,
  data: string,
  options: { encoding?: string; labelTime?: string } = {},
): string {
  const eventMetadata: Record<string, string> = { eventId: inferenceId };
  if (options.labelTime !== undefined) eventMetadata.labelTime = options.labelTime;
  return JSON.stringify({
    groundTruthData: { data, encoding: options.encoding ?? 'CSV' },
    eventMetadata,
    eventVersion: '0',
  });
}
