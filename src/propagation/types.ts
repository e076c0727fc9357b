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

/**
 * What the controller keeps of a Namespace: name, identity, labels and whether it is going away. A
 * plain object: the list's deserialized V1Namespace carries every field of its class (most of them
 * undefined), which at 10,000 namespaces is megabytes for nothing.
 */
export function namespaceEssentials(ns: NamespaceObject): NamespaceObject {
  const m = ns.metadata ?? {};
  const metadata: ObjectMeta = {};
  if (m.name !== undefined) metadata.name = m.name;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.labels !== undefined) metadata.labels = { ...m.labels };
  if (m.deletionTimestamp !== undefined && m.deletionTimestamp !== null) metadata.deletionTimestamp = m.deletionTimestamp;
  const phase = ns.status?.phase;
  return phase === undefined ? { metadata } : { metadata, status: { phase } };
}
