// The drift benchmark's run of our engine, in a process of its own: the drift job's code path
// (lambda/shared/drift, bundled by esbuild as the Lambda is), one capture object after another, read
// as `npm run drift` reads local files (openCaptureFile).
//
// Usage: node <bundle> <baseline.json> <capture file>...
// Prints one JSON object: rows, seconds and CPU seconds (reading and statistics, not the process
// start), peak RSS in MiB, and the PSI per feature.
import * as fs from 'node:fs';
import {
  DriftHistogram,
  driftReport,
  histogramOfCapture,
  openCaptureFile,
  parseBaselineText,
} from '../lambda/shared/drift';

async function main([baselineFile, ...files]: string[]): Promise<void> {
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  const baseline = parseBaselineText(fs.readFileSync(baselineFile, 'utf8'));
  const histograms: DriftHistogram[] = [];
  for (const file of files) {
    histograms.push(await histogramOfCapture(openCaptureFile(file), baseline));
  }
  const report = driftReport(baseline, histograms);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  console.log(
    JSON.stringify({
      rows: report.rows,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      // resourceUsage reports the peak resident set in KiB.
      peakMiB: process.resourceUsage().maxRSS / 1024,
      psi: Object.fromEntries(Object.entries(report.features).map(([name, f]) => [name, f.psi])),
    }),
  );
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
