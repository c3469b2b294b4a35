import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const PYTHON = path.join(__dirname, '..', '..', '..', '.venv', 'bin', 'python');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A moto server (AWS API emulator, pinned in requirements-emulator.txt) on a free local port. */
export interface Emulator {
  readonly endpoint: string;
  stop(): void;
}

export async function startEmulator(): Promise<Emulator> {
  if (!fs.existsSync(PYTHON)) {
    throw new Error(
      `${PYTHON} does not exist, so the AWS API emulator (moto) cannot start: run 'node scripts/python-env.mjs' ` +
        '(npm test runs it before jest) to create .venv with the pinned requirements',
    );
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  child.once('error', (error) => {
    exited = `could not start: ${error.message}`;
  });
  for (let attempt = 0; attempt < 300; attempt++) {
    if (exited) {
      throw new Error(`moto server ${exited}; is moto installed in .venv?\n${output}`);
    }
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) {
        return { endpoint, stop: () => child.kill() };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`moto server did not answer on ${endpoint}\n${output}`);
}
