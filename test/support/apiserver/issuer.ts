/**
 * The fake's ServiceAccount token issuer, as kube-apiserver's: RS256 JWTs signed with its own key
 * (`kid` = base64url SHA-256 of the public key's DER, as the real server derives it), served as
 * service-account issuer discovery (`/.well-known/openid-configuration`, `/openid/v1/jwks`).
 * Keys can be rotated (the old one kept in the key set or not, as with several
 * `--service-account-key-file`s). Keys are generated once per process and reused by every fake
 * (RSA generation is slow); rotating takes the next one.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const JWKS_PATH = '/openid/v1/jwks';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWK_SET_MEDIA_TYPE = 'application/jwk-set+json';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

const keyPool: SigningKey[] = [];

function poolKey(index: number): SigningKey {
  while (keyPool.length <= index) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const kid = createHash('sha256').update(der).digest('base64url');
    const jwk = publicKey.export({ format: 'jwk' });
    keyPool.push({ kid, privateKey, publicJwk: { use: 'sig', kty: jwk.kty, kid, alg: 'RS256', n: jwk.n, e: jwk.e } });
  }
  return keyPool[index] as SigningKey;
}

/** Claims of a verified token, as far as the fake reads them. */
export interface TokenClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  iat?: unknown;
  jti?: unknown;
  'kubernetes.io'?: unknown;
  [claim: string]: unknown;
}

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export class ServiceAccountIssuer {
  private next = 0;
  private active: SigningKey | undefined;
  /** Keys in the served key set (the active one first). */
  private published: SigningKey[] = [];

  constructor(readonly issuer: string = DEFAULT_ISSUER) {}

  private activeKey(): SigningKey {
    if (!this.active) {
      this.active = poolKey(this.next++);
      this.published = [this.active];
    }
    return this.active;
  }

  /** The kid new tokens are signed with. */
  get keyId(): string {
    return this.activeKey().kid;
  }

  /** Signs `claims` as an RS256 JWT with the active key (header: alg, kid; as kube-apiserver). */
  sign(claims: TokenClaims, header: Record<string, unknown> = {}): string {
    const key = this.activeKey();
    const input = `${part({ alg: 'RS256', kid: key.kid, ...header })}.${part(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
  }

  /** A new signing key; the old one stays in the key set only with `keepOld` (tokens it signed then stay valid). */
  rotate(options: { keepOld?: boolean } = {}): string {
    const previous = this.published;
    this.active = poolKey(this.next++);
    this.published = options.keepOld ? [this.active, ...previous] : [this.active];
    return this.active.kid;
  }

  discoveryDocument(jwksBase: string): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${jwksBase}${JWKS_PATH}`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  keySet(): { keys: Record<string, unknown>[] } {
    this.activeKey();
    return { keys: this.published.map((k) => k.publicJwk) };
  }

  /** A JWT naming one of the published keys whose signature does not verify with it (the recorded bad-signature case). */
  hasBadSignature(token: string): boolean {
    const [h = '', c = '', sig = ''] = token.split('.');
    let header: { kid?: unknown };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { kid?: unknown };
    } catch {
      return false;
    }
    const key = this.published.find((k) => k.kid === header.kid);
    return key !== undefined && !verify('sha256', Buffer.from(`${h}.${c}`), createPublicKey(key.privateKey), Buffer.from(sig, 'base64url'));
  }

  /**
   * The claims of a token this issuer signed with a published key and named itself the issuer of;
   * undefined for anything else (unknown kid, bad signature, other issuer). Expiry and audience
   * are the caller's to check, as the TokenReview does with its own messages.
   */
  verify(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h = '', c = '', s = ''] = parts;
    let header: { alg?: unknown; kid?: unknown };
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
      claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return undefined;
    }
    if (header.alg !== 'RS256') return undefined;
    const key = this.published.find((k) => k.kid === header.kid);
    if (!key) return undefined;
    const publicKey = createPublicKey(key.privateKey);
    if (!verify('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, 'base64url'))) return undefined;
    if (claims.iss !== this.issuer) return undefined;
    return claims;
  }
}

/**
 * go-restful's Accept matching, which serves the key set: any listed media type (parameters such
 * as q= ignored) that is `*\/*` or the produced type; no Accept header means `*\/*`.
 */
export function acceptsMediaType(accept: string | undefined, produced: string): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((entry) => {
    const type = (entry.split(';')[0] ?? '').trim();
    return type === '*/*' || type === produced;
  });
}
