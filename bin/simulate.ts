#!/usr/bin/env node
// npm run simulate [-- --json] [-- --verbose]
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { EMULATOR_PYTHON } from './simulation/moto-server';
import { runSimulation } from './simulation/run';

const USAGE = `Usage: npm run simulate [-- --json] [-- --verbose]

Runs the level-4 loop end to end without an AWS account: moto server (the AWS API emulator in .venv)
stands in for AWS, the default app's state machines run locally (aws-local-stepfunctions) and the
real handlers run in this process. Scenarios: a better challenger (approved, released to staging
then prod), a worse one (rejected), the online gate, a second alarm during the cooldown, the pause
switch. Exit code 0 when every scenario passed, 1 when one failed, 2 when it cannot run.

  --json      print the results as JSON instead of the steps and the table
  --verbose   keep the handlers' own JSON log lines and metrics
  --help      this text

Details: docs/simulation.md`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, verbose: { type: 'boolean' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!fs.existsSync(EMULATOR_PYTHON)) {
    console.error(
      `The project virtualenv is missing (${EMULATOR_PYTHON}), so moto server cannot start.\n` +
        "Create it with 'node scripts/python-env.mjs' (it installs the pinned moto), then run 'npm run simulate' again.",
    );
    return 2;
  }
  const { exitCode } = await runSimulation({ json: values.json, verbose: values.verbose });
  return exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 2;
  },
);
