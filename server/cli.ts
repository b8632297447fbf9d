// The `autodev` command: one image, one command, a subcommand per role (ARCHITECTURE.md,
// "One process or many"). Configuration stays in environment variables (README, "Configuration").
const USAGE = `Usage: autodev <command>

Commands:
  all      API, worker and web app in one process (what \`npm start\` runs)
  api      the GraphQL API, WebSocket and web app (AUTODEV_ROLE=api)
  worker   the worker, which runs attempts (AUTODEV_ROLE=worker)
  migrate  apply pending database migrations to DATABASE_URL (or the embedded database), then exit

Settings are environment variables (README, "Configuration"), e.g. DATABASE_URL, REDIS_URL, PORT.
`;

const ROLES = ['all', 'api', 'worker'] as const;
type Role = (typeof ROLES)[number];

type Command = { run: 'role'; role: Role } | { run: 'migrate' } | { run: 'help' } | { run: 'usage-error'; message: string };

/** What the arguments ask for; `AUTODEV_ROLE` may not contradict the subcommand. */
function parseCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const [name, ...rest] = args;
  if (!name || name === 'help' || name === '--help' || name === '-h') return { run: 'help' };
  if (rest.length)
    return {
      run: 'usage-error',
      message: `autodev ${name} takes no arguments (got "${rest.join(' ')}"); settings are environment variables.`,
    };
  if (name === 'migrate') return { run: 'migrate' };
  if ((ROLES as readonly string[]).includes(name)) {
    const role = name as Role;
    if (env.AUTODEV_ROLE && env.AUTODEV_ROLE !== role) {
      return {
        run: 'usage-error',
        message: `autodev ${role} was asked for, but AUTODEV_ROLE=${env.AUTODEV_ROLE} says otherwise: unset it or make them agree.`,
      };
    }
    return { run: 'role', role };
  }
  return { run: 'usage-error', message: `Unknown command "${name}".` };
}

const command = parseCommand(process.argv.slice(2));
switch (command.run) {
  case 'help':
    process.stdout.write(USAGE);
    break;
  case 'usage-error':
    process.stderr.write(`${command.message}\n\n${USAGE}`);
    process.exitCode = 2;
    break;
  case 'migrate':
    await import('./db/migrate-cli.ts');
    break;
  case 'role':
    process.env.AUTODEV_ROLE = command.role;
    await import('./main.ts');
}
