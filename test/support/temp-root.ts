/**
 * Vitest globalSetup: every temporary directory of a test run (made by tests, helpers or the code
 * under test via os.tmpdir()) lands in one directory made for the run, removed when it ends, so
 * no private key or kubeconfig of a test outlives it. Workers are forked after this runs and
 * inherit TMPDIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'rcw-test-run-'));
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
