import { ROLES } from '../auth/roles.ts';
import { JOB_STATES } from '../jobs/state-machine.ts';
import { builder } from './builder.ts';

export const JobStateEnum = builder.enumType('JobState', { values: JOB_STATES });
export const RoleEnum = builder.enumType('Role', { values: ROLES });
export const ReviewStatusEnum = builder.enumType('ReviewStatus', {
  values: ['PENDING', 'APPROVED', 'REJECTED', 'CHANGES_REQUESTED', 'CANCELLED'] as const,
});
export const AttemptStateEnum = builder.enumType('AttemptState', {
  values: ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED', 'LOST'] as const,
});
export const JobEventTypeEnum = builder.enumType('JobEventType', {
  values: ['STATE_CHANGED', 'LOG', 'TASK_STARTED', 'TASK_COMPLETED', 'USAGE', 'GUARDRAIL', 'ARTIFACT', 'BUDGET_THRESHOLD', 'TOOL_CALL', 'TOOL_RESULT'] as const,
});
export const BudgetPeriodEnum = builder.enumType('BudgetPeriod', { values: ['TOTAL', 'DAILY', 'MONTHLY'] as const });
