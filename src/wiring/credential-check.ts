import { CoreV1Api } from '@kubernetes/client-node';
import type { Config } from '../config/config.js';
import { createAddressPolicy } from '../credentials/address-policy.js';
import { CredentialChecker } from '../credentials/checker.js';
import { CHECK_ATTEMPT_TIMEOUT_MS, checkLogin, type Lookup } from '../credentials/login.js';
import { noticeFor } from '../credentials/notices.js';
import type { CredentialStatus } from '../credentials/outcome.js';
import type { KubeConnection } from '../kube/detect.js';
import { EventRecorder } from '../kube/events.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CredentialLookup } from '../resolver/routes.js';
import { credentialStatusConfigMapName, shareCredentialStatus, type CredentialStatusShare } from './credential-status.js';

const CREDENTIAL_CHECK_TIMEOUT_MS = CHECK_ATTEMPT_TIMEOUT_MS;
const CONCURRENCY = 4;

export interface CredentialCheckTestHooks {
  /** Extra CA certificates the probe trusts (tests; in production NODE_EXTRA_CA_CERTS). */
  ca?: string | readonly string[];
  lookup?: Lookup;
  debounceMs?: number;
}

export interface RunningCredentialCheck {
  checker: CredentialChecker;
  lookup: CredentialLookup;
  /** Checks run while this replica leads propagation (see startPropagation). */
  leadership: { started(): void; stopped(): Promise<void> };
  stop(): Promise<void>;
}

const OFF: CredentialStatus = { state: 'skipped', pushGranted: null, checkedAt: null, reason: 'credential checks are off (CREDENTIAL_CHECK)' };
/** What answers carry when checks are off. */
export const credentialChecksOff: CredentialLookup = () => OFF;

/** CREDENTIAL_CHECK=auto means on in a cluster: there the registries are the ones builds push to. */
export function credentialCheckEnabled(config: Pick<Config, 'credentialCheck'>, kube: Pick<KubeConnection, 'inCluster'> | undefined): boolean {
  return config.credentialCheck === 'on' || (config.credentialCheck === 'auto' && kube?.inCluster === true);
}

/**
 * The credential checker fed by the resolver's Secrets, publishing Events on the checked Secret
 * (only while it checks, i.e. while leading) and the per-state metric. Undefined when off.
 */
export function createCredentialCheck(
  config: Config,
  deps: { log: Logger; metrics: Metrics; kube: KubeConnection | undefined; hooks?: CredentialCheckTestHooks },
): RunningCredentialCheck | undefined {
  const log = deps.log.child({ component: 'credential-check' });
  if (!credentialCheckEnabled(config, deps.kube)) {
    log.info({ credentialCheck: config.credentialCheck }, 'registry credential checks off');
    return undefined;
  }
  const { metrics, hooks } = deps;
  const policy = createAddressPolicy({ allow: config.credentialCheckAllow, deny: kubernetesServiceAddress() });
  const events = deps.kube
    ? new EventRecorder({ core: deps.kube.kubeConfig.makeApiClient(CoreV1Api), component: 'registry-config-webhook', instance: config.podName, log, userAgent: `registry-config-webhook/credential-check (${config.podName})` })
    : undefined;
  // With leader election (propagation), the leader publishes its outcomes for the other replicas.
  const share: CredentialStatusShare | undefined =
    deps.kube && config.propagation !== 'off'
      ? shareCredentialStatus({ checker: () => checker, kubeConfig: deps.kube.kubeConfig, namespace: config.podNamespace, name: credentialStatusConfigMapName(config.leaseName), identity: config.podName, log })
      : undefined;
  const checker: CredentialChecker = new CredentialChecker({
    systemNamespace: config.systemNamespace,
    intervalMs: config.credentialCheckIntervalMs,
    concurrency: CONCURRENCY,
    ...(hooks?.debounceMs !== undefined ? { debounceMs: hooks.debounceMs } : {}),
    check: async (target) => {
      const started = performance.now();
      const outcome = await checkLogin(target, {
        policy,
        timeoutMs: CREDENTIAL_CHECK_TIMEOUT_MS,
        ...(hooks?.ca !== undefined ? { ca: hooks.ca } : {}),
        ...(hooks?.lookup ? { lookup: hooks.lookup } : {}),
      });
      metrics.credentialCheckDuration.observe((performance.now() - started) / 1000);
      metrics.credentialCheckAttempts.inc({ outcome: outcome.state });
      return outcome;
    },
    onResult: (result) => {
      const secret = `${result.secret.ref.namespace}/${result.secret.ref.name}`;
      if (result.previous?.state !== result.next.state || result.changed) {
        log.info({ secret, state: result.next.state, pushGranted: result.next.pushGranted, reason: result.next.reason }, 'registry credential check');
      }
      const notice = noticeFor(result);
      if (notice && events && checker.isActive()) {
        const { namespace, name } = result.secret.ref;
        events.record({ apiVersion: 'v1', kind: 'Secret', namespace, name, ...(result.secret.uid ? { uid: result.secret.uid } : {}) }, notice.type, notice.reason, notice.message);
      }
    },
    ...(share ? { onPublishable: () => share.changed() } : {}),
  });
  if (share) {
    // Not awaited: answers say pending until the first list; the reflector retries on its own.
    void share.start().catch(() => undefined);
    log.info({ configMap: `${config.podNamespace}/${credentialStatusConfigMapName(config.leaseName)}` }, 'credential check outcomes shared through a ConfigMap (written by the propagation leader)');
  }
  metrics.onScrape(() => {
    for (const [state, count] of Object.entries(checker.counts())) metrics.credentialCheckConfigs.set({ state }, count);
  });
  log.info({ intervalMs: config.credentialCheckIntervalMs, allow: config.credentialCheckAllow, timeoutMs: CREDENTIAL_CHECK_TIMEOUT_MS, concurrency: CONCURRENCY }, 'registry credential checks on');
  const pending: CredentialStatus = { state: 'pending', pushGranted: null, checkedAt: null, reason: 'not checked yet' };
  return {
    checker,
    lookup: (secret) => checker.status(secret) ?? pending,
    leadership: {
      started: () => {
        checker.start();
        // Publish at once what is known (the previous leader's outcomes; removes deleted configs).
        share?.changed();
      },
      stopped: async () => {
        await checker.pause();
        await events?.flush();
      },
    },
    async stop() {
      await checker.pause();
      await events?.flush();
      await share?.stop();
    },
  };
}

/** The API server's in-cluster address is never a registry (also when the cluster uses public ranges). */
function kubernetesServiceAddress(): string[] {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  return host ? [host] : [];
}
