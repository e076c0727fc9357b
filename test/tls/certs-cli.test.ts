import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCertsArgs } from '../../src/cli/certs.js';
import { runCli } from '../../src/cli/run.js';
import { inspectKeyPair } from '../../src/tls/inspect.js';
import { DAY_MS, removeDir, tempDir } from './support.js';

describe('parseCertsArgs', () => {
  it('reads --out, comma lists and repeats of --dns/--ip, --days and --force, in both flag forms', () => {
    expect(parseCertsArgs(['--out', 'd', '--dns', 'a.example,b', '--dns=c', '--ip', '127.0.0.1,::1', '--days=30', '--force'])).toEqual({
      out: 'd',
      dnsNames: ['a.example', 'b', 'c'],
      ipAddresses: ['127.0.0.1', '::1'],
      days: 30,
      force: true,
    });
    expect(parseCertsArgs(['--out', 'd', '--ip', '10.0.0.1'])).toMatchObject({ dnsNames: [], days: 365, force: false });
    expect(parseCertsArgs(['--help'])).toBeUndefined();
  });

  it.each([
    [['--dns', 'a'], /--out DIR is required/],
    [['--out', 'd'], /at least one --dns name or --ip address/],
    [['--out', 'd', '--dns', 'Not_A_Name'], /"Not_A_Name" is not a lowercase DNS name/],
    [['--out', 'd', '--ip', '300.1.1.1'], /"300\.1\.1\.1" is not an IP address/],
    [['--out', 'd', '--dns', 'a', '--days', '0'], /--days must be an integer from 1 to 3650/],
    [['--out', 'd', '--dns', 'a', '--days', '1.5'], /--days must be an integer/],
    [['--out', 'd', '--dns'], /--dns needs a value/],
    [['--out', 'd', '--dns', 'a', '--color'], /unknown flag --color/],
    [['--out', 'd', '--dns', 'a', '--force=yes'], /--force takes no value/],
    [['--out', '--dns', 'a'], /--out needs a value/],
    [['--out', 'd', '--dns', 'a', 'extra'], /unexpected argument "extra"/],
  ])('refuses %j', (argv, error) => {
    expect(() => parseCertsArgs(argv)).toThrow(error);
  });
});

describe('registry-config-webhook certs', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['certs', ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };

  it('writes CA and serving pair for the given names, and prints the files and the caBundle', async () => {
    const parent = await tempDir();
    dirs.push(parent);
    const out = join(parent, 'out');
    const { code, stdout, stderr } = await run(['--out', out, '--dns', 'webhook.local,localhost', '--ip', '127.0.0.1', '--days', '30']);
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const read = (f: string) => readFile(join(out, f), 'utf8');
    const ca = await read('ca.crt');
    const result = inspectKeyPair({ cert: await read('tls.crt'), key: await read('tls.key') });
    expect(result).toMatchObject({ ok: true, dnsNames: ['webhook.local', 'localhost'], ipAddresses: ['127.0.0.1'] });
    if (result.ok) expect(Math.abs(result.notAfter.getTime() - Date.now() - 30 * DAY_MS)).toBeLessThan(60_000);
    expect(new X509Certificate(await read('tls.crt')).verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(inspectKeyPair({ cert: ca, key: await read('ca.key') }).ok).toBe(true);
    for (const f of ['ca.key', 'tls.key']) expect((await stat(join(out, f))).mode & 0o777).toBe(0o600);

    expect(stdout).toContain(`caBundle: ${Buffer.from(ca).toString('base64')}\n`);
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) expect(stdout).toContain(f);
    expect(stdout).toContain(out);
    expect(stdout).not.toMatch(/-----BEGIN/);

    // Existing files are not replaced without --force.
    const again = await run(['--out', out, '--dns', 'x']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^certs: .*ca\.crt exists; use --force to replace it\n$/);
    expect(await read('ca.crt')).toBe(ca);
    expect((await run(['--out', out, '--dns', 'x', '--force'])).code).toBe(0);
    expect(await read('ca.crt')).not.toBe(ca);
  });

  it('exits 2 with the reason and a hint on bad arguments, writing nothing', async () => {
    const parent = await tempDir();
    dirs.push(parent);
    const out = join(parent, 'out');
    const { code, stdout, stderr } = await run(['--out', out, '--ip', 'nope']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('registry-config-webhook certs: --ip: "nope" is not an IP address\nRun \'registry-config-webhook certs --help\' for usage.\n');
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });
});
