/**
 * The login check, as `docker login` does it: `GET /v2/`; on 401 follow the challenge (Basic with
 * the credentials, or Bearer: a token from the realm for the service and a push+pull scope, then
 * `/v2/` again with it). Every connection goes through the address rules first (see
 * address-policy.ts) unless the config is trusted (written by administrators in the system namespace).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { AddressPolicy } from './address-policy.js';
import { parseChallenges, type AuthChallenge } from './challenge.js';
import { endpointUrl, probeRepository, registryEndpoint } from './endpoint.js';
import { exchange, MAX_BODY_BYTES, type ExchangeResponse } from './http-exchange.js';
import { registryErrorCode, unreachableFromError, type CheckOutcome } from './outcome.js';

export interface LoginTarget {
  username: string;
  password: string;
  serverAddress: string;
  registryAddress: string;
  /** Written by administrators (system namespace): plain http allowed, no address rules. */
  trusted: boolean;
  /** No scheme in serverAddress means http (the internal in-cluster registry). */
  plainHttpDefault?: boolean;
}

export type Lookup = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface LoginOptions {
  policy: AddressPolicy;
  /** Per HTTP attempt. */
  timeoutMs: number;
  /** Default: the system resolver (all addresses). Tests pass their own. */
  lookup?: Lookup;
  /** Extra CA certificates (tests); in production Node's list plus NODE_EXTRA_CA_CERTS. */
  ca?: string | readonly string[];
}

const MAX_SAME_HOST_REDIRECTS = 3;
/** Per HTTP attempt of a check: a registry that needs longer is reported unreachable (timeout). */
export const CHECK_ATTEMPT_TIMEOUT_MS = 5000;

/** A rule said no: the check is skipped with this reason, nothing was sent. */
class Refused extends Error {}

export async function checkLogin(target: LoginTarget, options: LoginOptions): Promise<CheckOutcome> {
  const parsed = registryEndpoint(target.serverAddress, { plainHttpDefault: target.trusted && target.plainHttpDefault === true });
  if (!parsed.ok) return { state: 'skipped', reason: parsed.reason };
  const base = endpointUrl(parsed.endpoint, '/v2/');
  const flow = new LoginFlow(target, options);
  try {
    return await flow.run(base);
  } catch (error) {
    if (error instanceof Refused) return { state: 'skipped', reason: `refused: ${error.message}` };
    return unreachableFromError(error, flow.stage);
  }
}

class LoginFlow {
  /** What was being asked when an error came: names the stage in the reason. */
  stage = 'registry';

  constructor(
    private readonly target: LoginTarget,
    private readonly options: LoginOptions,
  ) {}

  async run(base: URL): Promise<CheckOutcome> {
    this.stage = `GET ${base.host}/v2/`;
    const first = await this.get(base, {});
    if (first.status === 200) return { state: 'ok', pushGranted: null, reason: 'the registry asks for no login' };
    if (first.status !== 401) return unexpected(this.stage, first);
    const challenges = parseChallenges(first.headers['www-authenticate']);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) return this.bearer(base, bearer);
    if (challenges.some((c) => c.scheme === 'basic')) return this.basic(base);
    return { state: 'unreachable', cause: 'protocol', reason: `${this.stage}: 401 without a Basic or Bearer challenge` };
  }

  private async basic(base: URL): Promise<CheckOutcome> {
    this.stage = `GET ${base.host}/v2/ (Basic)`;
    const answer = await this.get(base, { authorization: basicAuth(this.target) });
    if (answer.status === 200) return { state: 'ok', pushGranted: null, reason: 'login accepted (Basic); push rights not known until a push' };
    if (answer.status === 401 || answer.status === 403) return rejected(this.stage, answer);
    return unexpected(this.stage, answer);
  }

  private async bearer(base: URL, challenge: AuthChallenge): Promise<CheckOutcome> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm as string);
    } catch {
      return { state: 'unreachable', cause: 'protocol', reason: `${this.stage}: the token realm is not a URL` };
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') return { state: 'unreachable', cause: 'protocol', reason: `${this.stage}: the token realm is not http(s)` };
    const repository = probeRepository(this.target.registryAddress);
    const scope = `repository:${repository}:push,pull`;
    if (challenge.params.service !== undefined) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    realm.searchParams.set('account', this.target.username);
    this.stage = `token from ${realm.host}${realm.pathname}`;
    const answer = await this.get(realm, { authorization: basicAuth(this.target) });
    if (answer.status === 401 || answer.status === 403) return rejected(this.stage, answer);
    if (answer.status !== 200) return unexpected(this.stage, answer);
    if (answer.truncated) return { state: 'unreachable', cause: 'protocol', reason: `${this.stage}: answer larger than ${MAX_BODY_BYTES} bytes, not read` };
    const token = tokenOf(answer.body);
    if (token === undefined) return { state: 'unreachable', cause: 'protocol', reason: `${this.stage}: no token in the answer` };
    const pushGranted = pushGrantedBy(token, repository);

    this.stage = `GET ${base.host}/v2/ (Bearer)`;
    const retry = await this.get(base, { authorization: `Bearer ${token}` });
    if (retry.status === 401 || retry.status === 403) return rejected(this.stage, retry);
    if (retry.status !== 200) return unexpected(this.stage, retry);
    const push = pushGranted === null ? 'the token does not say whether push is granted' : pushGranted ? `push granted on ${repository}` : `push NOT granted on ${repository} (read-only)`;
    return { state: 'ok', pushGranted, reason: `login accepted (token); ${push}` };
  }

  /** GET with the address rules; follows redirects only to the same scheme, host and port. */
  private async get(url: URL, headers: Record<string, string>): Promise<ExchangeResponse> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const address = await this.connectAddress(current);
      const answer = await exchange({ url: current, address, headers, timeoutMs: this.options.timeoutMs, ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) });
      const location = answer.headers.location;
      if (answer.status < 300 || answer.status > 399 || location === undefined) return answer;
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        return answer;
      }
      if (next.origin !== current.origin) throw new Refused(`${this.stage}: redirect to another host (${next.host}) not followed`);
      if (hop >= MAX_SAME_HOST_REDIRECTS) throw new Refused(`${this.stage}: more than ${MAX_SAME_HOST_REDIRECTS} redirects`);
      current = next;
    }
  }

  /** Resolves the host once and returns the address to connect to, or throws Refused. */
  private async connectAddress(url: URL): Promise<string> {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const { trusted } = this.target;
    if (!trusted && url.protocol !== 'https:') throw new Refused(`${url.protocol}// to ${url.host}: namespace-scoped configs are checked over https only`);
    if (!trusted) {
      const host = this.options.policy.checkHost(hostname);
      if (!host.allowed) throw new Refused(host.reason);
    }
    const addresses = isIP(hostname) !== 0 ? [{ address: hostname, family: isIP(hostname) }] : await (this.options.lookup ?? systemLookup)(hostname);
    const first = addresses[0];
    if (first === undefined) throw Object.assign(new Error('no address'), { code: 'ENOTFOUND' });
    if (!trusted) {
      // Every answer must pass: otherwise a name with one public and one private address would be a way in.
      for (const { address } of addresses) {
        const decision = this.options.policy.checkAddress(hostname, address);
        if (!decision.allowed) throw new Refused(decision.reason);
      }
    }
    return first.address;
  }
}

const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

function basicAuth(target: LoginTarget): string {
  return `Basic ${Buffer.from(`${target.username}:${target.password}`, 'utf8').toString('base64')}`;
}

function rejected(stage: string, answer: ExchangeResponse): CheckOutcome {
  const code = registryErrorCode(answer.body);
  return { state: 'rejected', code, reason: `${stage}: ${answer.status}${code ? ` ${code}` : ''}: the registry refused these credentials` };
}

function unexpected(stage: string, answer: ExchangeResponse): CheckOutcome {
  const code = registryErrorCode(answer.body);
  return { state: 'unreachable', cause: 'protocol', reason: `${stage}: unexpected answer ${answer.status}${code ? ` ${code}` : ''}` };
}

function tokenOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    // A token goes into a header: refuse anything that could split it.
    return typeof token === 'string' && /^[\x21-\x7e]{1,16384}$/.test(token) ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a JWT's `access` claim grants push on `repository` (docker distribution's token format).
 * Only read, never trusted for anything else: the registry verifies it. null: not a JWT or no claim.
 */
export function pushGrantedBy(token: string, repository: string): boolean | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { access?: unknown };
    if (!Array.isArray(claims.access)) return null;
    return claims.access.some(
      (entry: { type?: unknown; name?: unknown; actions?: unknown }) =>
        entry?.type === 'repository' && entry.name === repository && Array.isArray(entry.actions) && (entry.actions.includes('push') || entry.actions.includes('*')),
    );
  } catch {
    return null;
  }
}
