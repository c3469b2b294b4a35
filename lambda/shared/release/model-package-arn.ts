import { describeValue } from '../../../lib/private/describe-value';
import { ReleaseError } from './errors';

/** The parts of a model package version ARN. */
export interface ModelPackageVersionArn {
  /** The ARN, trimmed. */
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly group: string;
  readonly version: number;
}

const PARTITION = 'aws[a-z-]*';
/** An AWS region name, e.g. `eu-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const REGION = REGION_PATTERN.source.slice(1, -1);
const ACCOUNT = '\\d{12}';
// Model package group names: 1-63 letters, digits and hyphens, not starting or ending with a hyphen.
const GROUP = '[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}';
/** A model package group name: 1-63 letters, digits and hyphens, not starting or ending with a hyphen. */
export const MODEL_PACKAGE_GROUP_NAME = new RegExp(`^${GROUP}$`);
const VERSION_ARN = new RegExp(
  `^arn:(${PARTITION}):sagemaker:(${REGION}):(${ACCOUNT}):model-package/(${GROUP})/([1-9]\\d*)$`,
);
const GROUP_ARN = new RegExp(
  `^arn:${PARTITION}:sagemaker:${REGION}:${ACCOUNT}:model-package-group/(${GROUP})$`,
);
const UNVERSIONED_ARN = new RegExp(
  `^arn:${PARTITION}:sagemaker:${REGION}:${ACCOUNT}:model-package/${GROUP}$`,
);
const EXPECTED_ARN = 'arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>';

/**
 * Parses a model package version ARN. Throws a ReleaseError (`invalid-model-package-arn`) that
 * says what was given instead: a group, an unversioned package, or something else.
 */
export function parseModelPackageArn(value: unknown): ModelPackageVersionArn {
  const arn = typeof value === 'string' ? value.trim() : '';
  const match = VERSION_ARN.exec(arn);
  if (!match) {
    let why = `is not a model package version ARN: use ${EXPECTED_ARN}`;
    const group = GROUP_ARN.exec(arn)?.[1];
    if (group !== undefined) {
      why =
        `names a model package group, not one of its versions: use ${EXPECTED_ARN} ` +
        `(list the versions with aws sagemaker list-model-packages --model-package-group-name ${group})`;
    } else if (UNVERSIONED_ARN.test(arn)) {
      why = `names an unversioned model package: register it in a model package group and use ${EXPECTED_ARN}`;
    }
    throw new ReleaseError('invalid-model-package-arn', `model package ARN ${describeValue(value)} ${why}`);
  }
  return {
    arn,
    partition: match[1],
    region: match[2],
    account: match[3],
    group: match[4],
    version: Number(match[5]),
  };
}

/**
 * Whether a package's group, as its ARN names it, is the group `groupName`. Case-insensitive: the
 * ARN carries the group's name in lower case, whatever the case it was created with.
 */
export function sameGroup(arnGroup: string, groupName: string): boolean {
  return arnGroup.toLowerCase() === groupName.toLowerCase();
}
