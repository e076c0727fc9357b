/**
 * Where the resolver's Secrets come from. Two implementations feed the same index: the Kubernetes
 * list + watch (in a cluster) and a local directory of manifests (on a laptop).
 */
import type { CheckResult } from '../http/readiness.js';
import type { SecretObject } from '../kube/objects.js';
import type { SecretName } from '../registry/precedence.js';

/** What a source tells the index. Secrets arrive as the API server sends them (base64 `data`). */
export interface RegistrySecretSink {
  /** A full (re-)list: everything not in `secrets` is gone. */
  replaceAll(secrets: readonly SecretObject[]): void;
  /** A Secret was added or modified (one that lost its labels is passed too: the index drops it). */
  upsert(secret: SecretObject): void;
  /** A Secret was deleted. */
  delete(ref: SecretName): void;
}

export interface RegistrySecretSource {
  /** For logs: "kubernetes" or "directory". */
  readonly kind: string;
  /** Starts feeding `sink`; resolves after the first full sync (one replaceAll). */
  start(sink: RegistrySecretSink): Promise<void>;
  /** Stops watching and releases every handle; the sink hears nothing afterwards. */
  stop(): Promise<void>;
  /** Not ready before the first sync, or while the source cannot keep the index current. */
  readiness(): CheckResult;
}
