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
}

/** The answer when nothing applies (the HTTP API's 404 body). */
export interface RegistryConfigNotFound {
  namespace: string;
  reason: string;
  skipped: string[];
}

