import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** An IAM role ARN, paths included: what a release role ARN in an event must look like. */
export const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Temporary credentials, in the shape the SDK clients' `credentials` option takes. */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** What SDK clients call for their credentials. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/**
 * A cache of SDK clients per region and role, created on first use and kept for the container's
 * life: a handler that serves targets in several regions, or through several roles, creates each
 * set of clients once.
 *
 * Without a role, `create` gets no credentials: the clients use the function's own. With one, it
 * gets credentials of a session of that role (STS AssumeRole, the session named `sessionName()`),
 * renewed before they expire, for every client of that region and role.
 */
export function perRegion<T>(
  create: (region: string, credentials?: AwsCredentialIdentityProvider) => T,
  sessionName: () => string = () => 'release',
): (region: string, roleArn?: string) => T {
  const cache = new Map<string, T>();
  return (region, roleArn) => {
    const key = `${region} ${roleArn ?? ''}`;
    let clients = cache.get(key);
    if (!clients) {
      clients = create(
        region,
        roleArn ? assumedRole(new STSClient({ region }), roleArn, sessionName()) : undefined,
      );
      cache.set(key, clients);
    }
    return clients;
  };
}

/** Renew a session this long before it expires, so that no call is signed with expired credentials. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** The credentials of a session of `roleArn`, assumed on first use and again when they near expiry. */
function assumedRole(sts: STSClient, roleArn: string, sessionName: string): AwsCredentialIdentityProvider {
  let session: Promise<AwsCredentialIdentity> | undefined;
  let renewAt = 0;
  return () => {
    if (!session || Date.now() >= renewAt) {
      // Until this session's expiry is known, concurrent callers share it.
      renewAt = Number.POSITIVE_INFINITY;
      const assuming = sts
        .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }))
        .then((response): AwsCredentialIdentity => {
          const c = response.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
            throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
          }
          renewAt = (c.Expiration?.getTime() ?? 0) - RENEW_BEFORE_MS;
          return {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
            expiration: c.Expiration,
          };
        });
      // A failed AssumeRole is tried again by the next call, not remembered.
      assuming.catch(() => {
        if (session === assuming) {
          session = undefined;
        }
      });
      session = assuming;
    }
    return session;
  };
}

/**
 * An STS session name naming the model a release function works for, e.g. `release-fare-amount`:
 * CloudTrail records it with every call made through the target's role.
 */
export function releaseSessionName(): string {
  const model = (process.env.MODEL_NAME ?? '').replace(/[^\w+=,.@-]/g, '');
  return (model ? `release-${model}` : 'release').slice(0, 64);
}
