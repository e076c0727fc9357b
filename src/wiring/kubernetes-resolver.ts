import type { Config } from '../config/config.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RunningResolver } from './resolver.js';

/** The resolver fed by a Kubernetes list+watch, with TokenReview/SubjectAccessReview auth. */
export async function startKubernetesResolver(
  _config: Config,
  _deps: { log: Logger; metrics: Metrics; kube: KubeConnection },
): Promise<RunningResolver> {
  throw new Error('the Kubernetes resolver source is not wired yet');
}
