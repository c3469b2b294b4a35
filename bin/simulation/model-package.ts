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
