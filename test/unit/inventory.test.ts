// `mirosnet inventory` (ops/inventory.ts): the ansible inventory of a netns or docker
// testbed from its cluster.json. The YAML is checked by what reads it: ansible-inventory
// (Debian's ansible package) when it is installed, and the CLI end to end from a cluster dir.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterError } from '../../ops/cluster/errors.ts';
import { CREDENTIALS, clusterNode } from '../../ops/cluster/options.ts';
import { inventoryOf, inventoryYaml } from '../../ops/inventory.ts';
import { completeClusterFile, type ClusterFile } from '../../runtime/lan/cluster-file.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function testbed(backend: ClusterFile['backend'], clustered: boolean): ClusterFile {
  const nodes = [1, 2, 3].map((i) =>
    clusterNode(
      {
        name: `n${i}`,
        index: i,
        host: `10.77.0.${10 + i}`,
        erlangNode: `rabbit@10.77.0.${10 + i}`,
        distPort: 25672,
        dataDir: `/srv/n${i}/data`,
        logFile: `/srv/n${i}/log/rabbit.log`,
        ...(backend === 'netns' ? { ns: `mrn-${i}` } : {}),
        ...(backend === 'docker' ? { container: `mirosnet-n${i}` } : {}),
      },
      1000 + i,
    ),
  );
  const members = nodes.map((n) => n.erlangNode);
  return completeClusterFile({
    backend,
    createdAt: '2026-01-01T00:00:00.000Z',
    credentials: { ...CREDENTIALS },
    nodes,
    ...(clustered ? { topology: 'clustered' as const, cluster: { members, partitionHandling: 'pause_minority' as const, netTicktime: 10 } } : {}),
  });
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mirosnet-inventory-'));
  temps.push(dir);
  return dir;
}

describe('inventoryOf: the role variables of each node', () => {
  it('netns, clustered: addresses, node names, ports, cluster settings', () => {
    const inv = inventoryOf(testbed('netns', true));
    expect(inv.hosts.map((h) => h.name)).toEqual(['n1', 'n2', 'n3']);
    expect(inv.hosts[1].vars).toEqual({
      ansible_host: '10.77.0.12',
      rabbitmq_lan_address: '10.77.0.12',
      rabbitmq_nodename: 'rabbit@10.77.0.12',
      rabbitmq_amqp_port: 5672,
      rabbitmq_management_port: 15672,
      miros_netns: 'mrn-2',
    });
    expect(inv.vars).toEqual({ rabbitmq_use_longname: true, rabbitmq_cluster: true, rabbitmq_partition_handling: 'pause_minority', rabbitmq_net_ticktime: 10 });
  });

  it('docker, mesh: the containers through the docker connection plugin, no cluster', () => {
    const inv = inventoryOf(testbed('docker', false));
    expect(inv.hosts[0].vars.ansible_host).toBe('mirosnet-n1');
    expect(inv.hosts[0].vars.rabbitmq_lan_address).toBe('10.77.0.11');
    expect(inv.vars).toMatchObject({ rabbitmq_cluster: false, ansible_connection: 'community.docker.docker' });
    expect(inv.vars).not.toHaveProperty('rabbitmq_partition_handling');
  });

  it('the local backend has no hosts for ansible: a ClusterError that says what to do', () => {
    expect(() => inventoryOf(testbed('local', false))).toThrow(ClusterError);
    expect(() => inventoryOf(testbed('local', false))).toThrow(/no hosts for ansible/);
  });

  it('the YAML quotes what YAML would misread (addresses, booleans-as-words) and keeps the rest plain', () => {
    const text = inventoryYaml(testbed('netns', true), '/x/cluster.json');
    expect(text).toContain('      ansible_host: "10.77.0.11"\n');
    expect(text).toContain('      rabbitmq_nodename: rabbit@10.77.0.11\n');
    expect(text).toContain('    rabbitmq_cluster: true\n');
    expect(text.split('\n').filter((l) => l.startsWith('#'))).toHaveLength(3);
  });
});

const ansibleInventory = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8' }).status === 0;
describe.skipIf(!ansibleInventory)(`ansible-inventory reads it${ansibleInventory ? '' : ' (NEEDS ansible-inventory: not run; apt-get install ansible)'}`, () => {
  it('every host with its variables, in group miros', () => {
    const dir = tempDir();
    const file = join(dir, 'inventory.yml');
    writeFileSync(file, inventoryYaml(testbed('netns', true), join(dir, 'cluster.json')));
    const r = spawnSync('ansible-inventory', ['-i', file, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { miros: { hosts: string[] }; _meta: { hostvars: Record<string, Record<string, unknown>> } };
    expect(list.miros.hosts).toEqual(['n1', 'n2', 'n3']);
    expect(list._meta.hostvars.n3).toMatchObject({
      ansible_host: '10.77.0.13',
      rabbitmq_nodename: 'rabbit@10.77.0.13',
      rabbitmq_management_port: 15672,
      rabbitmq_cluster: true,
      rabbitmq_use_longname: true,
      rabbitmq_net_ticktime: 10,
      miros_netns: 'mrn-3',
    });
  }, 60_000);
});

describe('mirosnet inventory', () => {
  const mirosnet = (args: string[]) =>
    spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'ops/cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 55_000 });

  it('writes the inventory of the testbed in --dir to --output', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(testbed('docker', true)));
    const out = join(dir, 'hosts.yml');
    const r = mirosnet(['inventory', '--dir', dir, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${out} (3 hosts)`);
    expect(readFileSync(out, 'utf8')).toBe(inventoryYaml(testbed('docker', true), join(dir, 'cluster.json')));
  }, 60_000);

  it('no testbed: exit 1 and how to start one', () => {
    const r = mirosnet(['inventory', '--dir', tempDir()]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no testbed in .*cluster\.json/);
    expect(r.stderr).toContain('mirosnet cluster up --backend netns');
  }, 60_000);
});
