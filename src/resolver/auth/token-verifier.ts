/**
 * Offline verification of a ServiceAccount token against the issuer's published keys: signature,
 * issuer, expiry / not-before (with the API server's own one-minute leeway) and audience. A token
 * that fails here was not issued by this cluster for us, and no API call is made for it.
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { ALLOWED_TOKEN_ALGORITHMS } from './token-shape.js';
import type { IssuerKeys, IssuerKeySet } from './issuer-keys.js';

export type TokenRejection = 'unknown-key' | 'bad-signature' | 'wrong-issuer' | 'expired' | 'not-yet-valid' | 'wrong-audience' | 'bad-claims';

export type TokenVerdict =
  | { verified: true }
  | { verified: false; reason: TokenRejection }
  /** No key set has been read yet (discovery unavailable): the caller decides by TokenReview. */
  | { verified: 'unknown' };

export interface TokenVerifierOptions {
  keys: Pick<IssuerKeys, 'current' | 'refreshForUnknownKey'>;
  /**
   * Audiences accepted (any one). Empty: the API server's defaults, that is the issuer and
   * `defaultAudiences` (the audiences of the server's own token, see kube/own-token-audiences.ts).
   */
  audiences: readonly string[];
  defaultAudiences?: readonly string[];
  /** Leeway for exp / nbf. Default 60 s, as kube-apiserver's ServiceAccount token validator. */
  clockToleranceSeconds?: number;
  now?: () => number;
}

export interface TokenVerifier {
  verify(token: string, keyId: string): Promise<TokenVerdict>;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const tolerance = options.clockToleranceSeconds ?? 60;
  let cached: { from: IssuerKeySet; keySet: ReturnType<typeof createLocalJWKSet> } | undefined;
  const keySetOf = (keys: IssuerKeySet) => {
    if (cached?.from !== keys) cached = { from: keys, keySet: createLocalJWKSet(keys.keys) };
    return cached.keySet;
  };

  const check = async (token: string, keys: IssuerKeySet): Promise<TokenVerdict> => {
    try {
      await jwtVerify(token, keySetOf(keys), {
        issuer: keys.issuer,
        audience: options.audiences.length > 0 ? [...options.audiences] : [keys.issuer, ...(options.defaultAudiences ?? [])],
        algorithms: [...ALLOWED_TOKEN_ALGORITHMS],
        clockTolerance: tolerance,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub'],
      });
      return { verified: true };
    } catch (err) {
      return { verified: false, reason: rejectionOf(err) };
    }
  };

  return {
    async verify(token, keyId) {
      let keys = options.keys.current();
      if (keys === undefined) return { verified: 'unknown' };
      if (!keys.keyIds.has(keyId)) {
        // Maybe the keys rotated; the refresh is rate-limited, so forged kids cost nothing.
        if (!(await options.keys.refreshForUnknownKey())) return { verified: false, reason: 'unknown-key' };
        keys = options.keys.current();
        if (keys === undefined || !keys.keyIds.has(keyId)) return { verified: false, reason: 'unknown-key' };
      }
      return check(token, keys);
    },
  };
}

function rejectionOf(err: unknown): TokenRejection {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'wrong-issuer';
    if (err.claim === 'aud') return 'wrong-audience';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'not-yet-valid';
    return 'bad-claims';
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown-key';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad-signature';
  // JWSInvalid, JWTInvalid, JOSEAlgNotAllowed, key import failures: not a token we accept.
  return 'bad-signature';
}
