import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/** File names in a certificate directory: those of a kubernetes.io/tls Secret (cert-manager adds ca.crt). */
export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';

/** Private keys are readable by their owner only. */
export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

/**
 * Writes to a temp file next to `path`, then renames it over `path`: a reader (the file
 * certificate provider) sees the old or the new content, never a partial file.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
