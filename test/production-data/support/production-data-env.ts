// The production-data handler reads its environment when its module loads: imported first.
export const PARAMETER_NAME = '/mlops/prod/automation/trip-duration/production-data';
export const OUTPUT_BUCKET = 'mlops-dev-store';
export const OUTPUT_PREFIX = 'pipelines/trip-duration/production-data/';
export const MODEL_NAME = 'trip-duration';

process.env.PRODUCTION_DATA_PARAMETER_NAME = PARAMETER_NAME;
process.env.OUTPUT_BUCKET = OUTPUT_BUCKET;
process.env.OUTPUT_PREFIX = OUTPUT_PREFIX;
process.env.MODEL_NAME = MODEL_NAME;
process.env.POWERTOOLS_METRICS_NAMESPACE = 'cdk-mlops-maturity/ProductionData';
// The SDK's notice about this machine's Node version would land among the captured log lines.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
