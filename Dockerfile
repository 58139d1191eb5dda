# syntax=docker/dockerfile:1
# 3cx-gateway: multi-stage build on the current Node LTS (slim Debian).

# --- build: compile TypeScript with the dev dependencies (and native addons with the build tools)
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
COPY openapi ./openapi
COPY bench ./bench
COPY public ./public
RUN npm run build && npm prune --omit=dev

# --- runtime: production dependencies and the compiled output only, no build tools
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data \
    MP3_DIR=/data/mp3
WORKDIR /app
RUN groupadd --system gateway && useradd --system --gid gateway --home-dir /app --shell /usr/sbin/nologin gateway \
  && mkdir -p /data/mp3 && chown -R gateway:gateway /data
COPY --from=build --chown=gateway:gateway /app/package.json ./package.json
COPY --from=build --chown=gateway:gateway /app/node_modules ./node_modules
COPY --from=build --chown=gateway:gateway /app/dist ./dist
# The admin console's static page (/console), found next to dist/.
COPY --chown=gateway:gateway public ./public
USER gateway
VOLUME ["/data"]
EXPOSE 8080
# /readyz over https when TLS_CERT is set, else http (src/healthcheck.ts)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli.js", "serve"]
