# A RabbitMQ node from the official image (MIROS_IMAGES=official, the default of
# compose/compose.yml): management and prometheus plugins on, the testbed's configuration (peter/rabbit
# administrator, no guest: compose/rabbitmq/rabbitmq.conf). The node is rabbit@<hostname>.
FROM rabbitmq:4.1.4-management
RUN rabbitmq-plugins enable --offline rabbitmq_prometheus
COPY rabbitmq/rabbitmq.conf /etc/rabbitmq/rabbitmq.conf
