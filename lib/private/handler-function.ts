import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { handlerEntry } from './handler-entry';

/** How one of the project's handlers runs; everything else is the same for all of them. */
export interface HandlerFunctionOptions extends Pick<
  nodejs.NodejsFunctionProps,
  | 'functionName'
  | 'description'
  | 'timeout'
  | 'memorySize'
  | 'ephemeralStorageSize'
  | 'environment'
  | 'deadLetterQueue'
  | 'retryAttempts'
  | 'reservedConcurrentExecutions'
> {
  /** The handler's folder under `lambda/`. */
  readonly entry: string;
  /** Applied to the log group. */
  readonly removalPolicy: RemovalPolicy;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default - a generated name */
  readonly roleName?: string;
  /** @default - the function's `description` */
  readonly roleDescription?: string;
  /** @default - no path */
  readonly rolePath?: string;
}

/**
 * A handler of `lambda/<entry>/` as every construct of the project deploys one: bundled by esbuild
 * with the runtime's AWS SDK left out, Node.js 24 on ARM, JSON logs into its own log group, and its
 * own role (`<id>Role`), which gets only what the caller grants. The log group is `<id>Logs`.
 */
export function handlerFunction(
  scope: Construct,
  id: string,
  {
    entry,
    removalPolicy,
    logRetention,
    roleName,
    roleDescription,
    rolePath,
    ...options
  }: HandlerFunctionOptions,
): { fn: nodejs.NodejsFunction; role: iam.Role; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logRetention ?? logs.RetentionDays.THREE_MONTHS,
    removalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    roleName,
    path: rolePath,
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: roleDescription ?? options.description,
  });
  logGroup.grantWrite(role);
  const fn = new nodejs.NodejsFunction(scope, id, {
    ...options,
    entry: handlerEntry(entry),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    bundling: { minify: true, sourceMap: false, externalModules: ['@aws-sdk/*'] },
  });
  return { fn, role, logGroup };
}
