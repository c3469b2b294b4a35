// The baseline of the synth benchmark: the smallest useful CDK app, one bucket in one stack,
// synthesized the same way as the platform app (same runner, same process start-up).
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';

// Default App settings, as the platform app uses (bin/platform-app.ts).
const app = new App();
new s3.Bucket(new Stack(app, 'Bare'), 'Bucket');
app.synth();
