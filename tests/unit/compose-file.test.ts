/**
 * No Docker engine runs here, so the compose file is checked by other means: its YAML, its
 * safety settings, and every command it runs parsed by the real CLI (the tests run each command).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/program';
import { REPO_ROOT } from '../helpers/cli-process';

interface Service {
  command?: string[];
  ports?: string[];
  container_name?: string;
  environment?: Record<string, string>;
  profiles?: string[];
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
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

test('reports can be written on a fresh host: the image gives its default --out to node, submit writes a folder Docker creates', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  // `run` writes reports/latest under WORKDIR /app by default, as the node user.
  expect(dockerfile).toMatch(/WORKDIR \/app[\s\S]*chown node:node \/app\/reports/);
  expect(dockerfile).toMatch(/USER node/);
  // A bind-mounted ./reports that Docker creates belongs to root: submit must be able to write it.
  const submit = compose.services.submit!;
  expect((submit as Service & { volumes?: string[] }).volumes).toEqual(['./reports:/reports']);
  expect((submit as Service & { user?: string }).user).toBe('0:0');
});

/** Compose v2's plugin, or Debian's docker-compose 1.29 (installed by the pretest step): either checks the file for real. */
const composeCommand = ['docker-compose', 'docker'].find((command) => {
  try {
    execFileSync(command, command === 'docker' ? ['compose', 'version'] : ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
(composeCommand ? test : test.skip)(`${composeCommand ?? 'docker compose'} config accepts the file`, () => {
  const args = ['-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'];
  execFileSync(composeCommand!, composeCommand === 'docker' ? ['compose', ...args] : args, {
    env: { ...process.env, GRYM_DASHBOARD_USER: 'u', GRYM_DASHBOARD_PASSWORD: 'p' },
  });
});
if (!composeCommand) console.warn('compose config check skipped: neither docker-compose nor the docker compose plugin is installed here');
