import { readFileSync } from 'node:fs';

/** Where the kubelet mounts a pod's ServiceAccount token. */
export const IN_CLUSTER_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The audiences of this pod's own mounted ServiceAccount token. The kubelet asks for it without an
 * audience, so it carries the API server's default audiences (`--api-audiences`): the same ones a
 * controller's default token carries. They differ from the issuer on many managed clusters, so
 * offline verification accepts them too when AUTH_AUDIENCES is unset. Only the claim is read, never
 * verified or logged: the file is ours. Empty when there is no such file or it cannot be read.
 */
export function ownTokenAudiences(file = IN_CLUSTER_TOKEN_FILE): string[] {
  try {
    const payload = readFileSync(file, 'utf8').trim().split('.')[1];
    if (payload === undefined) return [];
    const aud: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).aud;
    const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    return list.filter((a): a is string => typeof a === 'string' && a !== '');
  } catch {
    return [];
  }
}
