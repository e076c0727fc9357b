import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import type { CheckResult } from '../http/readiness.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';

export interface RunningResolver {
  mode: 'kubernetes' | 'directory';
  routes: (app: FastifyInstance) => void;
  readiness(): CheckResult;
  stop(): Promise<void>;
}

/** Picks the resolver's source (Kubernetes watch or local directory) and registers its HTTP API. */
export async function startResolver(
  _config: Config,
  _deps: { log: Logger; metrics: Metrics; kube: KubeConnection | undefined },
): Promise<RunningResolver | undefined> {
  return undefined;
}
