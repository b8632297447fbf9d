# One image for the API, the worker and the runner (AUTODEV_ROLE / the runner command decide).
# Not built on this project's build machines (no Docker engine there); see README.
# Node 24: an LTS line in support (Node 20's ended 2026-04-30); the code also runs on Node 20 (README: "Node versions").
# The CMD is the compiled server (npm run build: dist/, plain JavaScript, no tsx), not `autodev all`:
# the role comes from AUTODEV_ROLE (k8s/, compose).

# --- build: dependencies (with dev tools for prisma generate, the web app build and tsc) ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --ignore-scripts && node scripts/prisma-generate.mjs
COPY . .
# npm run build: the web app, then dist/ (scripts/build-server.mjs: the server compiled to JavaScript
# without its tests, beside the schemas, migrations, web app and sample repository it reads). The
# runtime tree: dist/ and only the packages the server loads (scripts/build-runtime-tree.mjs; no
# tsx, web build tools, embedded PostgreSQL, type declarations or source maps).
# scripts/try-runtime-tree.mjs runs this tree under a read-only root as uid 10001.
RUN npm run build && node scripts/build-runtime-tree.mjs /runtime

# --- runtime ---
FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=4000 AUTODEV_DATA_DIR=/app/.data
# The agent runtime: git for workspaces, bubblewrap for sandboxed commands (as a non-root user it
# needs user namespaces, which a container runtime may block; sandboxAvailable() says so).
RUN apt-get update && apt-get install -y --no-install-recommends git bubblewrap ca-certificates && rm -rf /var/lib/apt/lists/*
# A passwd entry and a HOME for uid 10001: graphile-worker fails on import when HOME is unset, and
# git and ssh look the user up.
RUN groupadd --gid 10001 autodev && useradd --uid 10001 --gid 10001 --home-dir /home/autodev --create-home --shell /usr/sbin/nologin autodev
ENV HOME=/home/autodev
WORKDIR /app
# Files are root-owned and read-only to the process; it writes only to /tmp and the data directory
# (emptyDir volumes on Kubernetes, where the root filesystem is read-only).
COPY --from=build --chown=root:root /runtime/ ./
RUN mkdir -p /app/.data && chown 10001:10001 /app/.data
USER 10001:10001
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server/main.js"]
