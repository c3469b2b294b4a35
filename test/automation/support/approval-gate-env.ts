// The approval gate reads its configuration when its module loads: the test imports this module
// before the handler's, so that the variables are set first.
export const MODEL_PACKAGE_GROUP_NAME = 'taxi-duration';
export const CHAMPION_POINTER_NAME = '/mlops/prod/trip-duration/model-package';
export const MODEL_NAME = 'trip-duration';
export const METRICS_NAMESPACE = 'MlopsAutomation';

Object.assign(process.env, {
  MODEL_PACKAGE_GROUP_NAME,
  CHAMPION_POINTER_NAME,
  MODEL_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME: 'approval-gate',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  // RMSE and MAE in minutes; the margin stays at its default, 1%.
  THRESHOLDS: JSON.stringify({ 'regression_metrics.rmse': { max: 6 }, 'regression_metrics.mae': { max: 5 } }),
  AWS_REGION: 'us-east-1',
});
delete process.env.MARGIN_PERCENT;
delete process.env.PRIMARY_METRIC;
delete process.env.HIGHER_IS_BETTER;
// Dev mode would print to the global console and disable the metrics output the tests read.
delete process.env.POWERTOOLS_DEV;
delete process.env.POWERTOOLS_METRICS_DISABLED;
