import type { Config } from '../config/config.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RunningResolver } from './resolver.js';

export interface RunningPropagation {
  stop(): Promise<void>;
}

/** Starts the propagation controller when a cluster is reachable and PROPAGATION allows it. */
export async function startPropagation(
  _config: Config,
  _deps: { log: Logger; metrics: Metrics; kube: KubeConnection | undefined; resolver: RunningResolver | undefined },
): Promise<RunningPropagation | undefined> {
  return undefined;
}
