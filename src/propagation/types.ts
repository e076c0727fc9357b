import type { ObjectMeta, SecretObject } from '../kube/objects.js';

export type { SecretObject };

/** The parts of a core/v1 Namespace the controller reads. */
export interface NamespaceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  status?: { phase?: string; [key: string]: unknown };
  [key: string]: unknown;
}
