import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { IN_CLUSTER_TOKEN_FILE as IN_CLUSTER_TOKEN } from './own-token-audiences.js';

export interface KubeConnection {
  kubeConfig: KubeConfig;
  /** True when running in a pod with a service account (auth on by default there). */
  inCluster: boolean;
  /** Where the configuration came from, for the start-up log. */
  origin: string;
}

/**
 * Finds how to reach the API server: in-cluster service account, KUBECONFIG or ~/.kube/config.
 * Returns undefined when there is none and nothing in the Config demands one (laptop mode).
 */
export async function detectKubernetes(config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<KubeConnection | undefined> {
  const wanted = config.resolverSource === 'kubernetes' || config.certSecret !== undefined || config.propagation === 'on';
  const inCluster = env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(IN_CLUSTER_TOKEN);
  const kubeconfigFile = env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  const hasKubeconfig = env.KUBECONFIG !== undefined ? env.KUBECONFIG.split(':').some((f) => existsSync(f)) : existsSync(kubeconfigFile);
  const allowed = config.resolverSource !== 'directory' && config.resolverSource !== 'off';
  if (!inCluster && !hasKubeconfig) {
    if (wanted) throw new Error('a Kubernetes API server is required (RESOLVER_SOURCE=kubernetes, CERT_SECRET or PROPAGATION=on) but no in-cluster config or kubeconfig was found');
    return undefined;
  }
  if (!wanted && !allowed) return undefined;
  const kubeConfig = new KubeConfig();
  if (inCluster && env.KUBECONFIG === undefined) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  const origin = inCluster && env.KUBECONFIG === undefined ? 'in-cluster service account' : `kubeconfig context ${kubeConfig.getCurrentContext()}`;
  log.info({ origin, server: kubeConfig.getCurrentCluster()?.server }, 'using the Kubernetes API server');
  return { kubeConfig, inCluster, origin };
}
