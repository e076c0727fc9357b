#!/usr/bin/env node
/**
 * The package's command: `registry-config-webhook review FILE|- [--show-secrets] [--output json]`
 * runs the webhook's decision offline; without a subcommand it starts the server.
 */
import { EXIT_BAD_INPUT, readInput, runReview } from './review.js';

const USAGE = 'usage: registry-config-webhook review FILE|- [--show-secrets] [--output text|json]';

async function review(args: string[]): Promise<number> {
  let file: string | undefined;
  let showSecrets = false;
  let output: 'text' | 'json' = 'text';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--show-secrets') showSecrets = true;
    else if (arg === '--output' || arg === '-o') {
      const value = args[++i];
      if (value !== 'text' && value !== 'json') {
        process.stderr.write(`review: --output must be text or json\n${USAGE}\n`);
        return EXIT_BAD_INPUT;
      }
      output = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\nExit code: 0 allowed, 1 denied, 2 bad input.\n`);
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
  const result = await runReview(input, { showSecrets, output });
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
