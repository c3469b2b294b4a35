import { Construct } from 'constructs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { modelMonitoringAlarmNames } from '../automation/naming';
import { ModelMonitoring, MonitoringBaseline } from '../monitoring/model-monitoring';
import type { EnvironmentModelMonitoringOptions } from '../platform/platform-stack';
import { ModelRegistry } from '../registry/model-registry';
import { IReleasePointer } from '../serving/release-pointer';
import { ServingMode } from '../serving/serving-slot';
import { IArtifactStore } from '../storage/artifact-store';
import { PlatformModel } from '../tiers/platform-model';
import { ReferenceTarget } from '../training/reference-workload';

/** What the environment knows of one model, for its monitoring. */
export interface MonitoredModel {
  readonly model: PlatformModel;
  readonly mode: ServingMode;
  readonly target: ReferenceTarget;
  readonly maxRmse?: number;
  readonly pointer: IReleasePointer;
}

/** Where the released models come from, when another environment trains them. */
export interface MonitoredModelSource {
  readonly account?: string;
  readonly region?: string;
  readonly modelPackageGroupNames: { readonly [modelName: string]: string };
}

/**
 * A ModelMonitoring per model whose real-time slot captures data: the baseline of the model its
 * pointer names, from the environment that trained it (`source`) or its own; the RMSE alarm at the
 * model's registration gate; the alarms, named after the environment and the model
 * (`modelMonitoringAlarmNames`), notifying the environment's topic.
 */
export function monitorModels(
  scope: Construct,
  models: readonly MonitoredModel[],
  options: {
    readonly environmentName: string;
    readonly artifactStore: IArtifactStore;
    readonly alarmTopic: sns.ITopic;
    readonly source?: MonitoredModelSource;
    readonly settings: EnvironmentModelMonitoringOptions;
  },
): ModelMonitoring[] {
  return models
    .filter((m) => m.mode._kind === 'realTime' && m.mode._realTime.dataCapture !== undefined)
    .map(({ model, target, maxRmse, pointer }) => {
      const sourceGroup = options.source?.modelPackageGroupNames[model.modelName];
      // Named after the model, so that adding a model leaves the others' resources alone.
      const id = `ModelMonitoring-${model.modelName}`;
      const baseline = sourceGroup
        ? MonitoringBaseline.ofReleasedModel({
            pointer,
            // The packages released here are the source's, with their baselines in its store.
            modelRegistry: ModelRegistry.fromModelPackageGroupAttributes(scope, `${id}-SourceRegistry`, {
              modelPackageGroupName: sourceGroup,
              account: options.source!.account,
              region: options.source!.region,
            }),
            artifactFolder: model.artifactFolder,
          })
        : MonitoringBaseline.ofReleasedModel({
            pointer,
            modelRegistry: model.modelRegistry,
            artifactFolder: model.artifactFolder,
            artifactStore: options.artifactStore,
          });
      return new ModelMonitoring(scope, id, {
        servingSlot: model.servingSlot,
        artifactStore: options.artifactStore,
        baseline,
        alarmTopic: options.alarmTopic,
        maxRmse: maxRmse ?? target.defaultMaxRmse,
        // Named, so that a release source's retrain trigger can watch them (level 4).
        alarmNames: modelMonitoringAlarmNames(options.environmentName, model.modelName),
        ...options.settings,
      });
    });
}
