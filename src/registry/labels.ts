/** Names, labels and keys of the registry-config Secrets, as the Kyma serverless module defines them. */

/** Name of the namespace-scoped and the cluster-wide external registry Secret. */
export const REGISTRY_SECRET_NAME = 'serverless-registry-config';
/** Name of the internal (default) registry Secret in the system namespace. */
export const DEFAULT_REGISTRY_SECRET_NAME = 'serverless-registry-config-default';
/** Default system namespace (overridable with SYSTEM_NAMESPACE). */
export const DEFAULT_SYSTEM_NAMESPACE = 'kyma-system';

/** Marks a Secret as a registry config: the webhook's objectSelector and the resolver's watch use it. */
export const REMOTE_REGISTRY_LABEL = 'serverless.kyma-project.io/remote-registry';
export const REMOTE_REGISTRY_LABEL_VALUE = 'config';
/** With REMOTE_REGISTRY_LABEL, in the system namespace: the cluster-wide registry. */
export const CLUSTER_CONFIG_LABEL = 'serverless.kyma-project.io/config';
export const CLUSTER_CONFIG_LABEL_VALUE = 'credentials';
/** On a namespace's own Secret: the user manages it; cluster-wide config neither wins nor overwrites. */
export const MANAGED_BY_LABEL = 'serverless.kyma-project.io/managed-by';
export const MANAGED_BY_USER = 'user';

/** Label selector for every registry-config Secret. */
export const REMOTE_REGISTRY_SELECTOR = `${REMOTE_REGISTRY_LABEL}=${REMOTE_REGISTRY_LABEL_VALUE}`;

/** Keys every external registry Secret must carry in `data`. */
export const REQUIRED_KEYS = ['username', 'password', 'serverAddress', 'registryAddress'] as const;
export type RequiredKey = (typeof REQUIRED_KEYS)[number];

export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
