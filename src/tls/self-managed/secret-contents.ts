/**
 * The self-managed certificate Secret: which data keys and annotations hold what, and the
 * conversion between the Secret's base64 `data` and PEM text. All rotation state lives in the
 * Secret so every replica reads the same state and decides the same way.
 */

/** Data keys. The first four are those of a kubernetes.io/tls Secret plus cert-manager's ca.crt/ca.key. */
export const SECRET_KEYS = {
  /** The CA that signs the serving certificate. */
  caCert: 'ca.crt',
  caKey: 'ca.key',
  tlsCert: 'tls.crt',
  tlsKey: 'tls.key',
  /** Rotation phase 1: the CA that will take over, already in the caBundle, not signing yet. */
  nextCaCert: 'ca-next.crt',
  nextCaKey: 'ca-next.key',
  /** Rotation phase 2: the CA that signed until the switch, still in the caBundle (no key needed). */
  previousCaCert: 'ca-previous.crt',
} as const;

const ANNOTATION_PREFIX = 'registry-config-webhook.kyma-project.io/';

/** Annotations (RFC 3339 times) that time the overlap of a CA rotation. */
export const ROTATION_ANNOTATIONS = {
  /** When ca-next.crt was added (and so published in the caBundle soon after). */
  nextCaAddedAt: `${ANNOTATION_PREFIX}ca-next-added-at`,
  /** When the next CA took over and the old one became ca-previous.crt. */
  caSwitchedAt: `${ANNOTATION_PREFIX}ca-switched-at`,
} as const;

/** The Secret's certificate content as PEM text. Anything may be missing or garbage. */
export interface CertificateSecretContents {
  caCert?: string;
  caKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  nextCaCert?: string;
  nextCaKey?: string;
  previousCaCert?: string;
  nextCaAddedAt?: Date;
  caSwitchedAt?: Date;
}

type PemField = Exclude<keyof CertificateSecretContents, 'nextCaAddedAt' | 'caSwitchedAt'>;
const PEM_FIELDS = Object.keys(SECRET_KEYS) as PemField[];

/** The parts of a Secret this module reads; works for client-node objects and plain JSON alike. */
export interface SecretLike {
  metadata?: { annotations?: Record<string, string> | undefined; [key: string]: unknown } | undefined;
  data?: Record<string, string> | undefined;
}

/** Decodes what the Secret holds; an absent Secret is empty contents. Undecodable values stay as (garbage) text. */
export function decodeCertificateSecret(secret: SecretLike | undefined): CertificateSecretContents {
  const contents: CertificateSecretContents = {};
  if (!secret) return contents;
  const data = secret.data ?? {};
  for (const field of PEM_FIELDS) {
    const value = data[SECRET_KEYS[field]];
    if (typeof value === 'string' && value !== '') contents[field] = Buffer.from(value, 'base64').toString('utf8');
  }
  const annotations = secret.metadata?.annotations ?? {};
  const nextCaAddedAt = parseTime(annotations[ROTATION_ANNOTATIONS.nextCaAddedAt]);
  const caSwitchedAt = parseTime(annotations[ROTATION_ANNOTATIONS.caSwitchedAt]);
  if (nextCaAddedAt) contents.nextCaAddedAt = nextCaAddedAt;
  if (caSwitchedAt) contents.caSwitchedAt = caSwitchedAt;
  return contents;
}

/**
 * The Secret's new `data` and `annotations`: keys of this module are set or removed as `contents`
 * says, every other key (someone else's) is kept.
 */
export function encodeCertificateSecret(
  contents: CertificateSecretContents,
  existing: SecretLike | undefined,
): { data: Record<string, string>; annotations: Record<string, string> } {
  const data: Record<string, string> = { ...(existing?.data ?? {}) };
  for (const field of PEM_FIELDS) {
    const value = contents[field];
    if (value === undefined) delete data[SECRET_KEYS[field]];
    else data[SECRET_KEYS[field]] = Buffer.from(value, 'utf8').toString('base64');
  }
  const annotations: Record<string, string> = { ...(existing?.metadata?.annotations ?? {}) };
  setTime(annotations, ROTATION_ANNOTATIONS.nextCaAddedAt, contents.nextCaAddedAt);
  setTime(annotations, ROTATION_ANNOTATIONS.caSwitchedAt, contents.caSwitchedAt);
  return { data, annotations };
}

/** Whether two contents hold the same PEM texts and times (what a write would change). */
export function sameContents(a: CertificateSecretContents, b: CertificateSecretContents): boolean {
  return (
    PEM_FIELDS.every((field) => a[field] === b[field]) &&
    a.nextCaAddedAt?.getTime() === b.nextCaAddedAt?.getTime() &&
    a.caSwitchedAt?.getTime() === b.caSwitchedAt?.getTime()
  );
}

function parseTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function setTime(annotations: Record<string, string>, key: string, time: Date | undefined): void {
  if (time === undefined) delete annotations[key];
  else annotations[key] = time.toISOString();
}
