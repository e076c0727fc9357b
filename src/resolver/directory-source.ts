/**
 * The local source: Secret manifests in a directory (SECRETS_DIR), watched. Used when there is no
 * Kubernetes API server, e.g. `npm start` on a laptop with `examples/secrets/`.
 *
 * File events (fs.watch) trigger a debounced rescan; a slow poll catches what events miss (network
 * and container file systems, mounted Secret volumes that swap symlinks). A rescan re-reads only
 * files whose mtime, size or inode changed. Each Secret gets a synthetic uid (from file path and
 * name) and a resourceVersion that changes exactly when its content does.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CheckResult } from '../http/readiness.js';
import type { SecretObject } from '../kube/objects.js';
import type { Logger } from '../logger.js';
import { MANIFEST_FILE, parseSecretManifests } from './manifest-files.js';
import type { RegistrySecretSink, RegistrySecretSource } from './source.js';

export interface DirectorySourceOptions {
  dir: string;
  log: Logger;
  /** Rescan at least this often, whatever file events say. Default 2 s. */
  pollIntervalMs?: number;
  /** Wait this long after a file event for more (editors write in several steps). Default 50 ms. */
  debounceMs?: number;
  /** Use fs.watch events (default true); false: poll only. */
  fileEvents?: boolean;
}

/** The API server's limit for a Secret; a bigger file is not a Secret manifest. */
const MAX_FILE_BYTES = 1024 * 1024;

interface FileState {
  /** mtime (ns), size and inode: when equal, the file is not read again. */
  stamp: string;
  mtimeNs: bigint;
  secrets: SecretObject[];
}

interface Published {
  secret: SecretObject;
  /** Content without uid/resourceVersion, kept in memory only to see whether the Secret changed. */
  content: string;
  file: string;
}

export function createDirectorySource(options: DirectorySourceOptions): RegistrySecretSource {
  const dir = resolve(options.dir);
  const { log } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const debounceMs = options.debounceMs ?? 50;

  const files = new Map<string, FileState>();
  const published = new Map<string, Published>();
  const warnedDuplicates = new Set<string>();
  let sink: RegistrySecretSink | undefined;
  let synced = false;
  let readError: string | undefined;
  let stopped = false;
  let watcher: FSWatcher | undefined;
  /** File events are wanted (set once started). */
  let watching = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;
  let scanning: Promise<void> | undefined;
  let scanAgain = false;
  let revisionSeq = 0;

  /** One scan at a time; a request during a scan runs one more afterwards. */
  const requestScan = (): Promise<void> => {
    if (scanning) {
      scanAgain = true;
      return scanning;
    }
    scanning = (async () => {
      try {
        do {
          scanAgain = false;
          await scan();
        } while (scanAgain && !stopped);
      } finally {
        scanning = undefined;
      }
    })();
    return scanning;
  };

  const scanNow = (): void => {
    if (stopped) return;
    void requestScan().catch((err: unknown) => log.error({ dir, error: (err as Error).message }, 'scanning SECRETS_DIR failed'));
  };

  /** File events come in bursts (write, chmod, rename): one scan after the burst. */
  const scanSoon = (): void => {
    if (stopped) return;
    if (debounceTimer) clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => {
      debounceTimer = undefined;
      scanNow();
    }, debounceMs);
  };

  async function scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => MANIFEST_FILE.test(name) && !name.startsWith('.')).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (!synced) throw new Error(`cannot read SECRETS_DIR ${dir}: ${code}`);
      if (readError === undefined) log.warn({ dir, code }, 'cannot read SECRETS_DIR; keeping the last Secrets read');
      readError = `cannot read ${dir}: ${code}`;
      return;
    }
    if (readError !== undefined) {
      log.info({ dir }, 'SECRETS_DIR readable again');
      // A re-created directory is a new inode: the old watcher hears nothing from it.
      if (watching) startWatching();
    }
    readError = undefined;

    const present = new Set<string>();
    for (const name of names) {
      const file = join(dir, name);
      if (await refreshFile(file)) present.add(file);
    }
    for (const file of files.keys()) if (!present.has(file)) files.delete(file);
    if (stopped) return;
    publish();
  }

  /** Re-reads `file` when its stamp changed; false when it is gone or not a regular file. */
  async function refreshFile(file: string): Promise<boolean> {
    let info;
    try {
      info = await stat(file, { bigint: true });
    } catch {
      return false; // deleted between readdir and stat
    }
    if (!info.isFile()) return false;
    const stamp = `${info.mtimeNs}:${info.size}:${info.ino}`;
    if (files.get(file)?.stamp === stamp) return true;
    const state: FileState = { stamp, mtimeNs: info.mtimeNs, secrets: [] };
    files.set(file, state);
    if (info.size > BigInt(MAX_FILE_BYTES)) {
      log.warn({ file, bytes: Number(info.size) }, 'skipping Secret manifest file: larger than 1 MiB');
      return true;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      log.warn({ file, code: (err as NodeJS.ErrnoException).code }, 'skipping Secret manifest file: cannot read it');
      return true;
    }
    const result = parseSecretManifests(file, text);
    if (!result.ok) {
      // Once per version of the file: the stamp is remembered, so polling does not repeat it.
      log.warn({ file, problem: result.reason }, 'skipping Secret manifest file');
      return true;
    }
    state.secrets = result.secrets;
    return true;
  }

  /** Compares what the files say with what the sink has, and sends the differences. */
  function publish(): void {
    const desired = new Map<string, { secret: SecretObject; file: string; mtimeNs: bigint }>();
    for (const [file, state] of files) {
      for (const secret of state.secrets) {
        const key = `${secret.metadata?.namespace}/${secret.metadata?.name}`;
        const earlier = desired.get(key);
        if (earlier) {
          const warning = `${key}|${earlier.file}|${file}`;
          if (!warnedDuplicates.has(warning)) {
            warnedDuplicates.add(warning);
            log.warn({ secret: key, files: [earlier.file, file] }, 'Secret defined in two files; the later file wins');
          }
        }
        desired.set(key, { secret, file, mtimeNs: state.mtimeNs });
      }
    }

    const upserts: SecretObject[] = [];
    const deletes: string[] = [];
    for (const key of published.keys()) if (!desired.has(key)) deletes.push(key);
    for (const [key, { secret, file, mtimeNs }] of desired) {
      const content = JSON.stringify(secret);
      const old = published.get(key);
      if (old && old.content === content && old.file === file) continue;
      let resourceVersion = String(mtimeNs);
      if (old?.secret.metadata?.resourceVersion === resourceVersion) resourceVersion = `${mtimeNs}-${++revisionSeq}`;
      const stored: SecretObject = {
        ...secret,
        metadata: { ...secret.metadata, uid: syntheticUid(file, key), resourceVersion },
      };
      published.set(key, { secret: stored, content, file });
      upserts.push(stored);
    }
    for (const key of deletes) published.delete(key);

    if (!sink) return;
    if (!synced) {
      sink.replaceAll([...published.values()].map((p) => p.secret));
      synced = true;
      log.info({ dir, files: files.size, secrets: published.size }, 'read registry Secrets from SECRETS_DIR');
      return;
    }
    for (const key of deletes) {
      const slash = key.indexOf('/');
      sink.delete({ namespace: key.slice(0, slash), name: key.slice(slash + 1) });
    }
    for (const secret of upserts) sink.upsert(secret);
    if (deletes.length + upserts.length > 0) {
      log.info({ dir, changed: upserts.length, deleted: deletes.length }, 'registry Secrets in SECRETS_DIR changed');
    }
  }

  function startWatching(): void {
    if (options.fileEvents === false || stopped) return;
    watcher?.close();
    watcher = undefined;
    try {
      const current = watch(dir, { persistent: true }, scanSoon);
      current.on('error', (err: Error) => {
        log.info({ dir, error: err.message, pollIntervalMs }, 'file events for SECRETS_DIR stopped; polling only');
        current.close();
        if (watcher === current) watcher = undefined;
      });
      watcher = current;
    } catch (err) {
      log.info({ dir, error: (err as Error).message, pollIntervalMs }, 'no file events for SECRETS_DIR; polling only');
    }
  }

  return {
    kind: 'directory',

    async start(target) {
      if (sink) throw new Error('directory source already started');
      sink = target;
      await requestScan();
      if (stopped) return;
      watching = options.fileEvents !== false;
      startWatching();
      pollTimer = setInterval(scanNow, pollIntervalMs);
    },

    async stop() {
      stopped = true;
      if (debounceTimer) clearTimeout(debounceTimer);
      if (pollTimer) clearInterval(pollTimer);
      watcher?.close();
      watcher = undefined;
      await scanning?.catch(() => {});
    },

    readiness(): CheckResult {
      if (!synced) return { ok: false, reason: `SECRETS_DIR ${dir} not read yet` };
      if (readError !== undefined) return { ok: false, reason: readError };
      return { ok: true };
    },
  };
}

/** A stable, UUID-shaped id for the Secret `key` defined in `file`. Not derived from content. */
function syntheticUid(file: string, key: string): string {
  const hex = createHash('sha256').update(`${file}\0${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
