/** A workspace operation that failed; `code` goes into the runner's error event as is. */
export class WorkspaceError extends Error {
  constructor(
    readonly code: 'WORKSPACE_CLONE_FAILED' | 'WORKSPACE_GIT_FAILED' | 'WORKSPACE_PUSH_FAILED',
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
