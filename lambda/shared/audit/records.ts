import type {
  DescribeModelPackageCommandOutput,
  DescribePipelineExecutionCommandOutput,
} from '@aws-sdk/client-sagemaker';
import type { Parameter as PipelineParameter } from '@aws-sdk/client-sagemaker';
import type { ParameterHistory } from '@aws-sdk/client-ssm';
import { parseRetrainExecution, RetrainExecutionRecord } from '../automation/retrain-trigger';

/*
 * The audit trail is read, not kept: each record here is built from what the loop already leaves
 * behind (SSM parameter history, the registry, SageMaker Pipelines), without calling anything.
 */

/** One version of a release pointer whose value differs from the version before it. */
export interface PointerSwitch {
  readonly version: number;
  /** When the version was written (ISO 8601). */
  readonly at: string;
  /** The package ARN it names, or `none`. */
  readonly value: string;
  /** The value before, undefined for the parameter's first version. */
  readonly previous?: string;
  /** Who wrote it: the IAM user or role session SSM records. */
  readonly by?: string;
}

/**
 * The switches of a pointer, newest first: the versions whose value differs from the one before
 * (the first version always counts). A rewrite of the value the pointer already holds switches
 * nothing and is left out; a failed release shows as a switch to its package and one back.
 */
export function pointerSwitches(history: readonly ParameterHistory[]): PointerSwitch[] {
  const versions = [...history]
    .filter((h) => typeof h.Version === 'number' && typeof h.Value === 'string')
    .sort((a, b) => a.Version! - b.Version!);
  const switches: PointerSwitch[] = [];
  let previous: string | undefined;
  for (const h of versions) {
    const value = h.Value!.trim();
    if (switches.length > 0 && value === previous) {
      continue;
    }
    switches.push({
      version: h.Version!,
      at: isoTime(h.LastModifiedDate),
      value,
      ...(previous === undefined ? {} : { previous }),
      ...(h.LastModifiedUser ? { by: h.LastModifiedUser } : {}),
    });
    previous = value;
  }
  return switches.reverse();
}

/** The package ARNs a pointer value can name; `none` and anything else name no package. */
export function isModelPackageArn(value: string | undefined): value is string {
  return (
    value !== undefined && /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/.+\/\d+$/.test(value)
  );
}

/** `arn:...:pipeline/<name>/execution/<id>`: what SageMaker records as GeneratedBy of a package a pipeline registered. */
const EXECUTION_ARN = /^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):\d{12}:pipeline\/([^/]+)\/execution\/([^/]+)$/;

export function parseExecutionArn(
  value: string | undefined,
): { region: string; pipelineName: string; executionId: string } | undefined {
  const match = EXECUTION_ARN.exec(value ?? '');
  return match ? { region: match[1], pipelineName: match[2], executionId: match[3] } : undefined;
}

/** The approval gate's verdict, read back from a package's ApprovalDescription (docs/automation.md, "The record"). */
export interface GateRecord {
  /** `gate`: the approval gate decided; `person`: the description is not the gate's (or there is none). */
  readonly decidedBy: 'gate' | 'person';
  readonly verdict?: 'Approved' | 'Rejected';
  /** The gate's reasons, as one sentence; for a person's decision, their description. */
  readonly reasons?: string;
  /** The challenger's numbers, label -> value, as the gate printed them (six significant digits). */
  readonly challenger?: Readonly<Record<string, number>>;
  /** The champion the gate compared with, when there was one. */
  readonly championArn?: string;
  readonly champion?: Readonly<Record<string, number>>;
  /** The description as SageMaker holds it. */
  readonly description?: string;
}

const GATE = /^(Approved|Rejected) by the approval gate: (.*)$/s;

/** Reads the gate's record from ApprovalDescription. */
export function parseGateRecord(description: string | undefined): GateRecord {
  const text = description?.trim() ?? '';
  const gate = GATE.exec(text);
  if (!gate) {
    return { decidedBy: 'person', ...(text === '' ? {} : { reasons: text, description: text }) };
  }
  const body = gate[2];
  // The reasons end where the numbers start: ". Challenger (" or ". Challenger: no numbers".
  const split = body.search(/\. Challenger(?: \(| ?:)/);
  const reasons = split < 0 ? body : body.slice(0, split);
  const numbers = split < 0 ? '' : body.slice(split + 2);
  const challenger = /^Challenger \([^)]*\): (.*?)(?:\. Champion|\.?$)/s.exec(numbers)?.[1];
  const champion = /Champion (arn:\S+)(?: \([^)]*\))?: (.*?)\.?$/s.exec(numbers);
  return {
    decidedBy: 'gate',
    verdict: gate[1] as 'Approved' | 'Rejected',
    reasons,
    ...(challenger ? { challenger: parseMetrics(challenger) } : {}),
    ...(champion ? { championArn: champion[1], champion: parseMetrics(champion[2]) } : {}),
    description: text,
  };
}

/** `rmse 4.1, mae 3` -> {rmse: 4.1, mae: 3}; entries that are not `label number` are skipped. */
function parseMetrics(text: string): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const part of text.split(', ')) {
    const match = /^(\S+) (-?\d[\d.e+-]*|Infinity|-Infinity)$/.exec(part.trim());
    if (match && !Number.isNaN(Number(match[2]))) {
      metrics[match[1]] = Number(match[2]);
    }
  }
  return metrics;
}

/** A model package as the trail shows it. */
export interface PackageRecord {
  readonly arn: string;
  readonly found: boolean;
  readonly group?: string;
  readonly version?: number;
  readonly approvalStatus?: string;
  readonly createdAt?: string;
  /** MetadataProperties.GeneratedBy: the pipeline execution that registered it. */
  readonly generatedBy?: string;
  readonly gate?: GateRecord;
}

export function packageRecord(
  arn: string,
  described: DescribeModelPackageCommandOutput | undefined,
): PackageRecord {
  if (!described) {
    return { arn, found: false };
  }
  return {
    arn,
    found: true,
    ...(described.ModelPackageGroupName ? { group: described.ModelPackageGroupName } : {}),
    ...(typeof described.ModelPackageVersion === 'number' ? { version: described.ModelPackageVersion } : {}),
    ...(described.ModelApprovalStatus ? { approvalStatus: described.ModelApprovalStatus } : {}),
    ...(described.CreationTime ? { createdAt: isoTime(described.CreationTime) } : {}),
    ...(described.MetadataProperties?.GeneratedBy
      ? { generatedBy: described.MetadataProperties.GeneratedBy }
      : {}),
    gate: parseGateRecord(described.ApprovalDescription),
  };
}

/** The pipeline parameters the retraining passes (docs/automation.md). */
export const RETRAIN_PARAMETERS = ['DataWindowStart', 'DataWindowEnd', 'RetrainReason'] as const;

/** What started an execution, as the trail shows it. */
export type TriggerRecord =
  | ({ readonly kind: 'retrain-trigger' } & RetrainExecutionRecord)
  /** Not one the retrain trigger started: by hand, the level-2 training schedule or new data. */
  | { readonly kind: 'other'; readonly reason?: string };

/** A pipeline execution as the trail shows it. */
export interface ExecutionRecord {
  readonly arn: string;
  readonly found: boolean;
  readonly displayName?: string;
  readonly status?: string;
  readonly startedAt?: string;
  readonly lastModifiedAt?: string;
  readonly description?: string;
  readonly trigger?: TriggerRecord;
  /** DataWindowStart, DataWindowEnd and RetrainReason, those the execution had. */
  readonly parameters?: Readonly<Record<string, string>>;
}

export function executionRecord(
  arn: string,
  described: DescribePipelineExecutionCommandOutput | undefined,
  parameters: readonly PipelineParameter[],
): ExecutionRecord {
  if (!described) {
    return { arn, found: false };
  }
  const displayName = described.PipelineExecutionDisplayName;
  const description = described.PipelineExecutionDescription;
  const retrain = parseRetrainExecution(displayName, description);
  const kept = Object.fromEntries(
    parameters
      .filter(
        (p) => (RETRAIN_PARAMETERS as readonly string[]).includes(p.Name ?? '') && p.Value !== undefined,
      )
      .map((p) => [p.Name!, p.Value!]),
  );
  const reason = kept.RetrainReason;
  return {
    arn,
    found: true,
    ...(displayName ? { displayName } : {}),
    ...(described.PipelineExecutionStatus ? { status: described.PipelineExecutionStatus } : {}),
    ...(described.CreationTime ? { startedAt: isoTime(described.CreationTime) } : {}),
    ...(described.LastModifiedTime ? { lastModifiedAt: isoTime(described.LastModifiedTime) } : {}),
    ...(description ? { description } : {}),
    trigger: retrain
      ? { kind: 'retrain-trigger', ...retrain }
      : { kind: 'other', ...(reason !== undefined && reason !== '' ? { reason } : {}) },
    ...(Object.keys(kept).length > 0 ? { parameters: kept } : {}),
  };
}

function isoTime(value: Date | string | undefined): string {
  if (value instanceof Date) {
    return value.toISOString();
  }
  return value ?? '';
}
