#!/usr/bin/env bash
# Builds the image's runtime layout without Docker and checks that it starts the way the image runs it:
#
#   /app/package.json, /app/package-lock.json   (COPY from the context)
#   /app/dist/                                  (tsc -p tsconfig.build.json, as the build stage does)
#   /app/node_modules/                          (npm ci --omit=dev, as the deps stage does)
#   ENTRYPOINT ["node", "dist/main.js"], USER 65532, read-only application files, writable CERT_DIR only
#
# Then: `node dist/main.js --help` exits 0, and the server starts (resolver, propagation and auth off: no
# cluster here), answers /healthz and /readyz on the probe port and TLS on the HTTPS port, and exits 0 on SIGTERM.
# Needs the npm registry (or a warm npm cache) for `npm ci --omit=dev`. Run from anywhere:
#
#   bash scripts/check-image-layout.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[check-image-layout] %s\n' "$*"; }
fail() { printf '[check-image-layout] FAIL: %s\n' "$*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rcw-image-layout.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
chmod 755 "$WORK"
APP="$WORK/app"
mkdir -p "$APP"

# ---- the files the Dockerfile copies -----------------------------------------------------------------
for f in package.json package-lock.json tsconfig.json tsconfig.build.json src/main.ts; do
  [[ -e "$f" ]] || fail "$f is missing (the Dockerfile copies it)"
done

log "dockerfile-utils lint Dockerfile"
lint_out="$(node node_modules/dockerfile-utils/bin/dockerfile-utils lint Dockerfile)"
[[ -z "$lint_out" ]] || fail "dockerfile-utils lint: $lint_out"

log "build stage: tsc -p tsconfig.build.json"
node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir "$APP/dist"
[[ -f "$APP/dist/main.js" ]] || fail "dist/main.js was not produced by tsc -p tsconfig.build.json"

log "deps stage: npm ci --omit=dev --ignore-scripts"
cp package.json package-lock.json "$APP/"
start=$SECONDS
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
log "npm ci --omit=dev took $((SECONDS - start)) s"

# Nothing that the lockfile marks dev-only may be installed (a devDependency that is also a production
# dependency's dependency, like @types/node, is not dev-only and may be there).
node -e '
  const fs = require("fs");
  const app = process.argv[1];
  const lock = JSON.parse(fs.readFileSync(app + "/package-lock.json", "utf8"));
  const devOnly = Object.entries(lock.packages).filter(([p, v]) => p && v.dev).map(([p]) => p);
  const present = devOnly.filter((p) => fs.existsSync(app + "/" + p));
  if (present.length) { console.error("dev-only packages in the production install: " + present.slice(0, 10).join(", ")); process.exit(1); }
  console.log("[check-image-layout] " + devOnly.length + " dev-only packages absent");
' "$APP" || fail "npm ci --omit=dev installed devDependencies"

# ---- run it like the image: uid 65532, application files read-only, HOME not writable -------------------
chmod -R a-w "$APP"
CERTS="$WORK/certs"   # the chart's writable CERT_DIR (an emptyDir)
mkdir -p "$CERTS"
RUN_AS=()
if [[ "$(id -u)" == "0" ]] && command -v setpriv >/dev/null 2>&1; then
  chown 65532:65532 "$CERTS"
  RUN_AS=(setpriv --reuid=65532 --regid=65532 --clear-groups --)
  log "running as uid 65532"
else
  log "not root (or no setpriv): running as uid $(id -u)"
fi
# The runtime image has node but no npm; PATH keeps only node's directory.
NODE_DIR="$(dirname "$(command -v node)")"
run_node() {
  (cd "$APP" && env -i PATH="$NODE_DIR" HOME=/nonexistent NODE_ENV=production "$@")
}

log "node dist/main.js --help"
help_out="$(run_node "${RUN_AS[@]}" node dist/main.js --help)" || fail "node dist/main.js --help exited non-zero"
grep -q 'Usage' <<<"$help_out" || fail "--help printed no usage: $help_out"

# Free ports on loopback.
read -r HTTPS_PORT PROBE_PORT < <(node -e '
  const net = require("net");
  const get = () => new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
  Promise.all([get(), get()]).then((p) => console.log(p.join(" ")));
')

log "starting the server (https :$HTTPS_PORT, probes :$PROBE_PORT)"
SERVER_LOG="$WORK/server.log"
(
  cd "$APP"
  exec env -i PATH="$NODE_DIR" HOME=/nonexistent NODE_ENV=production \
    HOST=127.0.0.1 PORT="$HTTPS_PORT" PROBE_PORT="$PROBE_PORT" CERT_DIR="$CERTS" \
    RESOLVER_SOURCE=off PROPAGATION=off AUTH=off SHUTDOWN_DELAY=0s SHUTDOWN_TIMEOUT=2s LOG_LEVEL=info \
    "${RUN_AS[@]}" node dist/main.js
) >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

probe() {
  node -e '
    const [url, want] = process.argv.slice(1);
    const deadline = Date.now() + 30000;
    const once = () => fetch(url).then((r) => r.status === Number(want) ? process.exit(0) : retry(), retry);
    const retry = () => Date.now() > deadline ? (console.error("no " + want + " from " + url), process.exit(1)) : setTimeout(once, 250);
    once();
  ' "$1" "$2"
}
probe "http://127.0.0.1:$PROBE_PORT/healthz" 200 || { cat "$SERVER_LOG" >&2; fail "/healthz did not answer 200"; }
probe "http://127.0.0.1:$PROBE_PORT/readyz" 200 || { cat "$SERVER_LOG" >&2; fail "/readyz did not answer 200"; }
node -e '
  const tls = require("tls");
  const s = tls.connect({ host: "127.0.0.1", port: Number(process.argv[1]), rejectUnauthorized: false }, () => {
    if (!s.getPeerCertificate().subject) process.exit(1);
    s.end(); process.exit(0);
  });
  s.on("error", (e) => { console.error(e.message); process.exit(1); });
  setTimeout(() => process.exit(1), 10000);
' "$HTTPS_PORT" || { cat "$SERVER_LOG" >&2; fail "no TLS on the HTTPS port"; }
[[ -f "$CERTS/tls.crt" || -n "$(ls -A "$CERTS")" ]] || log "note: the server kept its certificate in memory (CERT_DIR empty)"

log "SIGTERM"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 100); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$SERVER_PID" 2>/dev/null; then cat "$SERVER_LOG" >&2; fail "server still running 10 s after SIGTERM"; fi
set +e
wait "$SERVER_PID"
code=$?
set -e
SERVER_PID=""
[[ "$code" == "0" ]] || { cat "$SERVER_LOG" >&2; fail "server exited $code after SIGTERM"; }

log "image layout OK"
