import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One rule acknowledgement recorded in the construct tree. */
export interface RecordedAcknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgement made with `Validations.of(...).acknowledge` under `root`. */
export function acknowledgementsUnder(root: IConstruct): RecordedAcknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // Recorded as { [ruleId]: reason }.
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id, reason: String(reason) })),
  );
}
