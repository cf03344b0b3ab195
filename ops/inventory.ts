// `mirosnet inventory`: an ansible inventory (YAML) for the hosts of a running netns or
// docker testbed, from its cluster.json, so that ansible/site.yml (or ad-hoc ansible) can
// address the testbed's nodes by the same variables the roles use for LAN hosts. The
// structure is small and fixed, so it is written here rather than with a YAML library:
// every string is a double-quoted YAML scalar (JSON string syntax is valid YAML).
import type { ClusterFile, ClusterNode } from '../runtime/lan/cluster-file.ts';
import { ClusterError } from './cluster/errors.ts';

type Scalar = string | number | boolean;
type Vars = Record<string, Scalar>;

/** The inventory as data: group `miros`, a host per node, group vars for the whole testbed. */
export interface Inventory {
  hosts: Array<{ name: string; vars: Vars }>;
  vars: Vars;
}

/** The inventory of a testbed's nodes; a ClusterError for the local backend, which has no hosts. */
export function inventoryOf(file: ClusterFile): Inventory {
  if (file.backend === 'local') {
    throw new ClusterError(
      'the local backend runs every node on this machine (127.0.0.x): there are no hosts for ansible to reach',
      'start a testbed with hosts of its own: mirosnet cluster up --backend netns (or docker)',
    );
  }
  const hosts = file.nodes.map((n) => ({ name: n.name, vars: hostVars(file, n) }));
  const vars: Vars = {
    // node names by address (rabbit@10.77.0.11) need long names
    rabbitmq_use_longname: file.nodes.some((n) => /[.:]/.test(n.erlangNode.split('@')[1] ?? '')),
    rabbitmq_cluster: file.topology === 'clustered',
  };
  if (file.cluster) {
    vars.rabbitmq_partition_handling = file.cluster.partitionHandling;
    vars.rabbitmq_net_ticktime = file.cluster.netTicktime;
  }
  if (file.backend === 'docker') vars.ansible_connection = 'community.docker.docker';
  return { hosts, vars };
}

function hostVars(file: ClusterFile, n: ClusterNode): Vars {
  const v: Vars = {
    // docker: the connection plugin addresses the container; netns: ssh to the address
    ansible_host: file.backend === 'docker' && n.container ? n.container : n.host,
    rabbitmq_lan_address: n.host,
    rabbitmq_nodename: n.erlangNode,
    rabbitmq_amqp_port: n.amqpPort,
    rabbitmq_management_port: n.managementPort,
  };
  if (n.namespace) v.miros_netns = n.namespace;
  if (n.container) v.miros_container = n.container;
  return v;
}

/** A string YAML reads back as the same string: plain when unambiguous, else double-quoted. */
function yamlScalar(value: Scalar): string {
  if (typeof value !== 'string') return String(value);
  const plain = /^[A-Za-z_/][A-Za-z0-9_./@-]*$/.test(value) && !/^(true|false|yes|no|on|off|null|y|n|~)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) ? key : JSON.stringify(key);
}

/** The inventory as YAML, with a header saying where it came from. */
export function renderInventory(inv: Inventory, header: string[] = []): string {
  const lines = [...header.map((h) => `# ${h}`), '---', 'miros:', '  hosts:'];
  for (const h of inv.hosts) {
    lines.push(`    ${yamlKey(h.name)}:`);
    for (const [k, v] of Object.entries(h.vars)) lines.push(`      ${yamlKey(k)}: ${yamlScalar(v)}`);
  }
  lines.push('  vars:');
  for (const [k, v] of Object.entries(inv.vars)) lines.push(`    ${yamlKey(k)}: ${yamlScalar(v)}`);
  return `${lines.join('\n')}\n`;
}

/** The inventory file's text for the testbed described by `file` (read from `source`). */
export function inventoryYaml(file: ClusterFile, source: string): string {
  const header = [
    `ansible inventory of the ${file.backend} testbed in ${source} (${file.nodes.length} nodes, ${file.topology}), written by mirosnet inventory`,
    file.backend === 'netns'
      ? 'ansible reaches each namespace host over ssh at ansible_host: run an sshd in it (scripts/ci-ansible.sh shows how)'
      : "ansible reaches each container with the community.docker connection plugin (in Debian's ansible package; else ansible-galaxy collection install community.docker)",
    'credentials and keys: the vault next to the playbook (ansible/group_vars/miros/vault.yml), never this file',
  ];
  return renderInventory(inventoryOf(file), header);
}
