import { readFileSync } from 'node:fs';
import { AllowlistError, parseAllowlist } from '../credentials/address-policy.js';
import { DEFAULT_SYSTEM_NAMESPACE } from '../registry/labels.js';
import type { Command } from './command.js';
import { booleanFlag, type FlagSpec, HELP_FLAG, parseCommandLine, stringFlag, UsageError } from './flags.js';
import { type CredentialCheckOptions, EXIT_ALLOWED, EXIT_BAD_INPUT, EXIT_CREDENTIALS, EXIT_DENIED, readInput, runReview } from './review.js';

const OUTPUTS = ['text', 'json'] as const;

const FLAGS: readonly FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', value: OUTPUTS.join('|'), help: 'text for people, json for scripts', defaultText: 'text' },
  { name: 'show-secrets', type: 'boolean', help: 'show data values and the generated .dockerconfigjson instead of masking them' },
  { name: 'check-credentials', type: 'boolean', help: 'also log in to the registry as the server would (docker login), with its address rules' },
  { name: 'allow', type: 'string', value: 'CIDR,HOST,...', help: 'with --check-credentials: addresses a namespace-scoped config may reach', defaultText: '$CREDENTIAL_CHECK_ALLOW' },
  { name: 'ca-file', type: 'string', value: 'PEM', help: "with --check-credentials: trust this CA for the registry's certificate too" },
  { name: 'system-namespace', type: 'string', value: 'NS', help: 'with --check-credentials: the trusted system namespace', defaultText: `$SYSTEM_NAMESPACE or ${DEFAULT_SYSTEM_NAMESPACE}` },
  HELP_FLAG,
];

/** `registry-config-webhook review FILE|-`: the webhook's decision on one Secret, offline. */
export const reviewCommand: Command = {
  name: 'review',
  summary: "run the webhook's decision on a Secret manifest or an AdmissionReview, offline",
  usage: 'FILE|- [flags]',
  description: [
    'Reads an AdmissionReview (as the API server sends it) or a plain Secret manifest (JSON or YAML)',
    'from FILE, or from standard input with -, and prints what the webhook would decide: allowed or',
    'denied and why, warnings, the JSON patch, and the Secret as it would be stored. Values are masked',
    'unless --show-secrets is given. Nothing is sent anywhere.',
  ].join('\n'),
  flags: FLAGS,
  footer:
    `Exit codes: ${EXIT_ALLOWED} allowed, ${EXIT_DENIED} denied, ${EXIT_BAD_INPUT} bad input or bad command line, ` +
    `${EXIT_CREDENTIALS} allowed but the registry rejected the login or was unreachable (--check-credentials).`,
  async run(argv, io) {
    const parsed = parseCommandLine(argv, FLAGS);
    const output = stringFlag(parsed, 'output') ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be ${OUTPUTS.join(' or ')}, got "${output}"`);
    if (parsed.positionals.length !== 1) {
      throw new UsageError(parsed.positionals.length === 0 ? 'give a FILE, or - for standard input' : `one FILE only, got ${parsed.positionals.length}`);
    }
    const file = parsed.positionals[0] as string;
    let input: string;
    try {
      input = readInput(file);
    } catch (err) {
      io.stderr(`review: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}\n`);
      return EXIT_BAD_INPUT;
    }
    let checkCredentials: CredentialCheckOptions | undefined;
    if (booleanFlag(parsed, 'check-credentials')) {
      const check = credentialCheckOptions(parsed, io);
      if (check === undefined) return EXIT_BAD_INPUT;
      checkCredentials = check;
    }
    const result = await runReview(input, { showSecrets: booleanFlag(parsed, 'show-secrets'), output, ...(checkCredentials ? { checkCredentials } : {}) });
    io.stdout(result.stdout);
    io.stderr(result.stderr);
    return result.exitCode;
  },
};

function credentialCheckOptions(parsed: ReturnType<typeof parseCommandLine>, io: { stderr(text: string): void }): CredentialCheckOptions | undefined {
  const entries = (stringFlag(parsed, 'allow') ?? process.env.CREDENTIAL_CHECK_ALLOW ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    parseAllowlist(entries);
  } catch (err) {
    if (!(err instanceof AllowlistError)) throw err;
    throw new UsageError(`--allow: ${err.message}`);
  }
  const caFile = stringFlag(parsed, 'ca-file');
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      io.stderr(`review: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}\n`);
      return undefined;
    }
  }
  const systemNamespace = stringFlag(parsed, 'system-namespace') ?? (process.env.SYSTEM_NAMESPACE || DEFAULT_SYSTEM_NAMESPACE);
  return { systemNamespace, allow: entries, ...(ca !== undefined ? { ca } : {}) };
}
