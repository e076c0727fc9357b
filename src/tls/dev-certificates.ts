import { X509Certificate } from 'node:crypto';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { CA_CERT_FILE, CA_KEY_FILE, CERT_FILE, CERT_FILE_MODE, KEY_FILE, KEY_FILE_MODE, writeFileAtomic } from './cert-files.js';
import { type CertificateAuthority, createCertificateAuthority, createServingCertificate } from './generate.js';
import { inspectKeyPair, keyIdentifiersOf } from './inspect.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEV_CA_VALIDITY_MS = 10 * 365 * DAY_MS;
export const DEV_CERT_VALIDITY_MS = 365 * DAY_MS;
export const DEV_CA_COMMON_NAME = 'registry-config-webhook development CA';
/** Always in a development serving certificate, besides the names asked for. */
export const LOCAL_DNS_NAMES = ['localhost'] as const;
export const LOCAL_IP_ADDRESSES = ['127.0.0.1', '::1'] as const;

/** The names a Service is reached by from inside the cluster, short to fully qualified. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export interface DevCertificateOptions {
  /** Names for the serving certificate; localhost, 127.0.0.1 and ::1 are always added. */
  dnsNames: readonly string[];
  log: Logger;
  now?: Date;
}

/**
 * Makes `certDir` servable for local runs: when it holds neither tls.crt nor tls.key, writes a
 * development CA (ca.crt, ca.key; an existing valid one is reused so clients keep trusting it) and
 * a serving pair signed by it. Anything already there is left alone. Returns whether it generated.
 */
export async function ensureDevCertificates(certDir: string, options: DevCertificateOptions): Promise<boolean> {
  const [hasCert, hasKey] = await Promise.all([entryExists(join(certDir, CERT_FILE)), entryExists(join(certDir, KEY_FILE))]);
  // Half a pair is somebody's (or a Secret volume's) content: the certificate provider reports it.
  if (hasCert || hasKey) return false;

  const caFile = join(certDir, CA_CERT_FILE);
  try {
    await mkdir(certDir, { recursive: true, mode: 0o700 });
    const now = options.now ?? new Date();
    let ca = await reusableCa(certDir, now);
    if (!ca) {
      ca = await createCertificateAuthority({ commonName: DEV_CA_COMMON_NAME, validityMs: DEV_CA_VALIDITY_MS, now });
      await writeFileAtomic(join(certDir, CA_KEY_FILE), ca.key, KEY_FILE_MODE);
      await writeFileAtomic(caFile, ca.cert, CERT_FILE_MODE);
    }
    const pair = await createServingCertificate({
      ca,
      dnsNames: [...LOCAL_DNS_NAMES, ...options.dnsNames],
      ipAddresses: LOCAL_IP_ADDRESSES,
      validityMs: DEV_CERT_VALIDITY_MS,
      now,
    });
    // Key first: a provider already watching sees a mismatch (refused) rather than a new cert with the old key.
    await writeFileAtomic(join(certDir, KEY_FILE), pair.key, KEY_FILE_MODE);
    await writeFileAtomic(join(certDir, CERT_FILE), pair.cert, CERT_FILE_MODE);
  } catch (err) {
    throw new Error(`cannot create development certificates in ${certDir}: ${(err as Error).message}`);
  }
  options.log.info(
    { certDir, caFile },
    `no certificate in ${certDir}: generated a development CA and serving certificate; clients must trust ${caFile}`,
  );
  return true;
}

/**
 * The CA already in `certDir` when it is complete and valid, so a CA clients trust is kept; not
 * one an older version made without a Subject Key Identifier, which strict clients refuse.
 */
async function reusableCa(certDir: string, now: Date): Promise<CertificateAuthority | undefined> {
  try {
    const ca = { cert: await readFile(join(certDir, CA_CERT_FILE), 'utf8'), key: await readFile(join(certDir, CA_KEY_FILE), 'utf8') };
    return inspectKeyPair(ca, now).ok && new X509Certificate(ca.cert).ca && keyIdentifiersOf(ca.cert).subject ? ca : undefined;
  } catch {
    return undefined;
  }
}

/** lstat: a dangling symlink counts as present (it is somebody's layout, not ours to replace). */
async function entryExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
