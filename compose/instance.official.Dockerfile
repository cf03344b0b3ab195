# An instance image from the official node:20-slim (MIROS_IMAGES=official, the default of
# compose/compose.yml): this checkout packed with `npm pack` (its prepare compiles dist/),
# then installed like a user's app installs it: production dependencies only, no
# TypeScript, no tsx. Context: the repository (see /.dockerignore).
FROM node:20-slim AS pack
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm pack --silent --pack-destination /tmp && mv /tmp/miros-rabbitmq-*.tgz /tmp/miros-rabbitmq.tgz

FROM node:20-slim
WORKDIR /app
COPY --from=pack /tmp/miros-rabbitmq.tgz /tmp/
RUN echo '{"name": "mirosnet-instance", "private": true}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/miros-rabbitmq.tgz \
 && rm /tmp/miros-rabbitmq.tgz && npm cache clean --force
ENV NODE_ENV=production PATH=/app/node_modules/.bin:$PATH
# the image's unprivileged user
USER node
# a scenario chart (the compiled ops/instances/<chart>.ts), e.g. (compose/compose.yml's peer):
#   node --enable-source-maps node_modules/miros-rabbitmq/dist/ops/instances/peer.js
CMD ["node", "--version"]
