// The RabbitMQ configuration model (docs/design/links-and-backends.md §5).
export * from './model.ts';
export { renderClusterConf, renderConf, renderEnabledPlugins } from './render-conf.ts';
export { renderErlangTerms } from './render-erlang.ts';
