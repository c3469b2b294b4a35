// Powertools writes one JSON object per line: log lines to stdout (errors to stderr), metrics as
// CloudWatch embedded metric format to stdout. These helpers capture both for assertions.

let written: string[] = [];

/** Captures stdout and stderr until `jest.restoreAllMocks()`. Call in `beforeEach`. */
export function captureHandlerOutput(): void {
  written = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
}

function outputLines(): Record<string, unknown>[] {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export function logLines(): LogLine[] {
  return outputLines().filter((line): line is LogLine => typeof line.level === 'string');
}

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  readonly [key: string]: unknown;
}

/** One published data point: its namespace, metric, dimensions (name -> value) and value. */
export interface PublishedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, unknown>;
  readonly value: unknown;
}

export function publishedMetrics(): PublishedMetric[] {
  return outputLines()
    .filter((line): line is EmfLine => line._aws !== undefined)
    .flatMap((line) =>
      line._aws.CloudWatchMetrics.flatMap((set) =>
        set.Dimensions.flatMap((dimensionNames) =>
          set.Metrics.map((metric) => ({
            namespace: set.Namespace,
            name: metric.Name,
            dimensions: Object.fromEntries(dimensionNames.map((d) => [d, line[d]])),
            value: line[metric.Name],
          })),
        ),
      ),
    );
}
