# registry-config-webhook: build with npm ci + tsc, run on Node 24 LTS with production dependencies only.
#
#   docker build -t registry-config-webhook .
#   docker run --rm --read-only --tmpfs /tmp -p 8443:8443 -p 9090:9090 registry-config-webhook
#
# The runtime stage writes nothing to its root filesystem: CERT_DIR points below /tmp (an emptyDir or
# tmpfs in practice; the Helm chart mounts its own certificate directory and sets CERT_DIR).

# ---- build: all dependencies, TypeScript compiled into dist/ -------------------------------------------
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only -------------------------------------------------------------
FROM node:24.11.1-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------------
FROM node:24.11.1-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="registry-config-webhook" \
      org.opencontainers.image.description="Mutating admission webhook and resolver for Kyma serverless registry-config Secrets" \
      org.opencontainers.image.licenses="Apache-2.0"
# The server runs as node, not through npm: npm, npx, corepack and yarn are not needed at run time.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-*
ENV NODE_ENV=production \
    CERT_DIR=/tmp/certs
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
# Non-root, numeric so that runAsNonRoot can verify it (65532: the conventional "nonroot" uid).
USER 65532:65532
# 8443: HTTPS (admission reviews, resolver API); 9090: HTTP (/healthz, /readyz, /metrics).
EXPOSE 8443 9090
ENTRYPOINT ["node", "dist/main.js"]
