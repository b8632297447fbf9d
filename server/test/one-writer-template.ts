/**
 * A template whose crew is one writer with one task and no tools: what the streaming tests and the
 * token-streaming bench run (the writer's answer is whatever the model mock streams).
 */
export function oneWriterTemplate(options: {
  slug: string;
  name: string;
  description: string;
  /** The task's description: the model mock may answer by it. */
  task?: string;
  backstory?: string;
  maxAttempts?: number;
  /** Input properties besides `repository`. */
  inputProperties?: Record<string, object>;
}) {
  return {
    slug: options.slug,
    name: options.name,
    description: options.description,
    workspace: { repositoryField: 'repository' },
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    crew: {
      process: 'sequential',
      agents: [
        {
          id: 'writer',
          role: 'Writer',
          goal: 'Write',
          backstory: options.backstory ?? 'Writes at length.',
          model: 'claude-haiku-4-5',
          tools: [],
        },
      ],
      tasks: [{ id: 'write', description: options.task ?? 'Write the answer', expectedOutput: 'Text', agent: 'writer' }],
    },
    inputSchema: { type: 'object', properties: { repository: { type: 'string' }, ...options.inputProperties } },
    outputSchema: { type: 'object' },
    timeoutSeconds: 120,
  };
}
