import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { modelOf } from './model-summary';
import { productionVariantsOf, propertyOf, resolvedPropertiesOf } from '../private/cfn-properties';

/** A resource that bills while the platform is idle (per hour or per instance, not per use). */
export interface AlwaysOnResource {
  /** CloudFormation resource type, e.g. `AWS::EC2::NatGateway`. */
  readonly type: string;
  /** Construct path of the resource. */
  readonly path: string;
  /** Why it bills while idle. */
  readonly reason: string;
  /**
   * True when the resource carries a CloudFormation condition, so it exists (and bills) only
   * while the condition holds, for example once a model has been released.
   */
  readonly conditional: boolean;
  /**
   * The model the resource belongs to (its serving slot, pipeline or registry), when it belongs
   * to one rather than to the whole environment.
   */
  readonly model?: string;
}

type Classifier = (resource: CfnResource) => string | undefined;

const always =
  (reason: string): Classifier =>
  () =>
    reason;

/**
 * Resource types that bill per hour whatever the traffic. Storage, requests and per-key charges
 * (S3, KMS, CloudWatch Logs) are usage-billed and left out on purpose: the report answers "what
 * keeps costing money when nobody uses the platform", which those do only in proportion to data kept.
 */
const CLASSIFIERS: Record<string, Classifier> = {
  'AWS::EC2::NatGateway': always('NAT gateways bill per hour'),
  'AWS::EC2::Instance': always('EC2 instances bill per hour while running'),
  'AWS::EC2::VPCEndpoint': (r) => {
    const declared = propertyOf(resolvedPropertiesOf(r), 'vpcEndpointType');
    const type = typeof declared === 'string' ? declared : 'Gateway';
    return type === 'Gateway' ? undefined : `${type} VPC endpoints bill per hour and AZ`;
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': always('load balancers bill per hour'),
  'AWS::SageMaker::Endpoint': (r) =>
    isServerlessEndpoint(r) ? undefined : 'real-time endpoint instances bill per hour',
  'AWS::SageMaker::NotebookInstance': always('notebook instances bill per hour while in service'),
  'AWS::SageMaker::MlflowTrackingServer': always('MLflow tracking servers bill per hour while running'),
  'AWS::RDS::DBInstance': always('database instances bill per hour'),
  'AWS::OpenSearchService::Domain': always('OpenSearch domains bill per instance hour'),
  'AWS::ElastiCache::CacheCluster': always('cache nodes bill per hour'),
  'AWS::EKS::Cluster': always('EKS control planes bill per hour'),
};

/** Every always-on resource defined under `scope`. */
export function findAlwaysOnResources(scope: IConstruct): AlwaysOnResource[] {
  const found: AlwaysOnResource[] = [];
  for (const construct of scope.node.findAll()) {
    if (!CfnResource.isCfnResource(construct)) {
      continue;
    }
    const reason = CLASSIFIERS[construct.cfnResourceType]?.(construct);
    if (reason) {
      const model = modelOf(construct);
      found.push({
        type: construct.cfnResourceType,
        path: construct.node.path,
        reason,
        conditional: construct.cfnOptions.condition !== undefined,
        ...(model !== undefined ? { model } : {}),
      });
    }
  }
  return found;
}

/**
 * True when the endpoint's config is a resource of the same stack whose variants are all serverless
 * without provisioned concurrency: such an endpoint bills per request only.
 */
function isServerlessEndpoint(endpoint: CfnResource): boolean {
  const variants = productionVariantsOf(endpoint) ?? [];
  return (
    variants.length > 0 &&
    variants.every((v) => {
      const serverless = propertyOf(v, 'serverlessConfig') as Record<string, unknown> | undefined;
      return serverless !== undefined && !propertyOf(serverless, 'provisionedConcurrency');
    })
  );
}
