/** The inference specification of the reference workload's model packages, as the tests and the simulation register them. */
export const XGBOOST_INFERENCE_SPECIFICATION = {
  Containers: [
    {
      Image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      ModelDataUrl: 's3://artifacts/models/taxi-duration/model.tar.gz',
    },
  ],
  SupportedContentTypes: ['text/csv'],
  SupportedResponseMIMETypes: ['text/csv'],
};

/** An evaluation report as ml/evaluate.py writes it: the layout of SageMaker's model quality metrics. */
export function evaluationReport(
  rmse: number,
  mae: number,
  rows: number,
): { regression_metrics: Record<string, { value: number; standard_deviation: string }>; rows: number } {
  return {
    regression_metrics: {
      mae: { value: mae, standard_deviation: 'NaN' },
      rmse: { value: rmse, standard_deviation: 'NaN' },
    },
    rows,
  };
}
