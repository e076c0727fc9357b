/**
 * The resolver's answers as plain types: what a controller receives. Kept free of imports so the
 * client's type declarations stand alone in the published package.
 */
/** Which rule an answer came from. */
export type RegistrySource = 'cluster' | 'namespace' | 'default';

export interface SecretName {
  namespace: string;
  name: string;
}

/** The non-secret, decoded fields a controller needs to build and push. */
export interface RegistryFields {
  registryAddress: string;
  serverAddress: string;
  isInternal: boolean;
  /** `pushRegAddr` when set (internal registry), else registryAddress. */
  pushRegAddress: string;
  /** `pullRegAddr` when set (internal registry), else registryAddress. */
  pullRegAddress: string;
}

/** The answer when a Secret applies (the HTTP API's 200 body). */
export interface RegistryConfig extends RegistryFields {
  namespace: string;
  source: RegistrySource;
  secret: SecretName;
  /** Changes whenever the effective Secret changes: its uid and resourceVersion, never a hash of its data. */
  revision: string;
  /** Higher-precedence Secrets passed over because they are invalid, each with why. */
  skipped: string[];
  /**
   * The last registry login check of the Secret it names (docs/credential-check.md); absent when the
   * server runs without credential checks.
   */
  credentials?: CredentialStatus;
}

/** How the last registry login check went; `pending` until one has run. */
export type CredentialState = 'ok' | 'rejected' | 'unreachable' | 'skipped' | 'pending';

/** The resolver API's `credentials` field: never a credential. */
export interface CredentialStatus {
  state: CredentialState;
  /** What the registry's token granted; null when it does not say (Basic auth, opaque tokens) or not ok. */
  pushGranted: boolean | null;
  /** RFC 3339, when the outcome was found; null while pending or skipped without a check. */
  checkedAt: string | null;
  reason: string;
}

/** The answer when nothing applies (the HTTP API's 404 body). */
export interface RegistryConfigNotFound {
  namespace: string;
  reason: string;
  skipped: string[];
}

