# An instance image without a registry (MIROS_IMAGES=local): Node 20 and the package as
# `npm pack` ships it (compiled JavaScript in dist/, no TypeScript, no tsx), installed with
# its production dependencies only. Debian 12's nodejs is 18 (the package needs >= 20), so
# the staged context carries the host's own node binary; it only links against glibc and
# libstdc++, which bookworm has. The tarball was installed into the staging dir on the host
# (npm install --omit=dev, with the host's npm configuration), so the build reaches no registry.
#   context: the repository; compose/.build/instance holds node, package.json and
#            node_modules/ with miros-rabbitmq and its dependencies (scripts/compose-local.sh)
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
COPY compose/.build/instance/node /usr/local/bin/node
RUN useradd --system --create-home --home-dir /home/miros miros
WORKDIR /app
COPY compose/.build/instance/package.json ./
COPY compose/.build/instance/node_modules ./node_modules
ENV NODE_ENV=production PATH=/app/node_modules/.bin:$PATH
USER miros
# a scenario chart (the compiled ops/instances/<chart>.ts), e.g. (compose/compose.yml's peer):
#   node --enable-source-maps node_modules/miros-rabbitmq/dist/ops/instances/peer.js
CMD ["node", "--version"]
