import { loadHandlers, LoopHandlers } from './loop';
import { MotoServer, startCloudFormationProxy, startMotoServer } from './moto-server';
import { CHAMPION_METRICS, Scenario, SCENARIOS, SCHEDULED_TIME, StepLog } from './scenarios';
import { ONLINE_GATE_CONTEXT, SimulatedLoop, simulatedLoop, synthesizeDefaultApp } from './synthesized-app';
import { driftedTraffic } from './traffic';
import { emulatorClients, seedWorld, useEmulator } from './world';

/** How a scenario ended. */
export type ScenarioStatus = 'pass' | 'fail';

export interface ScenarioResult {
  readonly scenario: string;
  readonly expected: string;
  readonly actual: string;
  readonly status: ScenarioStatus;
}

export interface SimulationOptions {
  /** Where each printed line goes. @default - stdout */
  readonly write?: (line: string) => void;
  /** Print the results as one JSON document instead of the steps and the table. @default false */
  readonly json?: boolean;
  /** Keep the handlers' own log lines and metrics. @default false */
  readonly verbose?: boolean;
  /** The model whose loop runs. @default 'trip-duration' */
  readonly modelName?: string;
  /** The scenarios to run. @default - every scenario */
  readonly scenarios?: readonly Scenario[];
}

export interface SimulationResult {
  readonly exitCode: number;
  readonly results: ScenarioResult[];
}

const PASS = '\u2713';
const FAIL = '\u2717';

/** The summary table: one row per scenario, the columns padded to their widest cell. */
export function summaryTable(results: readonly ScenarioResult[]): string[] {
  const rows = [
    ['scenario', 'expected', 'actual', 'result'],
    ...results.map((r) => [r.scenario, r.expected, r.actual, r.status.toUpperCase()]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)];
}

/**
 * The whole simulation: moto server started, the default app synthesized, then each scenario in a
 * freshly seeded emulator, its steps printed as they run, and the summary. Exit code 0 when every
 * scenario passed. One run per process: the handlers' modules bind their clients to
 * the emulator when they load.
 */
export async function runSimulation(options: SimulationOptions = {}): Promise<SimulationResult> {
  const print = options.json ? () => undefined : (options.write ?? ((line: string) => console.log(line)));
  const scenarios = options.scenarios ?? SCENARIOS;
  const modelName = options.modelName ?? 'trip-duration';

  print('Synthesizing the default app (handlers not bundled: they run in this process)...');
  const loop = simulatedLoop(synthesizeDefaultApp(), modelName);
  let onlineGateLoop: SimulatedLoop | undefined;
  if (scenarios.some((s) => s.onlineGate)) {
    print(
      'Synthesizing it again with the online gate on: ' +
        Object.entries(ONLINE_GATE_CONTEXT)
          .map(([key, value]) => `-c ${key}=${value}`)
          .join(' '),
    );
    onlineGateLoop = simulatedLoop(synthesizeDefaultApp(ONLINE_GATE_CONTEXT), modelName);
  }
  print(
    `Loop of ${modelName}: alarms of ${loop.level4Environment} -> retraining in ${loop.sourceEnvironment} -> ` +
      `approval gate -> release to ${loop.releaseTargets.join(', then ')}`,
  );
  print('Starting the AWS API emulator (moto server from .venv)...');
  let moto: MotoServer | undefined;
  let proxy: Awaited<ReturnType<typeof startCloudFormationProxy>> | undefined;
  const results: ScenarioResult[] = [];
  let clients: ReturnType<typeof emulatorClients> | undefined;
  try {
    moto = await startMotoServer();
    proxy = await startCloudFormationProxy(moto.url);
    useEmulator(moto.url, proxy, options.verbose ?? false);
    clients = emulatorClients(moto.url, proxy);
    const handlers: LoopHandlers = loadHandlers(loop, clients);
    const onlineGateHandlers = onlineGateLoop && loadHandlers(onlineGateLoop, clients);
    const [endpoint, variant] = [
      String(loop.driftScheduleInput(SCHEDULED_TIME).endpointName),
      String(loop.driftScheduleInput(SCHEDULED_TIME).variantName),
    ];
    const traffic = driftedTraffic(
      endpoint,
      variant,
      new Date(SCHEDULED_TIME.replace(/:\d\d:\d\dZ$/, ':00:00Z')),
    );

    for (const [index, scenario] of scenarios.entries()) {
      print('');
      print(`[${index + 1}/${scenarios.length}] ${scenario.title}`);
      const [app, appHandlers] =
        scenario.onlineGate && onlineGateLoop && onlineGateHandlers
          ? [onlineGateLoop, onlineGateHandlers]
          : [loop, handlers];
      let failedChecks = 0;
      const log: StepLog = {
        check(passed, text) {
          failedChecks += passed ? 0 : 1;
          print(`    ${passed ? PASS : FAIL} ${text}`);
        },
        info(text) {
          print(`      ${text}`);
        },
      };
      let actual: string;
      try {
        const seeded = await seedWorld(moto.url, proxy, clients!, app, traffic, CHAMPION_METRICS);
        log.info(
          `seeded: champion ${seeded.championArn.replace(/^.*:model-package\//, 'model-package/')} (rmse ${CHAMPION_METRICS.rmse}) ` +
            `serving ${app.releaseTargets.join(' and ')}, ${traffic.rows} captured requests with ground truth`,
        );
        actual = await scenario.run({
          loop: app,
          clients: clients!,
          handlers: appHandlers,
          motoUrl: moto.url,
          seeded,
          traffic,
          log,
        });
      } catch (error) {
        actual = `error: ${error instanceof Error ? error.message : String(error)}`;
        log.check(false, actual);
      }
      const status: ScenarioStatus = failedChecks === 0 && actual === scenario.expected ? 'pass' : 'fail';
      print(`    => ${status === 'pass' ? PASS : FAIL} ${actual}`);
      results.push({ scenario: scenario.title, expected: scenario.expected, actual, status });
    }
  } finally {
    for (const client of Object.values(clients ?? {})) client.destroy();
    proxy?.close();
    moto?.stop();
  }
  const exitCode = results.some((r) => r.status === 'fail') ? 1 : 0;
  if (options.json) {
    (options.write ?? ((line: string) => console.log(line)))(JSON.stringify({ exitCode, results }, null, 2));
  } else {
    print('');
    for (const line of summaryTable(results)) print(line);
    const count = (s: ScenarioStatus) => results.filter((r) => r.status === s).length;
    print(`${count('pass')} passed, ${count('fail')} failed`);
  }
  return { exitCode, results };
}
