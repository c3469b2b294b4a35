// The retrain trigger reads its configuration when its module loads: the test imports this module
// before the handler's, so that the variables are set first.
export const PIPELINE_NAME = 'trip-duration-training';
export const PAUSE_PARAMETER_NAME = '/mlops/dev/trip-duration/retraining';
export const MODEL_NAME = 'trip-duration';
export const METRICS_NAMESPACE = 'MlopsAutomation';
export const DRIFT_ALARM = 'trip-duration-feature-drift';
export const QUALITY_ALARM_ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:trip-duration-rmse';

Object.assign(process.env, {
  PIPELINE_NAME,
  PAUSE_PARAMETER_NAME,
  MODEL_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME: 'retrain-trigger',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  // One alarm by name, one by ARN.
  WATCHED_ALARMS: JSON.stringify([DRIFT_ALARM, QUALITY_ALARM_ARN]),
  COOLDOWN_MINUTES: '360',
  MAX_STARTS_PER_DAY: '2',
  DATA_WINDOW_DAYS: '14',
  // The reference pipeline's own parameter, and the window and reason it would take once it has them.
  PIPELINE_PARAMETERS: JSON.stringify({
    InputDataUrl: 's3://mlops-dev-artifacts/data/',
    DataWindowStart: '{windowStart}',
    DataWindowEnd: '{windowEnd}',
    RetrainReason: '{reason}',
  }),
  AWS_REGION: 'us-east-1',
});
delete process.env.POWERTOOLS_DEV;
delete process.env.POWERTOOLS_METRICS_DISABLED;
