// miros-rabbitmq/testing: MirosRabbitMQContainer (./container.ts), behind a check for its
// optional peer dependencies. A static import of a missing package fails while the module
// graph links, with a bare ERR_MODULE_NOT_FOUND; loading the implementation dynamically
// lets us name what to install instead.
import type * as Container from './container.ts';

/** The optional peers the container needs: testcontainers, and dockerode to build our image. */
export const TESTING_PEERS = ['testcontainers', 'dockerode'] as const;

function missingPeer(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === 'ERR_MODULE_NOT_FOUND' && TESTING_PEERS.some((p) => e.message?.includes(`'${p}'`));
}

let impl: typeof Container;
try {
  impl = await import('./container.ts');
} catch (err) {
  if (!missingPeer(err)) throw err;
  throw new Error(
    `miros-rabbitmq/testing needs the optional peer dependencies ${TESTING_PEERS.join(' and ')}: npm install --save-dev ${TESTING_PEERS.join(' ')}`,
    { cause: err },
  );
}

export const { MirosRabbitMQContainer, StartedMirosRabbitMQContainer, AMQP_PORT, MANAGEMENT_PORT } = impl;
export type MirosRabbitMQContainer = Container.MirosRabbitMQContainer;
export type StartedMirosRabbitMQContainer = Container.StartedMirosRabbitMQContainer;
export type RabbitOptions = Container.RabbitOptions;
