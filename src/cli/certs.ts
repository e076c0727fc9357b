import { realpathSync } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CA_CERT_FILE, CA_KEY_FILE, CERT_FILE, CERT_FILE_MODE, KEY_FILE, KEY_FILE_MODE, writeFileAtomic } from '../tls/cert-files.js';
import { createCertificateAuthority, createServingCertificate, isDnsName } from '../tls/generate.js';
import { inspectKeyPair } from '../tls/inspect.js';

/**
 * `npm run certs -- --out DIR --dns name,name --ip 127.0.0.1 [--days N] [--force]`: a CA and a
 * serving pair for registering the webhook by hand (clientConfig.url + caBundle).
 */

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DAYS = 365;
export const MAX_DAYS = 3650;
const CA_VALIDITY_DAYS = 3650;
const CA_COMMON_NAME = 'registry-config-webhook CA';

export const USAGE = `Usage: npm run certs -- --out DIR [--dns NAME[,NAME...]] [--ip ADDRESS[,ADDRESS...]] [--days N] [--force]

Writes ca.crt, ca.key, tls.crt and tls.key to DIR: a CA and a serving certificate it signed for
the given DNS names and IP addresses (at least one), valid N days (default ${DEFAULT_DAYS}, at most ${MAX_DAYS}).
--dns and --ip may be repeated. Existing files are only replaced with --force.`;

export interface CertsArgs {
  out: string;
  dnsNames: string[];
  ipAddresses: string[];
  days: number;
  force: boolean;
}

/** Bad command line (or refusing to overwrite): exit code 2. */
export class CertsUsageError extends Error {
  override readonly name = 'CertsUsageError';
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** `--name value` and `--name=value`; `--help` yields undefined. */
export function parseCertsArgs(argv: readonly string[]): CertsArgs | undefined {
  let out: string | undefined;
  let days = DEFAULT_DAYS;
  let force = false;
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return undefined;
    if (arg === '--force') {
      force = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!['--out', '--dns', '--ip', '--days'].includes(name)) throw new CertsUsageError(`unknown argument "${arg}"`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined || value === '') throw new CertsUsageError(`${name} needs a value`);
    if (name === '--out') out = value;
    else if (name === '--days') days = parseDays(value);
    else if (name === '--dns') dnsNames.push(...list(value).map(checkDnsName));
    else ipAddresses.push(...list(value).map(checkIp));
  }
  if (out === undefined) throw new CertsUsageError('--out DIR is required');
  if (dnsNames.length === 0 && ipAddresses.length === 0) throw new CertsUsageError('give at least one --dns name or --ip address');
  return { out, dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)], days, force };
}

export interface WrittenCertificates {
  dir: string;
  files: { caCert: string; caKey: string; cert: string; key: string };
  /** ca.crt base64-encoded: the value for clientConfig.caBundle. */
  caBundle: string;
  notAfter: Date;
}

/** Generates the CA and the serving pair and writes them to `args.out` (keys mode 0600). */
export async function writeCertificates(args: CertsArgs, now: Date = new Date()): Promise<WrittenCertificates> {
  const dir = resolve(args.out);
  const files = { caCert: join(dir, CA_CERT_FILE), caKey: join(dir, CA_KEY_FILE), cert: join(dir, CERT_FILE), key: join(dir, KEY_FILE) };
  if (!args.force) {
    for (const file of Object.values(files)) {
      if (await exists(file)) throw new CertsUsageError(`${file} exists; use --force to replace it`, false);
    }
  }
  const ca = await createCertificateAuthority({ commonName: CA_COMMON_NAME, validityMs: Math.max(CA_VALIDITY_DAYS, args.days) * DAY_MS, now });
  const pair = await createServingCertificate({ ca, dnsNames: args.dnsNames, ipAddresses: args.ipAddresses, validityMs: args.days * DAY_MS, now });
  const inspection = inspectKeyPair(pair, now);
  if (!inspection.ok) throw new Error(`generated an unusable certificate: ${inspection.error}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(files.caKey, ca.key, KEY_FILE_MODE);
  await writeFileAtomic(files.caCert, ca.cert, CERT_FILE_MODE);
  await writeFileAtomic(files.key, pair.key, KEY_FILE_MODE);
  await writeFileAtomic(files.cert, pair.cert, CERT_FILE_MODE);
  return { dir, files, caBundle: Buffer.from(ca.cert, 'utf8').toString('base64'), notAfter: inspection.notAfter };
}

export function describeWritten(written: WrittenCertificates, args: CertsArgs): string {
  const names = [...args.dnsNames.map((n) => `DNS:${n}`), ...args.ipAddresses.map((ip) => `IP:${ip}`)].join(', ');
  return [
    `Wrote to ${written.dir}:`,
    `  ${CA_CERT_FILE}   CA certificate: what clients (the API server) must trust`,
    `  ${CA_KEY_FILE}   CA private key: keep it secret, or delete it if you will not sign more certificates`,
    `  ${CERT_FILE}  serving certificate for ${names}, valid until ${written.notAfter.toISOString()}`,
    `  ${KEY_FILE}  serving private key`,
    '',
    `Run the webhook with CERT_DIR=${written.dir}. In the MutatingWebhookConfiguration, clientConfig.url`,
    'must use one of the names above; paste this next to it:',
    `    caBundle: ${written.caBundle}`,
    '',
    `(The caBundle is: base64 -w0 < ${written.files.caCert})`,
    '',
  ].join('\n');
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad arguments). */
export async function runCertsCli(argv: readonly string[], io: { stdout: (text: string) => void; stderr: (text: string) => void }): Promise<number> {
  try {
    const args = parseCertsArgs(argv);
    if (!args) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const written = await writeCertificates(args);
    io.stdout(describeWritten(written, args));
    return 0;
  } catch (err) {
    if (err instanceof CertsUsageError) {
      io.stderr(err.showUsage ? `certs: ${err.message}\n\n${USAGE}\n` : `certs: ${err.message}\n`);
      return 2;
    }
    io.stderr(`certs: ${(err as Error).message}\n`);
    return 1;
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1 || days > MAX_DAYS) throw new CertsUsageError(`--days must be an integer from 1 to ${MAX_DAYS}, got "${value}"`);
  return days;
}

function checkDnsName(name: string): string {
  if (!isDnsName(name)) {
    throw new CertsUsageError(`--dns: "${name}" is not a lowercase DNS name`);
  }
  return name;
}

function checkIp(ip: string): string {
  if (isIP(ip) === 0) throw new CertsUsageError(`--ip: "${ip}" is not an IP address`);
  return ip;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await runCertsCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
