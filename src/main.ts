#!/usr/bin/env node
/**
 * The server's entry point, what `npm start` and the container image run: the same as
 * `registry-config-webhook serve` with the given flags.
 */
import { runCli } from './cli/run.js';

process.exitCode = await runCli(['serve', ...process.argv.slice(2)], {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
