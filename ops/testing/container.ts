// A RabbitMQ container for tests (testcontainers-node), like testcontainers' RabbitMQ
// module but with our image (compose/rabbitmq.local.Dockerfile: Debian's rabbitmq-server,
// management plugin, peter/rabbit with the management tag and miros.* permissions only, no guest), so it runs where no registry
// is reachable. Users testing their own charts in CI with Docker:
//
//   const rabbit = await new MirosRabbitMQContainer().start();
//   const url = rabbit.getAmqpUrl();              // amqp://peter:rabbit@<host>:<port>/%2F
//   ... connect charts with host/port/credentials ...
//   await rabbit.stop();
//
// Needs a Docker engine (DOCKER_HOST) with a default bridge (published ports) and, when
// no registry is reachable, TESTCONTAINERS_RYUK_DISABLED=true. The image is built on first
// use from compose/rabbitmq.local.Dockerfile if missing (the build needs a local
// debian:bookworm-slim; scripts/ci-docker.sh makes one).
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { amqpUrl } from '../../runtime/net/config.ts';
import { AMQP_PORT, CREDENTIALS, MANAGEMENT_PORT } from '../cluster/options.ts';
import { RABBIT_IMAGE, buildRabbitImage, dockerClient } from '../cluster/docker.ts';

export { AMQP_PORT, MANAGEMENT_PORT };

export interface RabbitOptions {
  /** Image tag (default mirosnet/rabbitmq:local). */
  image?: string;
  /** Build the image from compose/rabbitmq.local.Dockerfile when it is missing (default true). */
  build?: boolean;
  /** Start-up timeout (default 120 s). */
  startupTimeoutMs?: number;
}

export class MirosRabbitMQContainer extends GenericContainer {
  private readonly build: boolean;
  private readonly tag: string;
  constructor(opts: RabbitOptions = {}) {
    const tag = opts.image ?? RABBIT_IMAGE;
    super(tag);
    this.tag = tag;
    this.build = opts.build ?? true;
    this.withExposedPorts(AMQP_PORT, MANAGEMENT_PORT)
      .withEnvironment({ RABBITMQ_NODENAME: 'rabbit@localhost' })
      .withWaitStrategy(
        Wait.forAll([
          Wait.forLogMessage(/Server startup complete/),
          Wait.forHttp('/api/overview', MANAGEMENT_PORT).withBasicCredentials(CREDENTIALS.user, CREDENTIALS.password).forStatusCode(200),
        ]),
      )
      .withStartupTimeout(opts.startupTimeoutMs ?? 120_000);
  }

  override async start(): Promise<StartedMirosRabbitMQContainer> {
    if (this.build) {
      const d = dockerClient();
      const have = await d.getImage(this.tag).inspect().then(() => true, () => false);
      if (!have) await buildRabbitImage(d, () => {}, this.tag);
    }
    return new StartedMirosRabbitMQContainer(await super.start());
  }
}

export class StartedMirosRabbitMQContainer extends AbstractStartedContainer {
  constructor(started: StartedTestContainer) {
    super(started);
  }
  get user(): string {
    return CREDENTIALS.user;
  }
  get password(): string {
    return CREDENTIALS.password;
  }
  getAmqpPort(): number {
    return this.getMappedPort(AMQP_PORT);
  }
  getAmqpUrl(): string {
    return amqpUrl({ rabbitUser: this.user, rabbitPassword: this.password, rabbitPort: this.getAmqpPort() }, this.getHost());
  }
  getManagementUrl(): string {
    return `http://${this.getHost()}:${this.getMappedPort(MANAGEMENT_PORT)}`;
  }
}
