// Not public API: the one place endpoint metrics get their namespace, dimensions and defaults.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** A metric of one variant of an endpoint in `AWS/SageMaker`: statistic Average, period 1 minute unless `props` say otherwise. */
export function endpointVariantMetric(
  endpointName: string,
  variantName: string,
  metricName: string,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/SageMaker',
    metricName,
    dimensionsMap: { EndpointName: endpointName, VariantName: variantName },
    statistic: cloudwatch.Stats.AVERAGE,
    period: Duration.minutes(1),
    ...props,
  });
}
