/**
 * A small token issuer for docker distribution's token auth, made by us for the tests: HTTPS on
 * 127.0.0.1, Basic-authenticated accounts, ES256 JWTs whose x5c header carries the signing
 * certificate (the registry checks it against its rootcertbundle). An account may be granted
 * pull only (read-only) or pull and push.
 */
import { createHash, randomUUID, sign, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CertificateAuthority } from '../../../src/tls/generate.js';

export interface TokenAccount {
  password: string;
  /** Actions granted on any requested repository. */
  actions: Array<'pull' | 'push'>;
}

export interface TokenIssuer {
  url: string;
  realm: string;
  service: string;
  issuer: string;
  /** Token requests received (query strings), for assertions. */
  requests: URLSearchParams[];
  close(): Promise<void>;
}

export async function startTokenIssuer(options: {
  signing: CertificateAuthority;
  serving: { cert: string; key: string };
  accounts: Record<string, TokenAccount>;
  service?: string;
  issuer?: string;
}): Promise<TokenIssuer> {
  const service = options.service ?? 'test-registry';
  const issuer = options.issuer ?? 'test-token-issuer';
  const requests: URLSearchParams[] = [];
  const x5c = new X509Certificate(options.signing.cert).raw.toString('base64');
  const server: Server = createServer({ cert: options.serving.cert, key: options.serving.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://issuer');
    requests.push(url.searchParams);
    const auth = req.headers.authorization ?? '';
    const [user, password] = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':') : [];
    const account = user !== undefined ? options.accounts[user] : undefined;
    if (account === undefined || account.password !== password) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || name === undefined || actions === undefined) return [];
      return [{ type, name, actions: actions.split(',').filter((a) => (account.actions as string[]).includes(a)) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(
      { typ: 'JWT', alg: 'ES256', x5c: [x5c] },
      { iss: issuer, sub: user, aud: url.searchParams.get('service') ?? service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access },
      options.signing.key,
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function jwt(header: object, claims: object, keyPem: string): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key: keyPem, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Not used by the registry with x5c, kept for debugging: the key's SHA-256 fingerprint. */
export function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}
