import { lstat, mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { CA_CERT_FILE, CA_KEY_FILE, CERT_FILE, CERT_FILE_MODE, KEY_FILE, KEY_FILE_MODE, writeFileAtomic } from '../tls/cert-files.js';
import { createCertificateAuthority, createServingCertificate, isDnsName } from '../tls/generate.js';
import { inspectKeyPair } from '../tls/inspect.js';
import type { Command } from './command.js';
import { booleanFlag, type FlagSpec, HELP_FLAG, parseCommandLine, stringFlag, stringsFlag, UsageError } from './flags.js';

/**
 * `registry-config-webhook certs --out DIR --dns name,name --ip 127.0.0.1 [--days N] [--force]`
 * (also `npm run certs -- ...`): a CA and a serving pair for registering the webhook by hand
 * (clientConfig.url + caBundle).
 */

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DAYS = 365;
export const MAX_DAYS = 3650;
const CA_VALIDITY_DAYS = 3650;
const CA_COMMON_NAME = 'registry-config-webhook CA';

const FLAGS: readonly FlagSpec[] = [
  { name: 'out', type: 'string', value: 'DIR', help: 'directory to write ca.crt, ca.key, tls.crt and tls.key to (required)' },
  { name: 'dns', type: 'string', multiple: true, value: 'NAME[,NAME...]', help: 'DNS names of the serving certificate' },
  { name: 'ip', type: 'string', multiple: true, value: 'ADDRESS[,ADDRESS...]', help: 'IP addresses of the serving certificate' },
  { name: 'days', type: 'string', value: 'N', help: `validity of the serving certificate in days, 1 to ${MAX_DAYS}`, defaultText: String(DEFAULT_DAYS) },
  { name: 'force', type: 'boolean', help: 'replace files that exist' },
  HELP_FLAG,
];

export interface CertsArgs {
  out: string;
  dnsNames: string[];
  ipAddresses: string[];
  days: number;
  force: boolean;
}

/** Refusing to overwrite: exit code 2, without the usage hint. */
export class FilesExistError extends Error {
  override readonly name = 'FilesExistError';
}

/** The arguments of `certs`; bad ones are a UsageError. `--help` yields undefined. */
export function parseCertsArgs(argv: readonly string[]): CertsArgs | undefined {
  const parsed = parseCommandLine(argv, FLAGS);
  if (booleanFlag(parsed, 'help')) return undefined;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const out = stringFlag(parsed, 'out');
  if (out === undefined) throw new UsageError('--out DIR is required');
  const dnsNames = stringsFlag(parsed, 'dns').flatMap(list).map(checkDnsName);
  const ipAddresses = stringsFlag(parsed, 'ip').flatMap(list).map(checkIp);
  if (dnsNames.length === 0 && ipAddresses.length === 0) throw new UsageError('give at least one --dns name or --ip address');
  const daysText = stringFlag(parsed, 'days');
  const days = daysText === undefined ? DEFAULT_DAYS : parseDays(daysText);
  return { out, dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)], days, force: booleanFlag(parsed, 'force') };
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
      if (await exists(file)) throw new FilesExistError(`${file} exists; use --force to replace it`);
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

export const certsCommand: Command = {
  name: 'certs',
  summary: 'write a CA and a serving certificate for registering the webhook by hand',
  usage: '--out DIR (--dns NAME | --ip ADDRESS)... [flags]',
  description: [
    'Writes ca.crt, ca.key, tls.crt and tls.key to DIR: a CA and a serving certificate it signed for',
    `the given DNS names and IP addresses (at least one), valid --days days (the CA ${CA_VALIDITY_DAYS} days, or`,
    'longer if --days is). Keys are PKCS#8 PEM, mode 0600. Prints the caBundle for the',
    'MutatingWebhookConfiguration. Existing files are only replaced with --force.',
  ].join('\n'),
  flags: FLAGS,
  footer: 'Exit codes: 0 written, 1 failure, 2 bad command line or files exist.',
  async run(argv, io) {
    const args = parseCertsArgs(argv);
    if (!args) return 0;
    try {
      const written = await writeCertificates(args);
      io.stdout(describeWritten(written, args));
      return 0;
    } catch (err) {
      io.stderr(`certs: ${(err as Error).message}\n`);
      return err instanceof FilesExistError ? 2 : 1;
    }
  },
};

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1 || days > MAX_DAYS) throw new UsageError(`--days must be an integer from 1 to ${MAX_DAYS}, got "${value}"`);
  return days;
}

function checkDnsName(name: string): string {
  if (!isDnsName(name)) {
    throw new UsageError(`--dns: "${name}" is not a lowercase DNS name`);
  }
  return name;
}

function checkIp(ip: string): string {
  if (isIP(ip) === 0) throw new UsageError(`--ip: "${ip}" is not an IP address`);
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
