#!/usr/bin/env node
/**
 * The package's command (`bin`): `registry-config-webhook <command> [flags]` with the commands
 * serve, review, certs, version and help. See docs/cli.md.
 */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
