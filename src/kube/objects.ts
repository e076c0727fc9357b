/**
 * The plain shapes of the Kubernetes objects the domain reads. Deliberately minimal and
 * independent of @kubernetes/client-node's classes so pure code takes JSON as it arrives.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string | Date;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  type?: string;
  /** base64 values, as the API server stores and sends them. */
  data?: Record<string, string>;
  [key: string]: unknown;
}
