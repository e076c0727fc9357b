import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeApiServer } from './fake-apiserver.js';

export interface FakeKubeconfig {
  /** The kubeconfig file, also in process.env.KUBECONFIG until restore(). */
  path: string;
  /** Puts back the KUBECONFIG the process had and removes the file (it holds the fake's token). */
  restore(): void;
}

/**
 * Points KUBECONFIG at a kubeconfig for the fake API server, as a real start reads it
 * (detectKubernetes and client-node's loadFromDefault look at the process environment):
 * the admin token, or `token` (a ServiceAccount's, to be held to its RBAC).
 */
export function useFakeKubeconfig(fake: FakeApiServer, options: { token?: string } = {}): FakeKubeconfig {
  const previous = process.env.KUBECONFIG;
  const dir = mkdtempSync(join(tmpdir(), 'rcw-kubeconfig-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, fake.kubeConfig(options).exportConfig(), { mode: 0o600 });
  process.env.KUBECONFIG = path;
  return {
    path,
    restore() {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
