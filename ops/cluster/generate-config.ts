// `npm run gen:rabbit`: the node presets (presets.ts) rendered by ops/rabbit-config; writes the committed config files generated from the model;
// `--check` only compares (exit 1 on drift). test/unit/rabbit-config.test.ts does the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.ts';
import { presets } from './presets.ts';
import { renderConf } from '../rabbit-config/render-conf.ts';

export const HEADER = 'generated from ops/rabbit-config by `npm run gen:rabbit`; do not edit';

export interface GeneratedFile {
  /** Relative to the package root. */
  path: string;
  text: string;
}

export function generatedFiles(): GeneratedFile[] {
  return [
    { path: 'compose/rabbitmq/rabbitmq.conf', text: `# ${HEADER}\n# mirosnet RabbitMQ node in a container (compose/rabbitmq.*.Dockerfile)\n${renderConf(presets.composeNode(), {})}` },
    {
      path: 'ansible/roles/rabbitmq/templates/rabbitmq.conf.j2',
      text: `# {{ ansible_managed }}\n# ${HEADER}\n${renderConf(presets.ansibleHost(), 'jinja')}`,
    },
  ];
}

/** The generated files whose committed text differs from what the model renders. */
export function drifted(root = PACKAGE_ROOT): string[] {
  return generatedFiles().filter((f) => {
    try {
      return readFileSync(join(root, f.path), 'utf8') !== f.text;
    } catch {
      return true;
    }
  }).map((f) => f.path);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const bad = drifted();
    for (const p of bad) console.error(`${p}: differs from ops/rabbit-config; run npm run gen:rabbit`);
    process.exitCode = bad.length ? 1 : 0;
  } else {
    for (const f of generatedFiles()) {
      writeFileSync(join(PACKAGE_ROOT, f.path), f.text);
      console.log(`wrote ${f.path}`);
    }
  }
}
