import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** A program the tests run, and the Debian package that provides it. */
export interface Tool {
  /** A command looked up on PATH, or an absolute path. */
  command: string;
  debianPackage: string;
  neededFor: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findCommand(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (path.isAbsolute(command)) return executable(command) ? command : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (executable(path.join(dir, command))) return path.join(dir, command);
  }
  return null;
}

/**
 * Whether this process can install Debian packages by itself: as root, with apt-get, and not told
 * otherwise (AUTODEV_TEST_INSTALL=0). Else it says why not.
 */
function whyNoInstall(env: NodeJS.ProcessEnv): string | null {
  if (env.AUTODEV_TEST_INSTALL === '0') return 'AUTODEV_TEST_INSTALL=0 forbids installing';
  if (!findCommand('apt-get', env)) return 'apt-get is not available';
  if (process.getuid?.() !== 0) return 'the tests do not run as root';
  return null;
}

function describe(tools: Tool[]): string {
  return tools.map((t) => `${t.command} (${t.neededFor})`).join(', ');
}

/**
 * Makes sure every tool is there: uses what is present, installs the missing Debian packages with
 * apt-get when this process may (printing what it installs), and otherwise throws one sentence with
 * the command to run.
 */
export function ensureTools(tools: Tool[], say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  const missing = tools.filter((t) => !findCommand(t.command, env));
  if (!missing.length) return;
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const refused = whyNoInstall(env);
  if (refused) {
    throw new Error(
      `The tests need ${describe(missing)}, and ${refused}: run \`${process.getuid?.() === 0 ? '' : 'sudo '}${command}\` first.`,
    );
  }
  say(`installing Debian packages the tests need: ${packages.join(' ')} (for ${describe(missing)})`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const r = spawnSync('apt-get', args, { env: aptEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-2).join(' ');
      throw new Error(`Installing ${packages.join(' ')} failed (apt-get ${args[0]}: ${why}): run \`${command}\` by hand.`);
    }
  }
  const still = missing.filter((t) => !findCommand(t.command, env));
  if (still.length)
    throw new Error(
      `After installing ${packages.join(' ')}, ${describe(still)} is still missing: check the path (or CHROMIUM_PATH) and run \`${command}\`.`,
    );
  say(`installed: ${packages.join(' ')}`);
}
