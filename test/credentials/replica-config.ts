import { parseConfig, type Config } from '../../src/config/config.js';

/**
 * A whole server as one replica of the chart runs it, against the fake API server (through
 * `kubeconfig`): Kubernetes resolver, propagation with short leases (its leader checks credentials),
 * and credential checks that may reach the test registry on loopback.
 */
export function replicaConfig(options: { kubeconfig: string; certDir: string; systemNamespace: string; pod: string }): Config {
  return parseConfig(
    [],
    {
      PORT: '0',
      PROBE_PORT: '0',
      HOST: '127.0.0.1',
      CERT_DIR: options.certDir,
      KUBECONFIG: options.kubeconfig,
      RESOLVER_SOURCE: 'kubernetes',
      POD_NAMESPACE: options.systemNamespace,
      AUTH: 'off',
      PROPAGATION: 'on',
      LEASE_DURATION: '3s',
      LEASE_RENEW_DEADLINE: '2s',
      LEASE_RETRY_PERIOD: '200ms',
      SHUTDOWN_DELAY: '0',
      CREDENTIAL_CHECK: 'on',
      // The registry runs on loopback: a namespace's config may only reach it when allowed.
      CREDENTIAL_CHECK_ALLOW: '127.0.0.1/32',
    },
    { hostname: options.pod, serviceAccountNamespace: undefined },
  );
}
