// mirosnet observe's pure parts: the scrape configuration from cluster.json and the file_sd
// files of a run's instances.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scrapeConfig, targetFiles, writeInstanceTargets } from '../../ops/observe/prometheus.ts';

describe('observe', () => {
  it('scrapes every node with a prometheusPort and follows the instances through file_sd', () => {
    const yml = scrapeConfig(
      [
        { name: 'n1', host: '127.0.0.11', prometheusPort: 15692 },
        { name: 'n2', host: '127.0.0.12', prometheusPort: 15692 },
        { name: 'old', host: '127.0.0.13' }, // a cluster.json of an older version: no port, not scraped
      ],
      '/c',
    );
    expect(yml).toContain("      - targets: ['127.0.0.11:15692']\n        labels: { node: 'n1' }");
    expect(yml).toContain("'127.0.0.12:15692'");
    expect(yml).not.toContain('127.0.0.13');
    expect(yml).toContain("  - job_name: miros\n    file_sd_configs:\n      - files: ['/c/observe/targets/*.json']");
  });

  it("writes a run's instances as one file_sd file and removes it when none is left", () => {
    const dir = mkdtempSync(join(tmpdir(), 'observe-'));
    writeInstanceTargets(dir, 'abc123', [{ name: 'ring0', host: '127.0.0.11', port: 40001 }, { name: 'ring1', host: '127.0.0.12', port: 40002 }]);
    const file = join(dir, 'observe', 'targets', 'abc123.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([
      { targets: ['127.0.0.11:40001'], labels: { instance_name: 'ring0', run: 'abc123' } },
      { targets: ['127.0.0.12:40002'], labels: { instance_name: 'ring1', run: 'abc123' } },
    ]);
    expect(targetFiles(dir)).toEqual(['abc123.json']); // no .tmp left behind
    writeInstanceTargets(dir, 'abc123', []);
    expect(existsSync(file)).toBe(false);
  });
});
