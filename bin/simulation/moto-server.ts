import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

/*
 * The AWS API emulator of the tests that cross services and of `npm run simulate`: moto server
 * (pinned in requirements-emulator.txt, installed in .venv), started on a free port (once per test
 * file), and a proxy in front of it that answers CloudFormation calls as CloudFormation does where
 * moto does not.
 */

const ROOT = path.join(__dirname, '..', '..');
/** The project virtualenv's Python, which runs moto server (created by `node scripts/python-env.mjs`). */
export const EMULATOR_PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const PYTHON = EMULATOR_PYTHON;

/** The credentials every client of the emulator signs with (moto accepts any). */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A running moto server. */
export interface MotoServer {
  readonly url: string;
  stop(): void;
}

/** Forgets everything the emulator holds (moto's reset API): the next caller starts from nothing. */
export async function resetMotoServer(url: string): Promise<void> {
  const response = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) {
    throw new Error(`moto server at ${url} refused the reset: ${response.status} ${await response.text()}`);
  }
}

/** Starts moto server on a free port and waits until it answers (at most 30 s). */
export async function startMotoServer(): Promise<MotoServer> {
  if (!fs.existsSync(PYTHON)) {
    throw new Error(
      `${PYTHON} does not exist, so the AWS API emulator (moto) cannot start: run 'node scripts/python-env.mjs' ` +
        '(npm test runs it before jest) to create .venv with the pinned requirements-dev.txt',
    );
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
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
  const stop = () => {
    child.kill();
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `moto server ${exited}; is moto installed in .venv (requirements-emulator.txt)?\n${output}`,
      );
    }
    try {
      const response = await fetch(`${url}/moto-api/`);
      if (response.ok) {
        return { url, stop };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stop();
  throw new Error(`moto server did not answer on ${url} within 30 s\n${output}`);
}

/** What the proxy changes, per stack, in CloudFormation's requests and answers. */
export interface CloudFormationShape {
  /**
   * The SSM-typed parameters of each stack, by stack name: parameter key to SSM parameter name.
   * DescribeStacks then reports the parameter's name as its ParameterValue and moto's resolved value
   * as ResolvedValue, as CloudFormation does (moto reports the resolved value as ParameterValue).
   */
  readonly ssmParameters: Record<string, Record<string, string>>;
  /**
   * Stacks whose next update fails and rolls back (moto's updates always complete): the update is
   * not passed to moto, so the stack keeps what it was deployed with, and DescribeStacks reports
   * UPDATE_ROLLBACK_COMPLETE with `reason` until the stack's next update.
   */
  readonly rollBackNextUpdate: Map<string, string>;
}

/** A proxy between the clients and moto. */
export interface CloudFormationProxy {
  readonly url: string;
  readonly shape: CloudFormationShape;
  close(): void;
}

/**
 * Forwards every request to moto, with three changes that make its CloudFormation answer as
 * CloudFormation does:
 *
 * - DescribeStacks: an SSM-typed parameter's name in ParameterValue, its value in ResolvedValue;
 * - UpdateStack with UsePreviousValue for SSM-typed parameters: CloudFormation reads those SSM
 *   parameters again; moto compares the values it resolved at the last deployment and answers "No
 *   updates are to be performed". The proxy leaves those parameters out of the request, so that moto
 *   resolves them again from their defaults (the SSM parameters' names);
 * - a stack in `rollBackNextUpdate` fails its next update, as above.
 */
export async function startCloudFormationProxy(moto: string): Promise<CloudFormationProxy> {
  const shape: CloudFormationShape = { ssmParameters: {}, rollBackNextUpdate: new Map() };
  const rolledBack = new Map<string, string>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = Object.fromEntries(
        Object.entries(request.headers)
          .filter(([name]) => !['host', 'content-length', 'connection'].includes(name))
          .map(([name, value]) => [name, String(value)]),
      );
      const form = new URLSearchParams(body.toString());
      const action = form.get('Action');
      const stackName = form.get('StackName') ?? '';
      const ssmParameters = shape.ssmParameters[stackName] ?? {};
      if (action === 'UpdateStack') {
        rolledBack.delete(stackName);
        const reason = shape.rollBackNextUpdate.get(stackName);
        if (reason !== undefined) {
          shape.rollBackNextUpdate.delete(stackName);
          rolledBack.set(stackName, reason);
          void stackIdOf(moto, headers, stackName).then((stackId) => {
            response.writeHead(200, { 'content-type': 'text/xml' });
            response.end(
              '<UpdateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
                `<UpdateStackResult><StackId>${stackId}</StackId></UpdateStackResult>` +
                '<ResponseMetadata><RequestId>rolled-back</RequestId></ResponseMetadata></UpdateStackResponse>',
            );
          });
          return;
        }
        body = Buffer.from(withoutPreviousSsmValues(form, Object.keys(ssmParameters)).toString());
      }
      fetch(`${moto}${request.url}`, {
        method: request.method,
        headers,
        body: request.method === 'GET' || request.method === 'HEAD' ? undefined : body,
      })
        .then(async (answer) => {
          let text = await answer.text();
          if (action === 'DescribeStacks') {
            for (const [key, parameterName] of Object.entries(ssmParameters)) {
              text = text.replace(
                new RegExp(
                  `(<ParameterKey>${key}</ParameterKey>\\s*)<ParameterValue>([^<]*)</ParameterValue>`,
                  'g',
                ),
                `$1<ParameterValue>${parameterName}</ParameterValue><ResolvedValue>$2</ResolvedValue>`,
              );
            }
            const reason = rolledBack.get(stackName);
            if (reason !== undefined) {
              text = text.replace(
                /<StackStatus>[A-Z_]+<\/StackStatus>/,
                `<StackStatus>UPDATE_ROLLBACK_COMPLETE</StackStatus><StackStatusReason>${reason}</StackStatusReason>`,
              );
            }
          }
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'text/xml',
          });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(502);
          response.end(String(error));
        });
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    shape,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** The request without the `Parameters.member.N.*` entries of the given keys, renumbered. */
function withoutPreviousSsmValues(form: URLSearchParams, ssmKeys: string[]): URLSearchParams {
  const members = new Map<string, Map<string, string>>();
  const rest = new URLSearchParams();
  for (const [name, value] of form) {
    const match = /^Parameters\.member\.(\d+)\.(\w+)$/.exec(name);
    if (match) {
      const member = members.get(match[1]) ?? new Map<string, string>();
      member.set(match[2], value);
      members.set(match[1], member);
    } else {
      rest.append(name, value);
    }
  }
  let n = 0;
  for (const member of members.values()) {
    const readsSsm =
      ssmKeys.includes(member.get('ParameterKey') ?? '') && member.get('UsePreviousValue') === 'true';
    if (!readsSsm) {
      n += 1;
      for (const [field, value] of member) {
        rest.append(`Parameters.member.${n}.${field}`, value);
      }
    }
  }
  return rest;
}

async function stackIdOf(moto: string, headers: Record<string, string>, stackName: string): Promise<string> {
  const answer = await fetch(moto, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      Action: 'DescribeStacks',
      Version: '2010-05-15',
      StackName: stackName,
    }).toString(),
  });
  return /<StackId>([^<]+)<\/StackId>/.exec(await answer.text())?.[1] ?? '';
}

/**
 * An SNS call in its query protocol, to moto (the project has no SNS client; moto reads the account
 * and region from the credential in the Authorization header and checks no signature).
 */
export async function motoSnsCall(
  motoUrl: string,
  region: string,
  parameters: Record<string, string>,
): Promise<string> {
  const answer = await fetch(motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=${EMULATOR_CREDENTIALS.accessKeyId}/20260101/${region}/sns/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ ...parameters, Version: '2010-03-31' }).toString(),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`SNS ${parameters.Action} failed: ${text}`);
  return text;
}
