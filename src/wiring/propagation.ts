import type { Config } from '../config/config.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { parseExcludeSelector, startPropagationController } from '../propagation/index.js';
import type { RunningCredentialCheck } from './credential-check.js';
import type { RunningResolver } from './resolver.js';

export interface RunningPropagation {
  stop(): Promise<void>;
}

/**
 * Starts the propagation controller when a cluster is reachable and PROPAGATION allows it
 * (auto: on whenever the server talks to a cluster). Start it after the webhook listens: every
 * copy it writes passes through a webhook.
 */
export async function startPropagation(
  config: Config,
  deps: { log: Logger; metrics: Metrics; kube: KubeConnection | undefined; resolver: RunningResolver | undefined; credentials?: RunningCredentialCheck | undefined },
): Promise<RunningPropagation | undefined> {
  if (config.propagation === 'off' || !deps.kube) {
    if (config.propagation === 'on' && !deps.kube) throw new Error('PROPAGATION=on needs a Kubernetes API server');
    // No leader election: this replica checks on its own (run one replica, or enable propagation).
    if (deps.credentials) {
      deps.log.info('credential checks run in this replica without leader election (propagation off): with several replicas each checks');
      deps.credentials.leadership.started();
    }
    return undefined;
  }
  const log = deps.log.child({ component: 'propagation' });
  const controller = await startPropagationController({
    kubeConfig: deps.kube.kubeConfig,
    systemNamespace: config.systemNamespace,
    exclude: parseExcludeSelector(config.propagationExclude),
    resyncPeriodMs: config.resyncPeriodMs,
    concurrency: config.propagationConcurrency,
    writesPerSecond: config.propagationWritesPerSecond,
    lease: {
      name: config.leaseName,
      namespace: config.leaseNamespace ?? config.podNamespace,
      durationMs: config.leaseDurationMs,
      renewDeadlineMs: config.leaseRenewDeadlineMs,
      retryPeriodMs: config.leaseRetryPeriodMs,
    },
    identity: config.podName,
    // The controller names its component itself; passing `log` would repeat the binding on every line.
    log: deps.log,
    metrics: deps.metrics,
    // One replica checks credentials and writes their Events: the one that writes copies.
    ...(deps.credentials ? { leadership: deps.credentials.leadership } : {}),
  });
  log.info({ lease: `${config.leaseNamespace ?? config.podNamespace}/${config.leaseName}`, identity: config.podName }, 'propagation controller started');
  return { stop: () => controller.stop() };
}
