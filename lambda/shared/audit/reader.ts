import {
  DescribeModelPackageCommand,
  DescribeModelPackageCommandOutput,
  DescribePipelineExecutionCommand,
  DescribePipelineExecutionCommandOutput,
  ListPipelineParametersForExecutionCommand,
  Parameter as PipelineParameter,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { GetParameterHistoryCommand, ParameterHistory, SSMClient } from '@aws-sdk/client-ssm';
import { describeAwsError, errorMessage, isAwsError } from '../release/errors';
import {
  ExecutionRecord,
  executionRecord,
  isModelPackageArn,
  PackageRecord,
  packageRecord,
  parseExecutionArn,
  PointerSwitch,
  pointerSwitches,
} from './records';

/** A release pointer to audit: the champion's or a variant's, of one environment. */
export interface AuditPointer {
  /** `champion`, or the variant (`challenger`, `shadow`). */
  readonly slot: string;
  readonly pointerName: string;
}

/** An environment that serves the model. */
export interface AuditEnvironment {
  readonly name: string;
  readonly level: number;
  /** The environment's region. @default - the SDK's (AWS_REGION, the profile) */
  readonly region?: string;
  /** Whether it is the release source, where the model trains and its gate runs. */
  readonly releaseSource: boolean;
  readonly pointers: readonly AuditPointer[];
}

export interface AuditRequest {
  readonly modelName: string;
  /** In promotion order. */
  readonly environments: readonly AuditEnvironment[];
  /** How many switches to show per pointer, newest first. */
  readonly limit: number;
}

/** SDK clients by region; the package's and the execution's regions come from their ARNs. */
export interface AuditClients {
  ssm(region: string | undefined): SSMClient;
  sageMaker(region: string | undefined): SageMakerClient;
}

/** One switch of a pointer with what it switched to: the package, and the execution that produced it. */
export interface TrailEntry extends PointerSwitch {
  readonly package?: PackageRecord;
  readonly execution?: ExecutionRecord;
}

export interface PointerTrail extends AuditPointer {
  /** False when the parameter does not exist: the environment is not deployed, or has no such slot. */
  readonly exists: boolean;
  /** The value the pointer holds now. */
  readonly current?: string;
  /** The switches, newest first, at most the request's limit; the first is the one serving now. */
  readonly switches: readonly TrailEntry[];
  /** How many older switches the limit left out. */
  readonly olderSwitches: number;
}

export interface EnvironmentTrail {
  readonly environment: string;
  readonly level: number;
  readonly region?: string;
  readonly releaseSource: boolean;
  readonly pointers: readonly PointerTrail[];
}

export interface AuditTrail {
  readonly model: string;
  readonly environments: readonly EnvironmentTrail[];
}

/** A read the audit needs failed; the message names the call, the resource and what to check. */
export class AuditError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditError';
  }
}

function failure(call: string, action: string, resource: string, error: unknown): AuditError {
  const denied = isAwsError(error, 'AccessDeniedException') || isAwsError(error, 'AccessDenied');
  const fix = denied
    ? `allow ${action} on it to the caller (see docs/audit.md, permissions)`
    : 'check your credentials, network and region, and run the audit again';
  return new AuditError(`${call} of ${resource} failed: ${describeAwsError(error)}: ${fix}`, {
    cause: error,
  });
}

function isNotFound(error: unknown): boolean {
  return (
    isAwsError(error, 'ResourceNotFound') ||
    (isAwsError(error, 'ValidationException') && /not (be )?found|does not exist/i.test(errorMessage(error)))
  );
}

/** Every version of a parameter (SSM keeps the last 100), or undefined when it does not exist. */
async function parameterHistory(ssm: SSMClient, name: string): Promise<ParameterHistory[] | undefined> {
  const history: ParameterHistory[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await ssm.send(
        new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken: nextToken }),
      );
      history.push(...(page.Parameters ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) {
      return undefined;
    }
    throw failure('GetParameterHistory', 'ssm:GetParameterHistory', `parameter ${name}`, error);
  }
  return history;
}

/**
 * Reads the audit trail of a model: for each environment's pointers, their switches (from the
 * parameter history), the package each switch served (DescribeModelPackage: approval, the gate's
 * record, GeneratedBy) and the pipeline execution that registered it (DescribePipelineExecution
 * and its parameters: what triggered it, on which data window). Each package and execution is read
 * once. Throws an AuditError when a read fails for another reason than a missing resource.
 */
export async function readAuditTrail(clients: AuditClients, request: AuditRequest): Promise<AuditTrail> {
  const packages = new Map<string, Promise<PackageRecord>>();
  const executions = new Map<string, Promise<ExecutionRecord>>();

  const readPackage = (arn: string): Promise<PackageRecord> => {
    let found = packages.get(arn);
    if (!found) {
      found = describePackage(clients, arn).then((described) => packageRecord(arn, described));
      packages.set(arn, found);
    }
    return found;
  };
  const readExecution = (arn: string): Promise<ExecutionRecord> => {
    let found = executions.get(arn);
    if (!found) {
      found = describeExecution(clients, arn).then(([described, parameters]) =>
        executionRecord(arn, described, parameters),
      );
      executions.set(arn, found);
    }
    return found;
  };

  const entry = async (change: PointerSwitch): Promise<TrailEntry> => {
    if (!isModelPackageArn(change.value)) {
      return change;
    }
    const pkg = await readPackage(change.value);
    const execution = parseExecutionArn(pkg.generatedBy) ? await readExecution(pkg.generatedBy!) : undefined;
    return { ...change, package: pkg, ...(execution ? { execution } : {}) };
  };

  const environments: EnvironmentTrail[] = [];
  for (const environment of request.environments) {
    const ssm = clients.ssm(environment.region);
    const pointers: PointerTrail[] = [];
    for (const pointer of environment.pointers) {
      const history = await parameterHistory(ssm, pointer.pointerName);
      if (history === undefined) {
        pointers.push({ ...pointer, exists: false, switches: [], olderSwitches: 0 });
        continue;
      }
      const all = pointerSwitches(history);
      const shown = all.slice(0, request.limit);
      const switches: TrailEntry[] = [];
      for (const change of shown) {
        switches.push(await entry(change));
      }
      pointers.push({
        ...pointer,
        exists: true,
        ...(all[0] ? { current: all[0].value } : {}),
        switches,
        olderSwitches: all.length - shown.length,
      });
    }
    environments.push({
      environment: environment.name,
      level: environment.level,
      ...(environment.region ? { region: environment.region } : {}),
      releaseSource: environment.releaseSource,
      pointers,
    });
  }
  return { model: request.modelName, environments };
}

/** The region in an ARN (its fourth field). */
function regionOf(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

async function describePackage(
  clients: AuditClients,
  arn: string,
): Promise<DescribeModelPackageCommandOutput | undefined> {
  try {
    return await clients
      .sageMaker(regionOf(arn))
      .send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  } catch (error) {
    if (isNotFound(error)) {
      return undefined;
    }
    throw failure('DescribeModelPackage', 'sagemaker:DescribeModelPackage', `model package ${arn}`, error);
  }
}

async function describeExecution(
  clients: AuditClients,
  arn: string,
): Promise<[DescribePipelineExecutionCommandOutput | undefined, PipelineParameter[]]> {
  const sageMaker = clients.sageMaker(regionOf(arn));
  let described: DescribePipelineExecutionCommandOutput;
  try {
    described = await sageMaker.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn }));
  } catch (error) {
    if (isNotFound(error)) {
      return [undefined, []];
    }
    throw failure(
      'DescribePipelineExecution',
      'sagemaker:DescribePipelineExecution',
      `execution ${arn}`,
      error,
    );
  }
  const parameters: PipelineParameter[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await sageMaker.send(
        new ListPipelineParametersForExecutionCommand({ PipelineExecutionArn: arn, NextToken: nextToken }),
      );
      parameters.push(...(page.PipelineParameters ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    throw failure(
      'ListPipelineParametersForExecution',
      'sagemaker:ListPipelineParametersForExecution',
      `execution ${arn}`,
      error,
    );
  }
  return [described, parameters];
}
