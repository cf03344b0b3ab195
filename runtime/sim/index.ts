// miros-rabbitmq/sim: the deterministic simulation. A SimWorld(seed) with a virtual clock,
// seeded random streams, simulated processes (each with its own Environment for the real
// runtime) and simulated RabbitMQ nodes.
export { SimWorld, SIM_EPOCH_MS, SIM_LIMITS, type SimProcess, type SimRunOptions } from './world.ts';
export { seededStream, type SimRandom } from './random.ts';
export { SimBroker, topicMatches, type SimBrokerLimits, type SimBrokerOptions, type SimBrokerStats } from './broker.ts';
export { SimChannel, SimChannelModel, SimRecoveringModel } from './amqp.ts';
export { AmqpClose, IllegalOperationError, REPLY } from './errors.ts';
