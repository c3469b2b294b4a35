// Your own bucket and KMS key, created elsewhere, with the library's training pipeline and model
// registry on top. The imported store's grants carry the key permissions, so the pipeline's jobs
// can read and write the encrypted objects.
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import {
  ArtifactStore,
  ModelRegistry,
  RedundantDependsOnLintAcknowledgement,
  ReferenceWorkload,
} from 'cdk-mlops-maturity';

const env = { account: '111111111111', region: 'eu-west-1' };
const BUCKET_NAME = 'acme-ml-artifacts';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';

export function build(app: App): Stack[] {
  const stack = new Stack(app, 'TeamTraining', { env });
  const artifactStore = ArtifactStore.fromArtifactStoreAttributes(stack, 'Artifacts', {
    bucketName: BUCKET_NAME,
    encryptionKeyArn: KEY_ARN,
  });
  const modelRegistry = new ModelRegistry(stack, 'Registry', {
    description: 'Trip duration models trained on the team bucket',
  });
  new ReferenceWorkload(stack, 'Training', {
    artifactStore,
    modelRegistry,
    schedule: events.Schedule.rate(Duration.days(7)),
  });
  Aspects.of(stack).add(new RedundantDependsOnLintAcknowledgement());
  return [stack];
}
