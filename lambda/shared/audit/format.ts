import { AuditTrail, EnvironmentTrail, PointerTrail, TrailEntry } from './reader';
import { ExecutionRecord, GateRecord, isModelPackageArn, PackageRecord } from './records';

/** `taxi-duration/7` for a package version ARN; the value itself otherwise (`none`). */
export function shortPackage(value: string): string {
  return isModelPackageArn(value)
    ? value.slice(value.indexOf(':model-package/') + ':model-package/'.length)
    : value;
}

/** What triggered an execution, in a few words. */
export function triggerSummary(execution: ExecutionRecord | undefined): string {
  const trigger = execution?.trigger;
  if (!trigger) {
    return '-';
  }
  if (trigger.kind === 'other') {
    return `not the retrain trigger${trigger.reason ? ` (RetrainReason ${trigger.reason})` : ''}`;
  }
  const name = trigger.triggerName ?? trigger.triggeredAt;
  return `${trigger.trigger} ${trigger.trigger === 'schedule' ? name.slice(name.lastIndexOf('/') + 1) : name}`;
}

function metrics(values: Readonly<Record<string, number>> | undefined): string {
  return Object.entries(values ?? {})
    .map(([label, value]) => `${label} ${value}`)
    .join(', ');
}

/** Who decided on a package and, for the gate, its numbers, in one line. */
export function gateSummary(pkg: PackageRecord | undefined): string {
  if (!pkg) {
    return '-';
  }
  if (!pkg.found) {
    return 'package not found';
  }
  return gateLine(pkg.gate, pkg.approvalStatus);
}

function gateLine(gate: GateRecord | undefined, approvalStatus: string | undefined): string {
  if (!gate || gate.decidedBy === 'person') {
    return `${approvalStatus ?? 'unknown'}, not by the gate`;
  }
  const challenger = metrics(gate.challenger);
  const champion = metrics(gate.champion);
  return (
    `${gate.verdict} by the gate` +
    (challenger ? `: ${challenger}` : '') +
    (gate.championArn
      ? ` vs champion ${shortPackage(gate.championArn)}${champion ? ` ${champion}` : ''}`
      : '')
  );
}

function producedBy(entry: TrailEntry): string {
  if (!entry.package) {
    return '-';
  }
  if (!entry.package.found) {
    return 'package not found';
  }
  if (!entry.execution) {
    return entry.package.generatedBy ?? 'no pipeline execution recorded';
  }
  return entry.execution.displayName ?? entry.execution.arn.slice(entry.execution.arn.lastIndexOf('/') + 1);
}

function table(header: string[], rows: string[][], indent: string): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((row) =>
    (indent + row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).trimEnd(),
  );
}

function served(pointer: PointerTrail, limitHint: number): string[] {
  const lines = [`  ${pointer.slot} (${pointer.pointerName})`];
  if (!pointer.exists) {
    lines.push('    not deployed: the pointer does not exist');
    return lines;
  }
  const now = pointer.switches[0];
  if (!now) {
    lines.push('    no versions');
    return lines;
  }
  const field = (name: string, value: string) => lines.push(`    ${name.padEnd(10)}${value}`);
  const pkg = now.package;
  field(
    'serves',
    `${shortPackage(now.value)}` +
      (pkg?.found
        ? ` (${pkg.approvalStatus ?? 'status unknown'}, registered ${pkg.createdAt ?? 'at an unknown time'})`
        : '') +
      (pkg && !pkg.found ? ' (package not found in the registry)' : ''),
  );
  field('since', `${now.at}${now.by ? ` by ${now.by}` : ''}`);
  if (pkg?.found) {
    const execution = now.execution;
    if (execution?.found) {
      field(
        'produced',
        `${execution.displayName ?? '(no display name)'} (${execution.status ?? 'status unknown'}, ` +
          `started ${execution.startedAt ?? 'at an unknown time'})`,
      );
      field('', execution.arn);
      const trigger = execution.trigger;
      field(
        'trigger',
        trigger?.kind === 'retrain-trigger'
          ? (trigger.reason ?? `${trigger.trigger} at ${trigger.triggeredAt}`)
          : `not started by the retrain trigger${execution.description ? `: ${execution.description}` : ''}`,
      );
      const p = execution.parameters ?? {};
      const window =
        p.DataWindowStart || p.DataWindowEnd
          ? `${p.DataWindowStart || '?'} to ${p.DataWindowEnd || '?'}`
          : trigger?.kind === 'retrain-trigger' && trigger.windowStart
            ? `${trigger.windowStart} to ${trigger.windowEnd}`
            : 'no production data window';
      // The trigger passes its reason as RetrainReason: print it only when it says something else.
      const retrainReason =
        p.RetrainReason && !(trigger?.kind === 'retrain-trigger' && trigger.reason === p.RetrainReason)
          ? ` (RetrainReason ${p.RetrainReason})`
          : '';
      field('data', `${window}${retrainReason}`);
    } else if (execution) {
      field('produced', `${execution.arn} (the execution no longer exists)`);
    } else {
      field('produced', pkg.generatedBy ?? 'no pipeline execution recorded (registered outside a pipeline)');
    }
    const gate = pkg.gate;
    field('gate', gateLine(gate, pkg.approvalStatus));
    if (gate?.reasons) {
      field('', gate.reasons);
    }
  }
  lines.push('    switches, newest first');
  const rows = pointer.switches.map((s) => [
    s.at,
    shortPackage(s.value),
    producedBy(s),
    triggerSummary(s.execution),
    s.package ? gateSummary(s.package) : '-',
  ]);
  lines.push(...table(['switched at', 'serves', 'produced by', 'triggered by', 'gate'], rows, '      '));
  if (pointer.olderSwitches > 0) {
    lines.push(
      `      ... ${pointer.olderSwitches} older ${pointer.olderSwitches === 1 ? 'switch' : 'switches'} ` +
        `(--limit ${limitHint + pointer.olderSwitches} shows them)`,
    );
  }
  return lines;
}

function environmentBlock(environment: EnvironmentTrail, limit: number): string[] {
  const notes = [
    `level ${environment.level}`,
    ...(environment.releaseSource ? ['release source'] : []),
    environment.region ?? 'default region',
  ];
  return [
    `${environment.environment} (${notes.join(', ')})`,
    ...environment.pointers.flatMap((p) => served(p, limit)),
  ];
}

/** The trail as text: a block per environment, in promotion order, and each pointer's switches. */
export function formatAuditTrail(trail: AuditTrail, limit: number): string {
  return [
    `Audit trail of model ${trail.model} (up to ${limit} switches per pointer)`,
    ...trail.environments.flatMap((e) => ['', ...environmentBlock(e, limit)]),
  ].join('\n');
}
