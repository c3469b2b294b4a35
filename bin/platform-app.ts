import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parsePlatformConfig, PlatformConfig } from '../lib/config/environment-config';
import { Capability } from '../lib/maturity/capability';
import { MaturityReport } from '../lib/maturity/maturity-report';
import { EnvironmentStage } from '../lib/platform/environment-stage';

/** The platform app: one EnvironmentStage per configured environment, checked by cdk-nag at synth. */
export interface PlatformApp {
  readonly app: App;
  readonly config: PlatformConfig;
  readonly stages: EnvironmentStage[];
}

/**
 * Builds the platform app from the context in `props` (or, under the CDK CLI, from cdk.json and
 * `-c` flags). Throws an MlopsValidationError when the config is invalid.
 */
export function createPlatformApp(props: AppProps = {}): PlatformApp {
  const app = new App(props);
  const config = parsePlatformConfig(app.node.getAllContext());
  // Every synth, not only the tests, fails on an unacknowledged AwsSolutions finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const stages = config.environments.map((env) => new EnvironmentStage(app, env.name, { config: env }));

  // One Studio domain serves the platform: environments without one use the first that has one.
  const workspaceHome = config.environments.find((e) => e.workspace.enabled);
  for (const stage of stages) {
    const env = config.environments.find((e) => e.name === stage.contract.environmentName)!;
    if (!env.workspace.enabled && workspaceHome) {
      stage.contract.shareCapability(Capability.NOTEBOOK_WORKSPACE, workspaceHome.name);
    }
  }
  return { app, config, stages };
}

/**
 * Synthesizes the app and writes the maturity report next to the templates. Returns the report.
 * A failed synth (nag finding, unmet maturity contract) throws before any report is written.
 */
export function synthesizePlatform(platform: PlatformApp): MaturityReport {
  const assembly = platform.app.synth();
  const report = MaturityReport.of(platform.app);
  report.writeTo(assembly.directory);
  return report;
}
