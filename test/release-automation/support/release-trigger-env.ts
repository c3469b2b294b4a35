// The release trigger reads its configuration when its module loads: the test imports this module
// before the handler's, so that the variables are set first.
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:trip-duration-release';
export const MODEL_PACKAGE_GROUP_NAME = 'taxi-duration';
export const MODEL_NAME = 'trip-duration';
export const METRICS_NAMESPACE = 'MlopsRelease';

Object.assign(process.env, {
  STATE_MACHINE_ARN,
  MODEL_PACKAGE_GROUP_NAME,
  MODEL_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME: 'release-trigger',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  AWS_REGION: 'us-east-1',
});
// Dev mode would print to the global console and disable the metrics output the tests read.
delete process.env.POWERTOOLS_DEV;
delete process.env.POWERTOOLS_METRICS_DISABLED;
