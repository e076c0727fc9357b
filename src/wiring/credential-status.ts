import type { KubeConfig } from '@kubernetes/client-node';
import type { CredentialChecker } from '../credentials/checker.js';
import { decodeSharedOutcomes, encodeSharedOutcomes } from '../credentials/shared-outcomes.js';
import { describeApiError } from '../kube/api-status.js';
import { Backoff } from '../kube/backoff.js';
import { SharedConfigMap } from '../kube/shared-config-map.js';
import type { Logger } from '../logger.js';

/** The ConfigMap the propagation leader publishes check outcomes in, next to its Lease's name. */
export function credentialStatusConfigMapName(leaseName: string): string {
  return `${leaseName}-credential-status`;
}

/** At most one write per this, so a burst of outcomes (a takeover checks everything) is one write. */
const WRITE_INTERVAL_MS = 1000;
/** After a failed write (API down, rights missing): 5 s doubling up to 2 min. */
const RETRY_INITIAL_MS = 5000;
const RETRY_MAX_MS = 120_000;

export interface CredentialStatusShare {
  /** Starts reading (every replica); resolves after the first list. */
  start(): Promise<void>;
  /** Schedules a write if this replica checks (called whenever outcomes may have changed). */
  changed(): void;
  stop(): Promise<void>;
}

/**
 * Every replica reads the leader's outcomes from one ConfigMap in its own namespace and hands them
 * to its checker; only a checking (leading) replica writes it, batched to one write per second.
 */
export function shareCredentialStatus(deps: { checker: () => CredentialChecker; kubeConfig: KubeConfig; namespace: string; name: string; identity: string; log: Logger }): CredentialStatusShare {
  const { log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let droppedLogged = false;
  const retry = new Backoff(RETRY_INITIAL_MS, RETRY_MAX_MS);
  const configMap = new SharedConfigMap({
    kubeConfig: deps.kubeConfig,
    namespace: deps.namespace,
    name: deps.name,
    userAgent: `registry-config-webhook/credential-status (${deps.identity})`,
    log,
    labels: { 'app.kubernetes.io/managed-by': 'registry-config-webhook' },
    onData: (data) => deps.checker().useShared(decodeSharedOutcomes(data)),
  });

  const schedule = (delayMs: number): void => {
    if (stopped || timer !== undefined || !deps.checker().isActive()) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (writing) {
        again = true;
        return;
      }
      writing = write().finally(() => {
        writing = undefined;
        if (again) {
          again = false;
          schedule(WRITE_INTERVAL_MS);
        }
      });
    }, delayMs);
    timer.unref();
  };

  const write = async (): Promise<void> => {
    const checker = deps.checker();
    if (!checker.isActive()) return;
    const { data, dropped } = encodeSharedOutcomes(checker.publishable());
    if (dropped > 0 && !droppedLogged) {
      droppedLogged = true;
      log.warn({ configMap: `${deps.namespace}/${deps.name}`, dropped }, 'too many credential check outcomes for one ConfigMap: ok outcomes left out first; other replicas answer pending for them');
    } else if (dropped === 0) droppedLogged = false;
    try {
      await configMap.write(data);
      retry.reset();
    } catch (err) {
      const retryInMs = retry.next();
      log.error({ configMap: `${deps.namespace}/${deps.name}`, error: describeApiError(err), retryInMs }, 'cannot publish credential check outcomes; other replicas answer pending for new outcomes until this works');
      schedule(retryInMs);
    }
  };

  return {
    start: () => configMap.start(),
    changed: () => schedule(WRITE_INTERVAL_MS),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await writing;
      await configMap.stop();
    },
  };
}
