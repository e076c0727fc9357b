import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/**
 * The package as installed (the image's layout): package.json, node_modules and dist/ made by
 * `tsc -p tsconfig.build.json`, in a temporary directory so the worktree's dist/ is left alone.
 */
export interface BuiltPackage {
  dir: string;
  remove(): void;
}

export async function buildPackage(): Promise<BuiltPackage> {
  const dir = join(mkdtempSync(join(tmpdir(), 'rcw-cli-')), 'app');
  mkdirSync(dir);
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: ROOT });
  return { dir, remove: () => rmSync(join(dir, '..'), { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <script> ...args` in the package directory as a user would, with `input` on stdin. */
export function runNode(pkg: BuiltPackage, script: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: pkg.dir, env: { PATH: process.env.PATH ?? '', KUBECONFIG: '/nonexistent', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Starts `node <script> ...args` and leaves it running. */
export function startNode(pkg: BuiltPackage, script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], { cwd: pkg.dir, env: { PATH: process.env.PATH ?? '', KUBECONFIG: '/nonexistent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
