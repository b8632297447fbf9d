import { builder } from './builder.ts';
import './enums.ts';
import './viewer.ts';
import './template.ts';
import './job.ts';
import './attempt-diff.ts';
import './job-event.ts';
import './review.ts';
import './human-input.ts';
import './job-output.ts';
import './budget.ts';
import './model-price.ts';
import './spend.ts';
import './api-token.ts';
import './projects.ts';
import './webhooks.ts';
import './schedules.ts';

export const schema = builder.toSchema({ sortSchema: false });
