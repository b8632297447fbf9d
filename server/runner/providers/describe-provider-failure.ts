import { STATUS_CODES } from 'node:http';

/** Longest provider text kept for the operator's log. */
export const PROVIDER_DETAIL_MAX = 2000;

export interface ProviderFailure {
  code: 'MODEL_AUTH_FAILED' | 'MODEL_RATE_LIMITED' | 'MODEL_UNAVAILABLE' | 'MODEL_REQUEST_REFUSED';
  /** For tenants: the status and its standard reason phrase, never the endpoint's words. */
  message: string;
  retryable: boolean;
}

/**
 * What a tenant is told about a model endpoint's HTTP refusal. The endpoint's body (and its own
 * reason phrase) may quote the API key, so both stay out: callers pass the body on as an
 * operator-only `detail` (the runner protocol's error.detail, logged redacted by the worker).
 */
export function describeProviderFailure(status: number): ProviderFailure {
  const message = `The model provider answered ${status} ${STATUS_CODES[status] ?? 'Error'}.`;
  if (status === 401 || status === 403) return { code: 'MODEL_AUTH_FAILED', message, retryable: false };
  if (status === 429) return { code: 'MODEL_RATE_LIMITED', message, retryable: true };
  if (status >= 500) return { code: 'MODEL_UNAVAILABLE', message, retryable: true };
  return { code: 'MODEL_REQUEST_REFUSED', message, retryable: false };
}
