import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * A notification topic encrypted with its own rotating key, TLS-only, that the given AWS services
 * (e.g. CloudWatch alarms, EventBridge) may publish to: encrypted topics need the publisher to be
 * allowed to use the key as well.
 */
export function createEncryptedTopic(
  scope: Construct,
  id: string,
  props: { description: string; publishers: string[]; removalPolicy: RemovalPolicy },
): sns.Topic {
  const key = new kms.Key(scope, `${id}Key`, {
    description: props.description,
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
  });
  for (const service of props.publishers) {
    key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
  return new sns.Topic(scope, id, { masterKey: key, enforceSSL: true });
}
