# A RabbitMQ node without a registry (MIROS_IMAGES=local; also the docker backend's image):
# Debian's rabbitmq-server on debian:bookworm-slim, management plugin on, peter/rabbit
# (tag management, permissions on miros.* and amq.gen-* only: no administrator), no guest. Builds once a local image carries the debian:bookworm-slim tag
# (scripts/compose-local.sh makes one with debootstrap); the build needs a network for apt:
#   docker build --network host -f compose/rabbitmq.local.Dockerfile compose
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/*
RUN rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus
COPY rabbitmq/rabbitmq.conf /etc/rabbitmq/rabbitmq.conf
# the node is rabbit@<container hostname> (the backend sets the hostname to n1, n2, …)
USER rabbitmq
WORKDIR /var/lib/rabbitmq
EXPOSE 5672 15672
CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
