import { Aws, CfnMapping, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { MlopsValidationError } from '../private/errors';
import { FIRST_PARTY_ALGORITHM_REGISTRIES } from './private/first-party-registries';

const MAPPING_ID = 'MlopsFirstPartyAlgorithmRegistries';
const RULE_ID = 'MlopsFirstPartyAlgorithmRegion';

/**
 * A SageMaker built-in algorithm container image (XGBoost, scikit-learn), resolved per region.
 *
 * These images live in per-region AWS accounts of their own, not in the Deep Learning Containers
 * accounts, so `ContainerImage.fromDlc` would name the wrong registry.
 *
 * @example
 * const uri = BuiltInAlgorithmImage.XGBOOST_1_7_1.imageUri(this);
 */
export class BuiltInAlgorithmImage {
  /** SageMaker's built-in XGBoost algorithm, version 1.7-1 (training and inference). */
  public static readonly XGBOOST_1_7_1 = new BuiltInAlgorithmImage('XGBoost', 'sagemaker-xgboost', '1.7-1');
  /** SageMaker's scikit-learn container, version 1.2-1, CPU, Python 3 (processing, training, inference). */
  public static readonly SKLEARN_1_2_1 = new BuiltInAlgorithmImage(
    'scikit-learn',
    'sagemaker-scikit-learn',
    '1.2-1-cpu-py3',
  );

  /** Every region these images are published in. */
  public static supportedRegions(): string[] {
    return Object.keys(FIRST_PARTY_ALGORITHM_REGISTRIES);
  }

  /** The account that hosts the images in `region`, or undefined where they are not published. */
  public static registryAccount(region: string): string | undefined {
    return FIRST_PARTY_ALGORITHM_REGISTRIES[region];
  }

  /** The ECR domain suffix of a region's partition: amazonaws.com, amazonaws.com.cn, or an ISO domain. */
  public static domainSuffix(region: string): string {
    if (region.startsWith('cn-')) {
      return 'amazonaws.com.cn';
    }
    if (region.startsWith('us-isob-')) {
      return 'sc2s.sgov.gov';
    }
    if (region.startsWith('us-isof-')) {
      return 'csp.hci.ic.gov';
    }
    if (region.startsWith('us-iso-')) {
      return 'c2s.ic.gov';
    }
    return 'amazonaws.com';
  }

  private constructor(
    /** The framework, for messages. */
    public readonly framework: string,
    /** The ECR repository name. */
    public readonly repository: string,
    /** The image tag. */
    public readonly tag: string,
  ) {}

  /**
   * The image URI in a known region.
   *
   * @throws MlopsValidationError when the image is not published in `region`
   */
  public uriForRegion(region: string): string {
    const account = BuiltInAlgorithmImage.registryAccount(region);
    if (!account) {
      throw new MlopsValidationError(`Built-in ${this.framework} image`, [
        `region '${region}' is not supported: SageMaker publishes the ${this.framework} ${this.tag} image in ` +
          `${BuiltInAlgorithmImage.supportedRegions().join(', ')}; deploy the environment to one of them`,
      ]);
    }
    return `${account}.dkr.ecr.${region}.${BuiltInAlgorithmImage.domainSuffix(region)}/${this.repository}:${this.tag}`;
  }

  /**
   * The image URI for `scope`'s stack. With a known region it is a literal (and an unsupported
   * region fails synth); in an environment-agnostic stack it is looked up at deploy time from a
   * mapping, and a template rule rejects an unsupported region with a clear message before any
   * resource is created.
   */
  public imageUri(scope: IConstruct): string {
    const stack = Stack.of(scope);
    if (!Token.isUnresolved(stack.region)) {
      return this.uriForRegion(stack.region);
    }
    const account = registryMapping(stack).findInMap(Aws.REGION, 'account');
    return `${account}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.repository}:${this.tag}`;
  }
}

/** The stack's region -> account mapping and its region rule, created once per stack. */
function registryMapping(stack: Stack): CfnMapping {
  const existing = stack.node.tryFindChild(MAPPING_ID);
  if (existing) {
    return existing as CfnMapping;
  }
  const regions = BuiltInAlgorithmImage.supportedRegions();
  new CfnRule(stack, RULE_ID, {
    assertions: [
      {
        assert: Fn.conditionContains(regions, Aws.REGION),
        assertDescription:
          'SageMaker built-in algorithm images (XGBoost, scikit-learn) are not published in this region; ' +
          `deploy to one of: ${regions.join(', ')}`,
      },
    ],
  });
  return new CfnMapping(stack, MAPPING_ID, {
    mapping: Object.fromEntries(regions.map((r) => [r, { account: FIRST_PARTY_ALGORITHM_REGISTRIES[r] }])),
  });
}
