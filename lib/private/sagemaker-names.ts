/**
 * SageMaker's pattern for the names of most of its resources (domains, user profiles, model package
 * groups, endpoints): 1-63 letters, digits and hyphens, starting and ending with a letter or digit.
 */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** The same pattern with SageMaker's longer limit of 256 characters (pipelines, MLflow). */
export const SAGEMAKER_LONG_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$/;

/** The form of a SageMaker instance type, e.g. `ml.m5.large`. */
export const SAGEMAKER_INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;
