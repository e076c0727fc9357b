import type { Command } from './command.js';
import { booleanFlag, type FlagSpec, HELP_FLAG, parseCommandLine, stringFlag, UsageError } from './flags.js';
import { EXIT_ALLOWED, EXIT_BAD_INPUT, EXIT_DENIED, readInput, runReview } from './review.js';

const OUTPUTS = ['text', 'json'] as const;

const FLAGS: readonly FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', value: OUTPUTS.join('|'), help: 'text for people, json for scripts', defaultText: 'text' },
  { name: 'show-secrets', type: 'boolean', help: 'show data values and the generated .dockerconfigjson instead of masking them' },
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
  footer: `Exit codes: ${EXIT_ALLOWED} allowed, ${EXIT_DENIED} denied, ${EXIT_BAD_INPUT} bad input or bad command line.`,
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
    const result = await runReview(input, { showSecrets: booleanFlag(parsed, 'show-secrets'), output });
    io.stdout(result.stdout);
    io.stderr(result.stderr);
    return result.exitCode;
  },
};
