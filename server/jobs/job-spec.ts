import type { TemplateDefinition } from '../../schemas/types/template-definition.ts';

/** What a job keeps of its template version (`Job.spec`): editing the template never changes a queued or running job. */
export interface JobSpec {
  slug: string;
  version: number;
  name: string;
  crew: TemplateDefinition['crew'];
  inputSchema: TemplateDefinition['inputSchema'];
  outputSchema: TemplateDefinition['outputSchema'];
  requiresReview: boolean;
  maxAttempts: number;
  timeoutSeconds: number;
  executor: { kind?: string; env?: string[]; image?: string; resources?: { cpu?: string; memory?: string } };
  /** The job-input fields naming the repository and ref (agent runtime); absent on older templates. */
  workspace?: TemplateDefinition['workspace'] | null;
  checks?: TemplateDefinition['checks'] | null;
}
