/**
 * The README's Monitoring section holds what the code exposes: a row for every grym-perf metric
 * with its type and labels, and a scrape config that is valid YAML whose targets' ports are the
 * ones its commands are given.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createGrymMetrics } from '../../src/shared/monitoring/grym-metrics';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const start = readme.indexOf('\n## Monitoring\n');
const monitoring = readme.slice(start, readme.indexOf('\n## ', start + 5));

test('the section exists and every metric grym-perf defines has its row: name, type and labels', async () => {
  expect(start).toBeGreaterThan(0);
  const { registry } = createGrymMetrics();
  const own = (await registry.getMetricsAsJSON()).filter(
    (metric) => !metric.name.startsWith('grym_process_') && !metric.name.startsWith('grym_nodejs_'),
  );
  expect(own.length).toBeGreaterThan(10);
  for (const metric of own) {
    const row = new RegExp(`^\\| \`${metric.name}\` \\| ${metric.type}[^|]* \\| ([^|]+) \\|`, 'm').exec(monitoring);
    expect({ metric: metric.name, documented: row !== null }).toEqual({ metric: metric.name, documented: true });
    // prom-client keeps the label names on the metric object it returns from the registry.
    const labels = (registry.getSingleMetric(metric.name) as unknown as { labelNames: string[] }).labelNames;
    expect({ metric: metric.name, labels: row![1]!.trim() }).toEqual({ metric: metric.name, labels: labels.join(', ') });
  }
  // The process's own metrics are under grym_, as the section says.
  const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
  for (const example of ['grym_process_resident_memory_bytes', 'grym_nodejs_eventloop_lag_p99_seconds']) {
    expect(names).toContain(example);
    expect(monitoring).toContain(example);
  }
});

test('the scrape config is valid YAML, and each job scrapes the port its command is given', () => {
  const config = /```yaml\n([\s\S]*?)```/.exec(monitoring)![1]!;
  const parsed = parseYaml(config) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
  expect(parsed.scrape_configs.map((job) => job.job_name)).toEqual(['grym-perf-workers', 'grym-perf-dashboard', 'grym-perf-ci']);
  const commands = [...config.matchAll(/# (grym-perf .*--metrics-port (\d+).*)/g)];
  expect(commands).toHaveLength(3);
  parsed.scrape_configs.forEach((job, index) => {
    const port = commands[index]![2]!;
    for (const target of job.static_configs.flatMap((one) => one.targets)) expect(target.endsWith(`:${port}`)).toBe(true);
    // Reached from another machine, so bound beyond loopback.
    expect(commands[index]![1]).toContain('--metrics-host 0.0.0.0');
  });
});
