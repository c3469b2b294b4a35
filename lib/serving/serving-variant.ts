import { CfnCondition } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { IReleasePointer } from './release-pointer';
import { endpointVariantMetric } from './variant-metric';

/**
 * A variant a real-time serving slot offers besides its champion: a challenger (A/B test) or a
 * shadow. Each is served from its own release pointer and traffic share, and exists in the
 * endpoint only while its pointer is not `none`.
 */
export interface ServingVariantOptions {
  /**
   * The pointer naming the model package the variant serves, or `none` (then the endpoint has no
   * such variant), e.g. `new ReleasePointer(releaseStack, 'Challenger', { environmentName, slotName, variant: 'challenger' })`.
   * Like the champion's, it must be in a stack deployed before the slot's.
   */
  readonly pointer: IReleasePointer;
  /**
   * The variant's traffic share in whole percent, 0 to 100: the share of requests a challenger
   * answers, or the share of requests copied to a shadow (a `VariantWeight`, in a stack deployed
   * before the slot's). A release changes it without `cdk deploy`.
   */
  readonly weight: IReleasePointer;
  /**
   * The variant's instance type.
   *
   * @default - the champion's
   */
  readonly instanceType?: string;
  /**
   * The variant's instances: a fixed fleet, not autoscaled (a test variant takes a known share).
   *
   * @default 1
   */
  readonly instanceCount?: number;
}

/** What a serving slot made of a variant: its model, condition, metrics and alarms. */
export class ServingVariant {
  /** The alarms of the variant: 5XX errors and p99 model latency (set by the slot). */
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    /** The endpoint the variant is part of. */
    public readonly endpointName: string,
    /** The production (or shadow) variant's name in the endpoint config, e.g. `Challenger`. */
    public readonly variantName: string,
    /** The pointer the variant serves. */
    public readonly pointer: IReleasePointer,
    /** The parameter holding the variant's traffic share. */
    public readonly weight: IReleasePointer,
    /** True while the slot serves a model and this variant's pointer is not `none`. */
    public readonly released: CfnCondition,
    /** The variant's SageMaker model, conditional on `released`. */
    public readonly model: sagemaker.CfnModel,
    /** The model package ARN the stack was deployed with for this variant, or `none`. */
    public readonly modelPackageArn: string,
    /** The traffic share in percent the stack was deployed with (a token: the weight parameter's value). */
    public readonly trafficShare: string,
  ) {}

  /** A metric of this variant in `AWS/SageMaker`. @default - statistic Average, period 1 minute */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return endpointVariantMetric(this.endpointName, this.variantName, metricName, props);
  }

  /** Requests the variant received. @default - statistic Sum, period 1 minute */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocations', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Requests the variant's model answered with a 5XX error. @default - statistic Sum, period 1 minute */
  public metric5xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation5XXErrors', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** The variant's model latency in **microseconds**. @default - statistic p99, period 1 minute */
  public metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ModelLatency', { statistic: cloudwatch.Stats.p(99), ...props });
  }
}
