import * as fs from 'fs';
import * as path from 'path';
import {
  Annotations,
  CustomResource,
  CustomResourceProviderBase,
  CustomResourceProviderOptions,
  FeatureFlags,
  Stack,
  Tags,
  determineLatestNodeRuntimeName,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

/** Props of an isolated VPC. */
export interface IsolatedVpcProps {
  /** One isolated subnet per zone; tokens (e.g. `Fn.select(i, Fn.getAzs())`) are fine. */
  readonly availabilityZones: string[];
  /** The name of the subnet group, in construct ids and the `aws-cdk:subnet-name` tag. */
  readonly subnetGroupName: string;
  /** The group the VPC's flow logs go to. */
  readonly flowLogGroup: logs.ILogGroup;
}

const VPC_CIDR = '10.0.0.0/16';
/** Each subnet gets a /22 (1,019 usable addresses): 64 of them fit in the /16. */
const SUBNET_MASK = 22;
const MAX_SUBNETS = 2 ** (SUBNET_MASK - 16);
const RESTRICT_SG_TYPE = 'Custom::VpcRestrictDefaultSG';

/**
 * A VPC with isolated subnets only, no NAT gateway, and flow logs, built from L1 resources at the
 * construct paths `ec2.Vpc` uses (so the logical ids are those `ec2.Vpc` gives), and returned as an
 * `IVpc`.
 *
 * Why not `ec2.Vpc`: in a stack with an explicit account and region it reads
 * `Stack.availabilityZones`, even when given `availabilityZones`, and that is a context lookup:
 * synth without credentials fails, or silently writes `dummy1a` into the template. Here the zones
 * are whatever the caller passes, and nothing is looked up.
 */
export function createIsolatedVpc(scope: Construct, id: string, props: IsolatedVpcProps): ec2.IVpc {
  if (props.availabilityZones.length > MAX_SUBNETS) {
    throw new Error(`An isolated VPC holds at most ${MAX_SUBNETS} subnets of /${SUBNET_MASK}`);
  }
  const node = new Construct(scope, id);
  const vpcResource = new ec2.CfnVPC(node, 'Resource', {
    cidrBlock: VPC_CIDR,
    enableDnsHostnames: true,
    enableDnsSupport: true,
    instanceTenancy: 'default',
  });
  Tags.of(node).add('Name', node.node.path);

  const subnets = props.availabilityZones.map((availabilityZone, i) => {
    const subnet = new ec2.PrivateSubnet(node, `${props.subnetGroupName}Subnet${i + 1}`, {
      vpcId: vpcResource.ref,
      availabilityZone,
      cidrBlock: `10.0.${i * 2 ** (24 - SUBNET_MASK)}.0/${SUBNET_MASK}`,
      mapPublicIpOnLaunch: false,
    });
    const onlySubnets = { includeResourceTypes: [ec2.CfnSubnet.CFN_RESOURCE_TYPE_NAME] };
    Tags.of(subnet).add('aws-cdk:subnet-name', props.subnetGroupName, onlySubnets);
    Tags.of(subnet).add('aws-cdk:subnet-type', 'Isolated', onlySubnets);
    return subnet;
  });

  // An attribute view of the resources above: what selectSubnets, security groups and flow logs
  // need, without the zone lookup of `ec2.Vpc`. It creates no resources.
  const vpc = ec2.Vpc.fromVpcAttributes(scope, `${id}Attributes`, {
    vpcId: vpcResource.ref,
    vpcCidrBlock: vpcResource.attrCidrBlock,
    availabilityZones: props.availabilityZones,
    isolatedSubnetIds: subnets.map((s) => s.subnetId),
    isolatedSubnetRouteTableIds: subnets.map((s) => s.routeTable.routeTableId),
    isolatedSubnetNames: [props.subnetGroupName],
  });

  new ec2.FlowLog(node, 'FlowLog', {
    resourceType: ec2.FlowLogResourceType.fromVpc(vpc),
    destination: ec2.FlowLogDestination.toCloudWatchLogs(props.flowLogGroup),
  });

  if (FeatureFlags.of(node).isEnabled(cxapi.EC2_RESTRICT_DEFAULT_SECURITY_GROUP)) {
    restrictDefaultSecurityGroup(node, vpcResource);
  }
  return vpc;
}

/**
 * What `ec2.Vpc` does under the `@aws-cdk/aws-ec2:restrictDefaultSecurityGroup` flag: a custom
 * resource that removes the default security group's rules. It reuses aws-cdk-lib's own handler and
 * ids, so the resources are those `ec2.Vpc` creates and a stack shares one provider with its other VPCs.
 */
function restrictDefaultSecurityGroup(vpcNode: Construct, vpc: ec2.CfnVPC): void {
  const codeDirectory = path.join(
    path.dirname(require.resolve('aws-cdk-lib/package.json')),
    'custom-resource-handlers',
    'dist',
    'aws-ec2',
    'restrict-default-security-group-handler',
  );
  if (!fs.existsSync(codeDirectory)) {
    Annotations.of(vpcNode).addWarningV2(
      'cdk-mlops-maturity:vpcDefaultSecurityGroupNotRestricted',
      `aws-cdk-lib has no handler at ${codeDirectory}: the rules of the VPC's default security group are ` +
        'left as EC2 creates them (nothing uses that group).',
    );
    return;
  }
  const stack = Stack.of(vpcNode);
  const providerId = `${RESTRICT_SG_TYPE}CustomResourceProvider`;
  const provider =
    (stack.node.tryFindChild(providerId) as CustomResourceProviderBase | undefined) ??
    new RestrictDefaultSecurityGroupProvider(stack, providerId, {
      codeDirectory,
      description:
        'Lambda function for removing all inbound/outbound rules from the VPC default security group',
    });
  provider.addToRolePolicy({
    Effect: 'Allow',
    Action: [
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
    ],
    Resource: [
      stack.formatArn({
        service: 'ec2',
        resource: 'security-group',
        resourceName: vpc.attrDefaultSecurityGroup,
      }),
    ],
  });
  new CustomResource(vpcNode, 'RestrictDefaultSecurityGroupCustomResource', {
    resourceType: RESTRICT_SG_TYPE,
    serviceToken: provider.serviceToken,
    properties: { DefaultSecurityGroupId: vpc.attrDefaultSecurityGroup, Account: stack.account },
  });
}

class RestrictDefaultSecurityGroupProvider extends CustomResourceProviderBase {
  constructor(
    scope: Construct,
    id: string,
    props: CustomResourceProviderOptions & { codeDirectory: string },
  ) {
    super(scope, id, { ...props, runtimeName: determineLatestNodeRuntimeName(scope) });
    // The marker aws-cdk-lib puts on its own handlers, which tools (and cdk-nag packs) recognise.
    this.node.addMetadata('aws:cdk:is-custom-resource-handler-customResourceProvider', true);
  }
}
