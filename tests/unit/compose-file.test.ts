/**
 * No Docker engine runs here, so the compose file is checked by other means: its YAML, its
 * safety settings, and every command it runs parsed by the real CLI (the tests run each command).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli';
import { REPO_ROOT } from '../helpers/cli-process';

interface Service {
  command?: string[];
  ports?: string[];
  container_name?: string;
  environment?: Record<string, string>;
  profiles?: string[];
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const program = buildProgram(() => undefined);

test('every grym-perf service runs a real CLI command with options the CLI knows, on files that exist', () => {
  const grymServices = Object.entries(compose.services).filter(([name]) => name !== 'redis');
  expect(grymServices.map(([name]) => name).sort()).toEqual(['dashboard', 'mock-llm', 'submit', 'worker']);
  for (const [name, service] of grymServices) {
    const [subcommand, ...args] = service.command ?? [];
    const command = program.commands.find((candidate) => candidate.name() === subcommand);
    expect({ name, subcommand, known: command !== undefined }).toEqual({ name, subcommand, known: true });
    expect({ name, unknown: command!.parseOptions(args).unknown }).toEqual({ name, unknown: [] });
    for (const file of args.filter((arg) => arg.startsWith('test-plans/'))) expect(existsSync(join(REPO_ROOT, file))).toBe(true);
    // Redis comes from the environment, never from a flag that `ps` would show.
    expect(service.environment?.GRYM_REDIS_URL ?? (name === 'mock-llm' ? 'n/a' : undefined)).toBeDefined();
  }
});

test('Redis keeps its data and never evicts queue keys', () => {
  const command = compose.services.redis!.command!.join(' ');
  expect(command).toContain('--appendonly yes');
  expect(command).toContain('--maxmemory-policy noeviction');
});

test('the dashboard needs credentials and is published on loopback only', () => {
  const dashboard = compose.services.dashboard!;
  expect(dashboard.environment!.GRYM_DASHBOARD_USER).toMatch(/^\$\{GRYM_DASHBOARD_USER:\?/);
  expect(dashboard.environment!.GRYM_DASHBOARD_PASSWORD).toMatch(/^\$\{GRYM_DASHBOARD_PASSWORD:\?/);
  expect(dashboard.ports).toEqual(['127.0.0.1:3000:3000']);
});

test('workers scale: no fixed name, no published port', () => {
  const worker = compose.services.worker!;
  expect(worker.container_name).toBeUndefined();
  expect(worker.ports).toBeUndefined();
  expect(compose.services.submit!.profiles).toEqual(['submit']);
});

const hasCompose = (() => {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
(hasCompose ? test : test.skip)('docker compose config accepts the file', () => {
  execFileSync('docker', ['compose', '-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'], { env: { ...process.env, GRYM_DASHBOARD_USER: 'u', GRYM_DASHBOARD_PASSWORD: 'p' } });
});
if (!hasCompose) console.warn('docker compose config check skipped: the docker compose plugin is not installed here');
