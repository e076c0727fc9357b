#!/usr/bin/env node
/**
 * The package's command: `registry-config-webhook review FILE|- [--show-secrets] [--output json]`
 * runs the webhook's decision offline; without a subcommand it starts the server.
 */
import { readFileSync } from 'node:fs';
import { AllowlistError, parseAllowlist } from '../credentials/address-policy.js';
import { DEFAULT_SYSTEM_NAMESPACE } from '../registry/labels.js';
import { EXIT_BAD_INPUT, readInput, runReview, type CredentialCheckOptions } from './review.js';

const USAGE =
  'usage: registry-config-webhook review FILE|- [--show-secrets] [--output text|json]\n' +
  '         [--check-credentials [--allow CIDR,HOST,...] [--ca-file PEM] [--system-namespace NS]]';

async function review(args: string[]): Promise<number> {
  let file: string | undefined;
  let showSecrets = false;
  let output: 'text' | 'json' = 'text';
  let checkCredentials = false;
  let allow = process.env.CREDENTIAL_CHECK_ALLOW ?? '';
  let caFile: string | undefined;
  let systemNamespace = process.env.SYSTEM_NAMESPACE || DEFAULT_SYSTEM_NAMESPACE;
  const valueOf = (name: string, value: string | undefined): string | undefined => {
    if (value === undefined || value.startsWith('--')) process.stderr.write(`review: ${name} needs a value\n${USAGE}\n`);
    return value === undefined || value.startsWith('--') ? undefined : value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--show-secrets') showSecrets = true;
    else if (arg === '--check-credentials') checkCredentials = true;
    else if (arg === '--allow' || arg === '--ca-file' || arg === '--system-namespace') {
      const value = valueOf(arg, args[++i]);
      if (value === undefined) return EXIT_BAD_INPUT;
      if (arg === '--allow') allow = value;
      else if (arg === '--ca-file') caFile = value;
      else systemNamespace = value;
    }
    else if (arg === '--output' || arg === '-o') {
      const value = args[++i];
      if (value !== 'text' && value !== 'json') {
        process.stderr.write(`review: --output must be text or json\n${USAGE}\n`);
        return EXIT_BAD_INPUT;
      }
      output = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\nExit code: 0 allowed, 1 denied, 2 bad input, 3 allowed but the registry rejected the login or was unreachable (--check-credentials).\n`);
      return 0;
    } else if (file === undefined && (arg === '-' || !arg.startsWith('-'))) file = arg;
    else {
      process.stderr.write(`review: unexpected argument ${arg}\n${USAGE}\n`);
      return EXIT_BAD_INPUT;
    }
  }
  if (file === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_BAD_INPUT;
  }
  let input: string;
  try {
    input = readInput(file);
  } catch (err) {
    process.stderr.write(`review: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}\n`);
    return EXIT_BAD_INPUT;
  }
  let check: CredentialCheckOptions | undefined;
  if (checkCredentials) {
    const entries = allow.split(',').map((e) => e.trim()).filter((e) => e !== '');
    try {
      parseAllowlist(entries);
    } catch (err) {
      if (!(err instanceof AllowlistError)) throw err;
      process.stderr.write(`review: --allow: ${err.message}\n`);
      return EXIT_BAD_INPUT;
    }
    let ca: string | undefined;
    if (caFile !== undefined) {
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (err) {
        process.stderr.write(`review: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}\n`);
        return EXIT_BAD_INPUT;
      }
    }
    check = { systemNamespace, allow: entries, ...(ca !== undefined ? { ca } : {}) };
  }
  const result = await runReview(input, { showSecrets, output, ...(check ? { checkCredentials: check } : {}) });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.exitCode;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'review') {
  process.exitCode = await review(rest);
} else {
  await import('../main.js');
}
