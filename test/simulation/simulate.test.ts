import { runSimulation, SimulationResult } from '../../bin/simulation/run';

/*
 * `npm run simulate` in-process: one moto server for the whole run, the default app synthesized
 * once, every scenario in a freshly seeded emulator. The assertions read the outcomes the
 * simulation read back from the emulator (pointers, approval statuses, executions) and what it
 * printed. Nothing here depends on the wall clock: the trigger's clock in the cooldown scenario is
 * set from the start time moto reports.
 */

let result: SimulationResult;
const printed: string[] = [];

beforeAll(async () => {
  // The SDK's Node 20 maintenance notice is not the subject.
  jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  result = await runSimulation({ write: (line) => printed.push(line) });
}, 120_000);

afterAll(() => jest.restoreAllMocks());

const outcome = (scenario: string) => result.results.find((r) => r.scenario === scenario);

describe('npm run simulate', () => {
  test('a better challenger is approved and released to staging, then prod, with nobody asked', () => {
    expect(outcome('better challenger')).toEqual({
      scenario: 'better challenger',
      expected: 'approved; released to staging, then prod without a person',
      actual: 'approved; released to staging, then prod without a person',
      status: 'pass',
    });
    // prod is at level 4: the synthesized release workflow has no state that waits for a person.
    expect(printed).toContain('    ✓ release workflow: no state waits for a manual approval');
    expect(printed.some((line) => /manual approval asked/.test(line))).toBe(false);
    // The pointers, as read back from the emulator after the release workflow ran.
    expect(printed).toContainEqual(
      expect.stringMatching(
        /✓ staging pointer \/mlops\/staging\/serving\/trip-duration\/model-package-arn = model-package\/.+\/2$/,
      ),
    );
    expect(printed).toContainEqual(
      expect.stringMatching(
        /✓ prod pointer \/mlops\/prod\/serving\/trip-duration\/model-package-arn = model-package\/.+\/2$/,
      ),
    );
    expect(printed).toContainEqual(expect.stringMatching(/stack updates: staging-Serving -> prod-Serving/));
  });

  test("prod's alarm rule delivers the ALARM events, by prod's alarm names, to dev's synthesized trigger", () => {
    expect(printed).toContainEqual(
      "    ✓ prod's alarm rule matches 2 of 2 event(s) and targets dev's retrain trigger mlops-dev-trip-duration-retrain-trigger",
    );
    // The trigger watches the alarms by the names prod gives them (modelMonitoringAlarmNames).
    expect(printed).toContainEqual(
      expect.stringMatching(
        /pipeline execution: Retraining on an alarm: alarm mlops-prod-trip-duration-drifted-feature-share entered ALARM/,
      ),
    );
  });

  test("the pipeline's production-data step joins prod's captured requests of the window with their ground truth", () => {
    const steps = printed.filter((line) => line.includes('pipeline step AssembleProductionData'));
    // The three scenarios that retrain run the step, on the window the trigger started the execution with.
    expect(steps).toHaveLength(3);
    expect(steps[0]).toMatch(
      /window 2026-10-21T10:10:00Z - 2026-11-20T10:10:00Z, execution [a-z0-9]+, label duration, features trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID$/,
    );
    expect(printed).toContainEqual(
      '    ✓ production data: 400 rows joined (of 400 captured requests with ground truth), 0 unmatched, 0 malformed',
    );
    // The CSV read back from moto S3 holds exactly the seeded requests, each with its label.
    expect(printed).toContainEqual(
      expect.stringMatching(
        /✓ s3:\/\/dev-platform-level0artifactstorebucket[0-9a-f]+\/pipelines\/trip-duration\/production-data\/[a-z0-9]+\/production\.csv in S3: header duration,trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID, 400 rows, each a seeded request with its label$/,
      ),
    );
  });

  test("the drift job's numbers cross the synthesized alarms' thresholds and start the pipeline", () => {
    expect(printed).toContainEqual(
      expect.stringMatching(
        /✓ drift workflow \(prod\): 4 capture objects, 400 rows; drifted: trip_distance PSI/,
      ),
    );
    expect(printed).toContainEqual(expect.stringMatching(/alarm MaxFeaturePsi: ALARM .*threshold \(0\.2\)/));
    expect(printed).toContainEqual(expect.stringMatching(/alarm Rmse: OK/));
    expect(printed).toContainEqual(
      expect.stringMatching(
        /retrain trigger on \w+ at .*: started retrain-alarm-20261120T101000Z-[0-9a-f]{12}$/,
      ),
    );
  });

  test('a worse challenger is rejected and the champion keeps serving', () => {
    expect(outcome('worse challenger')).toMatchObject({ actual: 'rejected; champion kept', status: 'pass' });
    expect(printed).toContainEqual(
      expect.stringMatching(/does not beat the champion's 4\.6 by the margin of 1%/),
    );
  });

  test('under the online gate, a challenger that wins offline but loses on live shadow traffic is rejected', () => {
    expect(outcome('online gate: wins offline, loses live')).toEqual({
      scenario: 'online gate: wins offline, loses live',
      expected: 'rejected by the online gate; champion kept',
      actual: 'rejected by the online gate; champion kept',
      status: 'pass',
    });
    const lines = printed.slice(
      printed.indexOf('[3/5] online gate: wins offline, loses live'),
      printed.indexOf('[4/5] second alarm during the cooldown'),
    );
    // The second synthesis: the approval gate of that app starts trials instead of approving.
    expect(printed).toContain(
      'Synthesizing it again with the online gate on: -c mlops:automation:onlineGate:enabled=true ' +
        '-c mlops:prod:models.trip-duration.serving.variant=shadow -c mlops:prod:models.fare-amount.serving.variant=shadow',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /✓ approval gate \(ONLINE_GATE_STATE_MACHINE_ARN dev-Platform-AutomationtripdurationOnlineGateStateMachine[0-9A-F]{8}\): trial-started, counted OnlineTrialsStarted$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/✓ registry: model-package\/.+\/2 is still PendingManualApproval$/),
    );
    // The synthesized release workflow, started .sync by the trial: the shadow, then its stop.
    expect(lines.filter((line) => line.includes('release workflow (.sync)'))).toEqual([
      expect.stringMatching(
        /shadow model-package\/.+\/2: succeeded; shadow staging model-package\/.+\/2, prod model-package\/.+\/2$/,
      ),
      expect.stringMatching(/stop the shadow: succeeded; shadow staging none, prod none$/),
    ]);
    expect(lines).toContain('    ✓ online-gate workflow: succeeded, verdict rejected');
    // The record: both variants' live numbers on the seeded labels (1200 requests, a tenth shadowed).
    expect(lines).toContainEqual(
      expect.stringMatching(
        /✓ registry: model-package\/.+\/2 is Rejected: Rejected by the online gate: live rmse 2\.41247 does not beat the champion's 0\.707107/,
      ),
    );
    expect(lines).toContain(
      '    ✓ live numbers recorded: shadow rmse 2.41247 on 120 labels, champion rmse 0.707107 on 1200 labels',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/✓ prod pointer still names the champion model-package\/.+\/1$/),
    );
    expect(lines).toContain(
      '    ✓ prod shadow pointer /mlops/prod/serving/trip-duration/variants/shadow/model-package-arn = none, as before the trial (stopped)',
    );
  });

  test('a second alarm during the cooldown is skipped, and the pause switch stops a start', () => {
    expect(outcome('second alarm during the cooldown')).toMatchObject({
      actual: 'first started; second skipped Cooldown',
      status: 'pass',
    });
    expect(outcome('pause switch')).toMatchObject({
      actual: 'skipped Paused; pipeline not started',
      status: 'pass',
    });
  });

  test('prints each scenario with its progress marker, and ends with the summary table and exit code 0', () => {
    expect(printed.filter((line) => /^\[\d\/5\] /.test(line))).toEqual([
      '[1/5] better challenger',
      '[2/5] worse challenger',
      '[3/5] online gate: wins offline, loses live',
      '[4/5] second alarm during the cooldown',
      '[5/5] pause switch',
    ]);
    expect(printed.some((line) => line.includes('✗'))).toBe(false);
    const table = printed.slice(-8);
    expect(table[0]).toMatch(/^\| scenario +\| expected +\| actual +\| result +\|$/);
    expect(table.slice(2, 7).map((row) => row.split('|')[4].trim())).toEqual([
      'PASS',
      'PASS',
      'PASS',
      'PASS',
      'PASS',
    ]);
    expect(table[7]).toBe('5 passed, 0 failed');
    expect(result.exitCode).toBe(0);
  });
});
