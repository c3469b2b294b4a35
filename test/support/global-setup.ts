import * as fs from 'fs';
import { cdkJsonContext, CLI_CONTEXT, SYNTH_DIR, SYNTH_ERROR_FILE, SYNTH_OUTDIR } from './synthesized-app';

/**
 * Synthesizes the default app once, the way `cdk synth` does, so the snapshot, cdk-nag, cfn-lint
 * and report tests share one synthesis instead of repeating it in every file.
 */
export default async function globalSetup(): Promise<void> {
  fs.rmSync(SYNTH_DIR, { recursive: true, force: true });
  fs.mkdirSync(SYNTH_DIR, { recursive: true });
  try {
    // Loaded here so that a broken app fails the layer tests with its message, not the whole run.
    const { createPlatformApp, synthesizePlatform } = await import('../../bin/platform-app');
    synthesizePlatform(
      createPlatformApp({
        context: { ...cdkJsonContext(), ...CLI_CONTEXT },
        outdir: SYNTH_OUTDIR,
        analyticsReporting: false,
      }),
    );
  } catch (error) {
    // Recorded rather than thrown: the layer tests then fail with this message, and unit tests still run.
    fs.writeFileSync(
      SYNTH_ERROR_FILE,
      error instanceof Error ? (error.stack ?? error.message) : String(error),
    );
  }
}
