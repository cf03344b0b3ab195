# An instance image: Node 20 and the package as `npm pack` ships it (compiled JavaScript in
# dist/, no TypeScript, no tsx), installed with its production dependencies only.
# Debian 12's nodejs is 18 (the package needs >= 20), so the build context carries the host's
# own node binary; the binary only links against glibc and libstdc++, which bookworm has.
# The tarball is installed into the staging dir on the host (npm install --omit=dev, with the
# host's npm configuration), so the build itself reaches no registry.
#   context: a staging dir with node, package.json and node_modules/ holding miros-rabbitmq
#            and its dependencies (scripts/ci-docker.sh stage_instance does this:
#              npm pack; npm install --omit=dev --no-save ./miros-rabbitmq-<version>.tgz)
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
COPY node /usr/local/bin/node
WORKDIR /app
COPY package.json ./
COPY node_modules ./node_modules
ENV NODE_ENV=production PATH=/app/node_modules/.bin:$PATH
# a scenario chart (the compiled ops/instances/<chart>.ts), e.g.:
#   docker run -i --network mirosnet -e MIROS_INSTANCE='{...}' mirosnet/instance:local \
#     node --enable-source-maps node_modules/miros-rabbitmq/dist/ops/instances/peer.js
CMD ["node", "--version"]
