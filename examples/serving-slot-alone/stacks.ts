// A monitored serving slot alone, serving model packages that another account's registry holds
// (trained elsewhere). Release with:
//   npm run release -- --stack ModelServing --pointer <PointerName output> --model-package-arn <arn>
import { App, Aspects, CfnOutput, Stack } from 'aws-cdk-lib';
import {
  ArtifactStore,
  ModelRegistry,
  PlatformMonitoring,
  RedundantDependsOnLintAcknowledgement,
  ReleasePointer,
  ServingMode,
  ServingSlot,
} from 'cdk-mlops-maturity';

const env = { account: '111111111111', region: 'eu-west-1' };
// The training account's registry and the bucket holding its model artifacts. Its registry allows
// this account to read (ModelRegistry's crossAccountReadAccounts there), and its bucket and key
// policies allow this account's model role to read models/.
const TRAINING_REGISTRY_ARN = 'arn:aws:sagemaker:eu-west-1:222222222222:model-package-group/churn';
const TRAINING_BUCKET = 'acme-training-artifacts';
const TRAINING_KEY_ARN = 'arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab';

export function build(app: App): Stack[] {
  const releases = new Stack(app, 'ModelReleases', { env });
  const pointer = new ReleasePointer(releases, 'Pointer', { environmentName: 'serving' });

  const stack = new Stack(app, 'ModelServing', { env });
  const slot = new ServingSlot(stack, 'Churn', {
    pointer,
    artifactStore: ArtifactStore.fromArtifactStoreAttributes(stack, 'TrainingArtifacts', {
      bucketName: TRAINING_BUCKET,
      encryptionKeyArn: TRAINING_KEY_ARN,
    }),
    modelRegistry: ModelRegistry.fromModelPackageGroupArn(stack, 'TrainingRegistry', TRAINING_REGISTRY_ARN),
    mode: ServingMode.realTime({ minInstances: 1, maxInstances: 2 }),
  });
  new PlatformMonitoring(stack, 'Monitoring', { environmentName: 'serving' });
  new CfnOutput(stack, 'EndpointName', { value: slot.endpointName });
  new CfnOutput(releases, 'PointerName', { value: pointer.parameterName });
  for (const s of [releases, stack]) {
    Aspects.of(s).add(new RedundantDependsOnLintAcknowledgement());
  }
  return [releases, stack];
}
