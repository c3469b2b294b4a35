#!/usr/bin/env node
import { createPlatformApp, synthesizePlatform } from './platform-app';

try {
  const platform = createPlatformApp();
  const report = synthesizePlatform(platform);
  // stderr: the CDK CLI shows it, and stdout stays free for tools that parse synth output.
  console.error(
    `\nMLOps maturity report (${platform.app.outdir}/maturity-report.json)\n\n${report.toTable()}\n`,
  );
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
