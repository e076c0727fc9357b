import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandHelp } from '../../src/cli/command.js';
import { serveCommand } from '../../src/cli/serve.js';
import { OPTIONS, parseConfig } from '../../src/config/config.js';
import { OptionError } from '../../src/config/options.js';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

const machine = { hostname: 'pod-1', serviceAccountNamespace: undefined };

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = parseConfig([], {}, machine);
    expect(config).toMatchObject({
      port: 8443,
      host: '0.0.0.0',
      certDir: './certs',
      probePort: 9090,
      logLevel: 'info',
      logFormat: 'json',
      systemNamespace: 'kyma-system',
      resyncPeriodMs: 5 * 60_000,
      authCacheTtlMs: 10_000,
      shutdownDelayMs: 5000,
      podName: 'pod-1',
      podNamespace: 'default',
      certValidityMs: 90 * 86_400_000,
      caValidityMs: 10 * 365 * 86_400_000,
    });
  });

  it('takes environment variables, and flags over them', () => {
    expect(parseConfig([], { PORT: '9443' }, machine).port).toBe(9443);
    expect(parseConfig(['--port', '10443'], { PORT: '9443' }, machine).port).toBe(10443);
    expect(parseConfig(['--log-level=debug'], {}, machine).logLevel).toBe('debug');
    expect(parseConfig([], { AUTH_AUDIENCES: 'registry-config-webhook, other' }, machine).authAudiences).toEqual(['registry-config-webhook', 'other']);
    expect(parseConfig([], {}, machine).authAudiences).toBeUndefined();
    expect(parseConfig([], { CERT_SECRET: 'kyma-system/webhook-certs', WEBHOOK_CONFIG: 'registry-config' }, machine).certSecret).toEqual({ namespace: 'kyma-system', name: 'webhook-certs' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PROBE_PORT: '-1' }, 'PROBE_PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ RESYNC_PERIOD: 'often' }, 'RESYNC_PERIOD'],
    [{ CERT_SECRET: 'no-slash', WEBHOOK_CONFIG: 'x' }, 'CERT_SECRET'],
    [{ CERT_SECRET: 'a/b' }, 'CERT_SECRET'],
    [{ LEASE_DURATION: '5s', LEASE_RENEW_DEADLINE: '10s' }, 'LEASE_RENEW_DEADLINE'],
    [{ LEASE_RETRY_PERIOD: '12s' }, 'LEASE_RETRY_PERIOD'],
    [{ PROPAGATION_EXCLUDE: 'name in (a,b' }, 'PROPAGATION_EXCLUDE'],
    [{ AUTH_AUDIENCES: ' , ' }, 'AUTH_AUDIENCES'],
    [{ CREDENTIAL_CHECK: 'maybe' }, 'CREDENTIAL_CHECK'],
    [{ CREDENTIAL_CHECK_INTERVAL: '1s' }, 'CREDENTIAL_CHECK_INTERVAL'],
    [{ CREDENTIAL_CHECK_ALLOW: '10.0.0.0/8, http://registry' }, 'CREDENTIAL_CHECK_ALLOW'],
  ])('stops with one line naming the variable for %j', (env, name) => {
    let error: unknown;
    try {
      parseConfig([], env, machine);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OptionError);
    const message = (error as Error).message;
    expect(message).toContain(name);
    expect(message).not.toContain('\n');
  });

  it('reads the review budget and the client CA file, and refuses a budget that is not a positive integer', () => {
    const config = parseConfig(['--auth-reviews-in-flight', '3'], { AUTH_REVIEWS_PER_SECOND: '7', WEBHOOK_CLIENT_CA: '/etc/client-ca/ca.crt' }, machine);
    expect([config.authReviewsPerSecond, config.authReviewsInFlight, config.webhookClientCa]).toEqual([7, 3, '/etc/client-ca/ca.crt']);
    expect(parseConfig([], {}, machine)).toMatchObject({ authReviewsPerSecond: 20, authReviewsInFlight: 10, webhookClientCa: undefined });
    expect(() => parseConfig([], { AUTH_REVIEWS_PER_SECOND: '0' }, machine)).toThrow(/invalid AUTH_REVIEWS_PER_SECOND \(--auth-reviews-per-second\) "0": must be an integer between 1 and 10000/);
    expect(() => parseConfig([], { AUTH_REVIEWS_IN_FLIGHT: 'many' }, machine)).toThrow(/invalid AUTH_REVIEWS_IN_FLIGHT/);
  });

  it('reads the credential check settings: auto every 10m with no allowlist by default', () => {
    expect(parseConfig([], {}, machine)).toMatchObject({ credentialCheck: 'auto', credentialCheckIntervalMs: 600_000, credentialCheckAllow: [] });
    const config = parseConfig(['--credential-check', 'off'], { CREDENTIAL_CHECK_INTERVAL: '1h', CREDENTIAL_CHECK_ALLOW: '10.20.0.0/16, registry.corp, *.corp.example' }, machine);
    expect(config).toMatchObject({ credentialCheck: 'off', credentialCheckIntervalMs: 3_600_000, credentialCheckAllow: ['10.20.0.0/16', 'registry.corp', '*.corp.example'] });
  });

  it('rejects unknown flags by name', () => {
    expect(() => parseConfig(['--prot', '1'], {}, machine)).toThrow(/unknown option --prot/);
  });

  it('--help and docs/configuration.md show every option', () => {
    const help = commandHelp(serveCommand);
    const reference = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const spec of Object.values(OPTIONS)) {
      expect(help).toContain(spec.env);
      expect(help).toContain(spec.flag);
      expect(reference, `docs/configuration.md documents ${spec.env}`).toContain(`\`${spec.env}\``);
    }
  });

  it('bounds propagation writes: concurrency 1-1000 (default 16), an optional writes-per-second ceiling (default 0: none)', () => {
    expect(parseConfig([], {}, machine)).toMatchObject({ propagationConcurrency: 16, propagationWritesPerSecond: 0 });
    expect(parseConfig(['--propagation-concurrency', '64'], { PROPAGATION_WRITES_PER_SECOND: '200' }, machine)).toMatchObject({
      propagationConcurrency: 64,
      propagationWritesPerSecond: 200,
    });
    expect(() => parseConfig([], { PROPAGATION_CONCURRENCY: '0' }, machine)).toThrow(
      'invalid PROPAGATION_CONCURRENCY (--propagation-concurrency) "0": must be an integer between 1 and 1000',
    );
    expect(() => parseConfig([], { PROPAGATION_WRITES_PER_SECOND: '-5' }, machine)).toThrow(/invalid PROPAGATION_WRITES_PER_SECOND .*must be an integer between 0 and 100000/);
    expect(() => parseConfig([], { PROPAGATION_WRITES_PER_SECOND: '2.5' }, machine)).toThrow(OptionError);
  });

  it('parses durations as operators write them', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('10y')).toBe(10 * 365 * 86_400_000);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('5 m')).toBeUndefined();
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});

describe('limits of the HTTPS port and shutdown', () => {
  const machine = { hostname: 'test', serviceAccountNamespace: undefined };

  it('defaults: 5 s headers, 10 s request, 1000 connections, 32 MiB of bodies', () => {
    const config = parseConfig([], {}, machine);
    expect([config.headersTimeoutMs, config.requestTimeoutMs, config.maxConnections, config.bodyBudgetBytes]).toEqual([5000, 10_000, 1000, 32 * 1024 * 1024]);
  });

  it('reads sizes as Kubernetes writes them', () => {
    expect(parseConfig([], { BODY_BUDGET: '64Mi' }, machine).bodyBudgetBytes).toBe(64 * 1024 * 1024);
    expect(parseConfig([], { BODY_BUDGET: '20480Ki' }, machine).bodyBudgetBytes).toBe(20 * 1024 * 1024);
    expect(() => parseConfig([], { BODY_BUDGET: '1Mi' }, machine)).toThrow(/BODY_BUDGET.*between 10Mi and 4096Mi/);
    expect(() => parseConfig([], { BODY_BUDGET: '32MB' }, machine)).toThrow(/BODY_BUDGET.*must be a size/);
  });

  it('refuses headers that may take longer than the whole request', () => {
    expect(() => parseConfig([], { HEADERS_TIMEOUT: '20s', REQUEST_TIMEOUT: '10s' }, machine)).toThrow(/HEADERS_TIMEOUT: must not be longer than REQUEST_TIMEOUT/);
  });

  it('bounds SHUTDOWN_DELAY (2 min) and SHUTDOWN_TIMEOUT (5 min)', () => {
    expect(parseConfig([], { SHUTDOWN_DELAY: '2m', SHUTDOWN_TIMEOUT: '5m' }, machine).shutdownTimeoutMs).toBe(300_000);
    expect(() => parseConfig([], { SHUTDOWN_DELAY: '10m' }, machine)).toThrow(/SHUTDOWN_DELAY.*at most 2m/);
    expect(() => parseConfig([], { SHUTDOWN_TIMEOUT: '1h' }, machine)).toThrow(/SHUTDOWN_TIMEOUT.*at most 5m/);
  });
});
