// The GraphQL enums are prisma/schema.prisma's enums (the database's types), value for value and
// in the same order: one source, from which schema.graphql and the web app's types follow.
import { AttemptState, BudgetPeriod, JobEventType, JobState, ReviewStatus, Role } from '../db/generated/enums.ts';
import { builder } from './builder.ts';

export const JobStateEnum = builder.enumType(JobState, { name: 'JobState' });
export const RoleEnum = builder.enumType(Role, { name: 'Role' });
export const ReviewStatusEnum = builder.enumType(ReviewStatus, { name: 'ReviewStatus' });
export const AttemptStateEnum = builder.enumType(AttemptState, { name: 'AttemptState' });
export const JobEventTypeEnum = builder.enumType(JobEventType, { name: 'JobEventType' });
export const BudgetPeriodEnum = builder.enumType(BudgetPeriod, { name: 'BudgetPeriod' });
