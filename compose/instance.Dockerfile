# An instance image: Node 20 + the package (runtime/, ops/, scenarios/, production node_modules).
# Debian 12's nodejs is 18 (the package needs >= 20), so the build context carries the host's
# own node binary (scripts/ci-docker.sh stages it in compose/.build/instance); the binary
# only links against glibc and libstdc++, which bookworm has. The production node_modules
# are installed into the staging dir on the host (npm ci --omit=dev), so the build needs no registry.
#   context: a staging dir with node, node_modules/, package.json, package-lock.json,
#            tsconfig.json, runtime/, ops/, scenarios/, bin/  (scripts/ci-docker.sh stage_instance)
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
COPY node /usr/local/bin/node
WORKDIR /app
# dependencies first: this layer stays cached while only the sources change
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
COPY tsconfig.json ./
COPY bin ./bin
COPY runtime ./runtime
COPY ops ./ops
COPY scenarios ./scenarios
ENV NODE_ENV=production
# a scenario chart, e.g.: docker run --network mirosnet mirosnet/instance:local node --import tsx ops/instances/<chart>.ts
CMD ["node", "--version"]
