/** The nodes of a connection as GraphQL returned it. */
export const nodesOf = <T = any>(connection: { edges: { node: T }[] }): T[] => connection.edges.map((e) => e.node);

/** A job as a test query read it, with its `attempts` and `events` connections (where asked) as arrays. */
export function jobWithLists(job: Record<string, any> | null | undefined): any {
  if (!job) return job;
  return {
    ...job,
    ...(job.attempts ? { attempts: nodesOf(job.attempts) } : {}),
    ...(job.events ? { events: nodesOf(job.events) } : {}),
  };
}
