// The SageMaker name patterns live in patterns.ts with the platform's other identifier forms; this
// module keeps the constructs that import it from here working.
export { SAGEMAKER_NAME, SAGEMAKER_LONG_NAME, SAGEMAKER_INSTANCE_TYPE } from './patterns';
