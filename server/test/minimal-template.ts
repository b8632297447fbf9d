/**
 * The smallest template a job can run: one agent writes one line with the offline model. What the
 * benchmarks and the engine's counting tests run when only the job's lifecycle matters.
 */
export function minimalTemplate(slug: string, name: string) {
  return {
    slug,
    name,
    description: 'One agent, one task, offline.',
    maxAttempts: 1,
    timeoutSeconds: 60,
    crew: {
      process: 'sequential',
      agents: [{ id: 'writer', role: 'Writer', goal: 'Write one line', backstory: 'Terse.', model: 'gpt-4o-mini' }],
      tasks: [{ id: 'write', description: 'Write one line', expectedOutput: 'A line', agent: 'writer' }],
    },
    inputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  };
}
