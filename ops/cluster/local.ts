// local backend: node i is a plain process listening on 127.0.0.(10+i), all
// registered with one epmd on 127.0.0.1 (started here unless one already runs).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.ts';
import { epmdNames, tcpProbe } from './health.ts';
import { PROMETHEUS_PORT, brokerTls, endpoints, type NodeSpec } from './options.ts';
import { isOurs, signal, waitGone } from './process.ts';
import { RABBITMQ_SERVER, ensureCookie, nodeEnv, spawnServer, writeNodeConfig } from './rabbit.ts';
import { presets } from './presets.ts';
import type { StateFile } from './cluster-file.ts';
import type { NodeHost } from './backend.ts';
import { nodeBackend } from './nodes.ts';
import type { ResolvedOptions } from './types.ts';
import { sleep } from '../util/wait.ts';

const EPMD_HOST = '127.0.0.1';

const localHost: NodeHost = {
  kind: 'local',

  wrap: () => [], // on this machine itself: only the addresses differ

  async prepare(o: ResolvedOptions, state: StateFile): Promise<void> {
    ensureCookie(o.dir);
    if (isOurs(state.epmdPid, 'epmd')) return;
    state.epmdPid = undefined;
    if ((await tcpProbe(EPMD_HOST, o.epmdPort)) === 'open') return; // someone else's epmd: share it, never stop it
    const out = openSync(join(o.dir, 'epmd.log'), 'a');
    const child = spawn('epmd', ['-address', EPMD_HOST, '-port', String(o.epmdPort)], { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child.on('error', () => undefined);
    child.unref();
    for (let i = 0; i < 50; i++) {
      if ((await tcpProbe(EPMD_HOST, o.epmdPort)) === 'open') {
        state.epmdPid = child.pid;
        o.log(`epmd on ${EPMD_HOST}:${o.epmdPort} (pid ${child.pid})`);
        return;
      }
      await sleep(100);
    }
    throw new ClusterError(`epmd did not start on ${EPMD_HOST}:${o.epmdPort}`, `see ${join(o.dir, 'epmd.log')}`);
  },

  async start(o: ResolvedOptions, spec: NodeSpec): Promise<number> {
    for (const port of new Set([5672, 15672, PROMETHEUS_PORT, endpoints(o.tls).amqpPort, endpoints(o.tls).managementPort])) {
      if ((await tcpProbe(spec.host, port, 500)) === 'open') {
        throw new ClusterError(
          `${spec.host}:${port} is already in use, but node ${spec.name} of ${o.dir} is not running`,
          'another cluster or a system RabbitMQ holds it: stop it (systemctl stop rabbitmq-server), or pick other addresses (addressBase)',
        );
      }
    }
    writeNodeConfig(spec, presets.mirosnetNode(o, spec), o.dir);
    const env = nodeEnv(spec, o, {
      ERL_EPMD_ADDRESS: EPMD_HOST,
      ERL_EPMD_PORT: String(o.epmdPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-kernel inet_dist_use_interface {127,0,0,1} ${o.erlArgs}`.trim(),
    });
    return spawnServer(spec, RABBITMQ_SERVER, [], env);
  },

  async teardown(o: ResolvedOptions, state: StateFile | undefined): Promise<void> {
    const pid = state?.epmdPid;
    if (!isOurs(pid, 'epmd')) return;
    const names = await epmdNames(EPMD_HOST, o.epmdPort);
    if (names && names.length > 0) {
      o.log(`epmd (pid ${pid}) left running: still used by ${names.join(', ')}`);
      return;
    }
    signal(pid, 'SIGTERM');
    if (!(await waitGone([pid], 3000))) signal(pid, 'SIGKILL');
  },
};

export const localBackend = nodeBackend(localHost);
