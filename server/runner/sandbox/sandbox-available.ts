import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PRLIMIT } from './pod-command.ts';
import { BWRAP, runSandboxed, type Isolation } from './run-sandboxed.ts';

export type SandboxAvailability = { ok: true; version: string } | { ok: false; reason: string };

let cached: Promise<SandboxAvailability> | null = null;

/**
 * Whether commands can run sandboxed here, found by running one: bubblewrap installed, namespaces
 * allowed, setpriv/prlimit present. Cached for the process. A template that needs commands is
 * refused when this is not ok — commands never run unsandboxed.
 */
export function sandboxAvailable(isolation: Isolation = 'bubblewrap'): Promise<SandboxAvailability> {
  if (isolation === 'pod') return Promise.resolve(podAvailable());
  return (cached ??= probeSandbox(BWRAP));
}

/** In a runner pod (the pod is the sandbox) commands need only a shell and prlimit for their limits. */
function podAvailable(): SandboxAvailability {
  for (const tool of ['/bin/sh', PRLIMIT]) if (!existsSync(tool)) return { ok: false, reason: `${tool} is missing from the runner image.` };
  return { ok: true, version: 'runner pod (no bubblewrap)' };
}

/** Runs one sandboxed command with the given bubblewrap binary and says whether it worked, and why not. */
export async function probeSandbox(bwrap: string): Promise<SandboxAvailability> {
  if (!existsSync(bwrap))
    return { ok: false, reason: `bubblewrap is not installed (${bwrap} is missing; on Debian: apt-get install bubblewrap).` };
  for (const tool of ['/usr/bin/prlimit', ...(process.getuid?.() === 0 ? ['/usr/bin/setpriv'] : [])]) {
    if (!existsSync(tool)) return { ok: false, reason: `${tool} is missing (util-linux); the sandbox needs it to set its limits.` };
  }
  const version = await new Promise<string>((resolve) => execFile(bwrap, ['--version'], (err, out) => resolve(err ? '' : out.trim())));
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-sandbox-probe-'));
  try {
    const r = await runSandboxed({
      command: 'echo sandbox-ok',
      cwd: dir,
      timeoutMs: 10_000,
      maxOutputBytes: 4096,
      network: false,
      bwrapPath: bwrap,
    });
    if (r.exitCode === 0 && r.output.trim() === 'sandbox-ok') return { ok: true, version };
    const said = r.output.trim().split('\n').slice(-3).join(' ');
    const hint = /namespace|Operation not permitted|setting up uid map/i.test(said)
      ? ' The kernel refuses the namespaces bubblewrap needs (unprivileged user namespaces disabled, or a container without them).'
      : '';
    return {
      ok: false,
      reason: `bubblewrap is installed but a sandboxed command failed (exit ${r.exitCode ?? r.signal}): ${said || 'no output'}.${hint}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
