/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment AttemptDiffFields on AttemptDiff {\n    fromAttempt\n    toAttempt\n    baseCommit\n    additions\n    deletions\n    linesCut\n    unavailableReason\n    files {\n      path\n      status\n      binary\n      additions\n      deletions\n      note\n      hunks {\n        oldStart\n        oldLines\n        newStart\n        newLines\n        section\n        lines\n      }\n    }\n  }\n": typeof types.AttemptDiffFieldsFragmentDoc,
    "\n  query AttemptChanges($jobId: ID!, $number: Int!, $since: Boolean!) {\n    job(id: $jobId) {\n      id\n      attempt(number: $number) {\n        id\n        number\n        baseCommit\n        diff @skip(if: $since) {\n          ...AttemptDiffFields\n        }\n        diffSince @include(if: $since) {\n          ...AttemptDiffFields\n        }\n      }\n    }\n  }\n": typeof types.AttemptChangesDocument,
    "\n  query JobInputRequest($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      inputRequest {\n        task\n        question\n        askedAt\n        expiresAt\n        onTimeout\n      }\n    }\n  }\n": typeof types.JobInputRequestDocument,
    "\n  mutation ProvideInput($jobId: ID!, $answer: String!) {\n    provideInput(jobId: $jobId, answer: $answer) {\n      id\n      state\n      inputRequest {\n        task\n      }\n    }\n  }\n": typeof types.ProvideInputDocument,
    "\n  subscription JobOutput($jobId: ID!, $afterSeq: Int) {\n    jobOutput(jobId: $jobId, afterSeq: $afterSeq) {\n      kind\n      seq\n      task\n      step\n      offset\n      text\n    }\n  }\n": typeof types.JobOutputDocument,
    "\n  fragment DecidedReview on Review {\n    id\n    status\n    job {\n      id\n      state\n    }\n  }\n": typeof types.DecidedReviewFragmentDoc,
    "\n  mutation ApproveReview($id: ID!, $comment: String, $output: JSON) {\n    approveReview(id: $id, comment: $comment, output: $output) {\n      ...DecidedReview\n    }\n  }\n": typeof types.ApproveReviewDocument,
    "\n  mutation RejectReview($id: ID!, $comment: String!) {\n    rejectReview(id: $id, comment: $comment) {\n      ...DecidedReview\n    }\n  }\n": typeof types.RejectReviewDocument,
    "\n  mutation RequestChanges($id: ID!, $feedback: String!, $fromTask: String) {\n    requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) {\n      ...DecidedReview\n    }\n  }\n": typeof types.RequestChangesDocument,
    "\n  fragment JobEventFields on JobEvent {\n    id\n    seq\n    jobId\n    type\n    fromState\n    toState\n    message\n    data\n    actor\n    attemptNumber\n    createdAt\n  }\n": typeof types.JobEventFieldsFragmentDoc,
    "\n  query Viewer {\n    viewer {\n      tokenName\n      role\n      project {\n        id\n        slug\n        name\n      }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...JobEventFields\n    }\n  }\n": typeof types.JobEventsDocument,
    "\n  subscription ProjectEvents {\n    projectEvents {\n      id\n      jobId\n      seq\n      type\n      toState\n    }\n  }\n": typeof types.ProjectEventsDocument,
    "\n  query Budgets {\n    budgets {\n      id\n      period\n      periodStart\n      limitUsd\n      spentUsd\n      remainingUsd\n      percentUsed\n    }\n  }\n": typeof types.BudgetsDocument,
    "\n  query Spend($days: Int!) {\n    spend(days: $days) {\n      day\n      model\n      templateSlug\n      costUsd\n      inputTokens\n      outputTokens\n      charges\n    }\n  }\n": typeof types.SpendDocument,
    "\n  mutation SetBudget($input: BudgetInput!) {\n    setBudget(input: $input) {\n      id\n      limitUsd\n      spentUsd\n      period\n    }\n  }\n": typeof types.SetBudgetDocument,
    "\n  query CrewMonitorJob($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      input\n      output\n      costUsd\n      maxCostUsd\n      attemptCount\n      feedback\n      lastError\n      createdBy\n      createdAt\n      finishedAt\n      template {\n        slug\n        name\n        crew\n        requiresReview\n        maxAttempts\n      }\n      # The latest attempts (a page holds 100; jobs rarely have more than maxAttempts plus review rounds).\n      attempts(last: 100) {\n        edges {\n          node {\n            id\n            number\n            state\n            executor\n            baseCommit\n            startedAt\n            finishedAt\n            exitReason\n            errorCode\n            costUsd\n            inputTokens\n            outputTokens\n            guardrailResults\n            feedback\n            artifacts {\n              id\n              path\n              contentType\n              sizeBytes\n              downloadUrl\n            }\n          }\n        }\n      }\n      review {\n        id\n        status\n        output\n      }\n    }\n  }\n": typeof types.CrewMonitorJobDocument,
    "\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      id\n      state\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  query WaitingForInput {\n    jobs(filter: { states: [AWAITING_INPUT] }, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          template {\n            name\n          }\n          inputRequest {\n            task\n            question\n            askedAt\n            expiresAt\n            onTimeout\n          }\n        }\n      }\n    }\n  }\n": typeof types.WaitingForInputDocument,
    "\n  query Jobs($filter: JobFilter) {\n    jobs(first: 50, filter: $filter) {\n      edges {\n        node {\n          id\n          state\n          costUsd\n          attemptCount\n          createdAt\n          createdBy\n          input\n          template {\n            slug\n            name\n          }\n        }\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          slug\n          name\n        }\n      }\n    }\n  }\n": typeof types.JobsDocument,
    "\n  query LaunchTemplate($slug: String!) {\n    template(slug: $slug) {\n      id\n      slug\n      name\n      description\n      requiresReview\n      inputSchema\n      typicalCostUsd\n    }\n  }\n": typeof types.LaunchTemplateDocument,
    "\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      id\n      state\n    }\n  }\n": typeof types.CreateJobDocument,
    "\n  query Projects {\n    projects {\n      id\n      slug\n      name\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  mutation CreateProject($input: ProjectInput!) {\n    createProject(input: $input) {\n      project {\n        slug\n        name\n      }\n      adminToken {\n        secret\n      }\n    }\n  }\n": typeof types.CreateProjectDocument,
    "\n  query ReviewQueue {\n    reviews(status: PENDING, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          output\n          job {\n            id\n            costUsd\n            input\n            template {\n              name\n              crew\n            }\n            # The attempt under review is the job's latest; the one before it, for the diff.\n            attempts(last: 2) {\n              edges {\n                node {\n                  id\n                  number\n                  baseCommit\n                  guardrailResults\n                  artifacts {\n                    id\n                    path\n                    contentType\n                    sizeBytes\n                    downloadUrl\n                  }\n                }\n              }\n            }\n          }\n          attempt {\n            id\n            number\n          }\n        }\n      }\n    }\n  }\n": typeof types.ReviewQueueDocument,
    "\n  query RunningLimit {\n    viewer {\n      project {\n        id\n        maxRunningAttempts\n        effectiveMaxRunningAttempts\n      }\n    }\n  }\n": typeof types.RunningLimitDocument,
    "\n  mutation SetMaxRunningAttempts($maxRunningAttempts: Int) {\n    setMaxRunningAttempts(maxRunningAttempts: $maxRunningAttempts) {\n      id\n      maxRunningAttempts\n      effectiveMaxRunningAttempts\n    }\n  }\n": typeof types.SetMaxRunningAttemptsDocument,
    "\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      paused\n      nextRunAt\n      lastTickAt\n      skippedTicks\n      input\n      template {\n        slug\n        name\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          name\n          inputSchema\n        }\n      }\n    }\n  }\n": typeof types.SchedulesDocument,
    "\n  mutation CreateSchedule($input: ScheduleInput!) {\n    createSchedule(input: $input) {\n      id\n    }\n  }\n": typeof types.CreateScheduleDocument,
    "\n  mutation UpdateSchedule($id: ID!, $input: ScheduleUpdate!) {\n    updateSchedule(id: $id, input: $input) {\n      id\n      cron\n      paused\n      nextRunAt\n    }\n  }\n": typeof types.UpdateScheduleDocument,
    "\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id)\n  }\n": typeof types.DeleteScheduleDocument,
    "\n  query Templates {\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          version\n          name\n          description\n          requiresReview\n          maxAttempts\n          timeoutSeconds\n          crew\n          typicalCostUsd\n        }\n      }\n    }\n  }\n": typeof types.TemplatesDocument,
    "\n  query WebhookEndpoints {\n    webhookEndpoints {\n      id\n      url\n      description\n      eventTypes\n      enabled\n      previousSecretExpiresAt\n      deliveries(first: 20) {\n        edges {\n          node {\n            id\n            webhookId\n            eventType\n            status\n            attempts\n            responseStatus\n            durationMs\n            lastError\n            nextRetryAt\n            createdAt\n          }\n        }\n      }\n    }\n  }\n": typeof types.WebhookEndpointsDocument,
    "\n  mutation CreateWebhookEndpoint($input: WebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        id\n        url\n      }\n    }\n  }\n": typeof types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointUpdate!) {\n    updateWebhookEndpoint(id: $id, input: $input) {\n      id\n      url\n      description\n      eventTypes\n      enabled\n    }\n  }\n": typeof types.UpdateWebhookEndpointDocument,
    "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n": typeof types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        id\n        previousSecretExpiresAt\n      }\n    }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation RedeliverWebhook($id: ID!) {\n    redeliverWebhook(deliveryId: $id) {\n      id\n      status\n      attempts\n      nextRetryAt\n    }\n  }\n": typeof types.RedeliverWebhookDocument,
};
const documents: Documents = {
    "\n  fragment AttemptDiffFields on AttemptDiff {\n    fromAttempt\n    toAttempt\n    baseCommit\n    additions\n    deletions\n    linesCut\n    unavailableReason\n    files {\n      path\n      status\n      binary\n      additions\n      deletions\n      note\n      hunks {\n        oldStart\n        oldLines\n        newStart\n        newLines\n        section\n        lines\n      }\n    }\n  }\n": types.AttemptDiffFieldsFragmentDoc,
    "\n  query AttemptChanges($jobId: ID!, $number: Int!, $since: Boolean!) {\n    job(id: $jobId) {\n      id\n      attempt(number: $number) {\n        id\n        number\n        baseCommit\n        diff @skip(if: $since) {\n          ...AttemptDiffFields\n        }\n        diffSince @include(if: $since) {\n          ...AttemptDiffFields\n        }\n      }\n    }\n  }\n": types.AttemptChangesDocument,
    "\n  query JobInputRequest($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      inputRequest {\n        task\n        question\n        askedAt\n        expiresAt\n        onTimeout\n      }\n    }\n  }\n": types.JobInputRequestDocument,
    "\n  mutation ProvideInput($jobId: ID!, $answer: String!) {\n    provideInput(jobId: $jobId, answer: $answer) {\n      id\n      state\n      inputRequest {\n        task\n      }\n    }\n  }\n": types.ProvideInputDocument,
    "\n  subscription JobOutput($jobId: ID!, $afterSeq: Int) {\n    jobOutput(jobId: $jobId, afterSeq: $afterSeq) {\n      kind\n      seq\n      task\n      step\n      offset\n      text\n    }\n  }\n": types.JobOutputDocument,
    "\n  fragment DecidedReview on Review {\n    id\n    status\n    job {\n      id\n      state\n    }\n  }\n": types.DecidedReviewFragmentDoc,
    "\n  mutation ApproveReview($id: ID!, $comment: String, $output: JSON) {\n    approveReview(id: $id, comment: $comment, output: $output) {\n      ...DecidedReview\n    }\n  }\n": types.ApproveReviewDocument,
    "\n  mutation RejectReview($id: ID!, $comment: String!) {\n    rejectReview(id: $id, comment: $comment) {\n      ...DecidedReview\n    }\n  }\n": types.RejectReviewDocument,
    "\n  mutation RequestChanges($id: ID!, $feedback: String!, $fromTask: String) {\n    requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) {\n      ...DecidedReview\n    }\n  }\n": types.RequestChangesDocument,
    "\n  fragment JobEventFields on JobEvent {\n    id\n    seq\n    jobId\n    type\n    fromState\n    toState\n    message\n    data\n    actor\n    attemptNumber\n    createdAt\n  }\n": types.JobEventFieldsFragmentDoc,
    "\n  query Viewer {\n    viewer {\n      tokenName\n      role\n      project {\n        id\n        slug\n        name\n      }\n    }\n  }\n": types.ViewerDocument,
    "\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...JobEventFields\n    }\n  }\n": types.JobEventsDocument,
    "\n  subscription ProjectEvents {\n    projectEvents {\n      id\n      jobId\n      seq\n      type\n      toState\n    }\n  }\n": types.ProjectEventsDocument,
    "\n  query Budgets {\n    budgets {\n      id\n      period\n      periodStart\n      limitUsd\n      spentUsd\n      remainingUsd\n      percentUsed\n    }\n  }\n": types.BudgetsDocument,
    "\n  query Spend($days: Int!) {\n    spend(days: $days) {\n      day\n      model\n      templateSlug\n      costUsd\n      inputTokens\n      outputTokens\n      charges\n    }\n  }\n": types.SpendDocument,
    "\n  mutation SetBudget($input: BudgetInput!) {\n    setBudget(input: $input) {\n      id\n      limitUsd\n      spentUsd\n      period\n    }\n  }\n": types.SetBudgetDocument,
    "\n  query CrewMonitorJob($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      input\n      output\n      costUsd\n      maxCostUsd\n      attemptCount\n      feedback\n      lastError\n      createdBy\n      createdAt\n      finishedAt\n      template {\n        slug\n        name\n        crew\n        requiresReview\n        maxAttempts\n      }\n      # The latest attempts (a page holds 100; jobs rarely have more than maxAttempts plus review rounds).\n      attempts(last: 100) {\n        edges {\n          node {\n            id\n            number\n            state\n            executor\n            baseCommit\n            startedAt\n            finishedAt\n            exitReason\n            errorCode\n            costUsd\n            inputTokens\n            outputTokens\n            guardrailResults\n            feedback\n            artifacts {\n              id\n              path\n              contentType\n              sizeBytes\n              downloadUrl\n            }\n          }\n        }\n      }\n      review {\n        id\n        status\n        output\n      }\n    }\n  }\n": types.CrewMonitorJobDocument,
    "\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      id\n      state\n    }\n  }\n": types.CancelJobDocument,
    "\n  query WaitingForInput {\n    jobs(filter: { states: [AWAITING_INPUT] }, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          template {\n            name\n          }\n          inputRequest {\n            task\n            question\n            askedAt\n            expiresAt\n            onTimeout\n          }\n        }\n      }\n    }\n  }\n": types.WaitingForInputDocument,
    "\n  query Jobs($filter: JobFilter) {\n    jobs(first: 50, filter: $filter) {\n      edges {\n        node {\n          id\n          state\n          costUsd\n          attemptCount\n          createdAt\n          createdBy\n          input\n          template {\n            slug\n            name\n          }\n        }\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          slug\n          name\n        }\n      }\n    }\n  }\n": types.JobsDocument,
    "\n  query LaunchTemplate($slug: String!) {\n    template(slug: $slug) {\n      id\n      slug\n      name\n      description\n      requiresReview\n      inputSchema\n      typicalCostUsd\n    }\n  }\n": types.LaunchTemplateDocument,
    "\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      id\n      state\n    }\n  }\n": types.CreateJobDocument,
    "\n  query Projects {\n    projects {\n      id\n      slug\n      name\n    }\n  }\n": types.ProjectsDocument,
    "\n  mutation CreateProject($input: ProjectInput!) {\n    createProject(input: $input) {\n      project {\n        slug\n        name\n      }\n      adminToken {\n        secret\n      }\n    }\n  }\n": types.CreateProjectDocument,
    "\n  query ReviewQueue {\n    reviews(status: PENDING, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          output\n          job {\n            id\n            costUsd\n            input\n            template {\n              name\n              crew\n            }\n            # The attempt under review is the job's latest; the one before it, for the diff.\n            attempts(last: 2) {\n              edges {\n                node {\n                  id\n                  number\n                  baseCommit\n                  guardrailResults\n                  artifacts {\n                    id\n                    path\n                    contentType\n                    sizeBytes\n                    downloadUrl\n                  }\n                }\n              }\n            }\n          }\n          attempt {\n            id\n            number\n          }\n        }\n      }\n    }\n  }\n": types.ReviewQueueDocument,
    "\n  query RunningLimit {\n    viewer {\n      project {\n        id\n        maxRunningAttempts\n        effectiveMaxRunningAttempts\n      }\n    }\n  }\n": types.RunningLimitDocument,
    "\n  mutation SetMaxRunningAttempts($maxRunningAttempts: Int) {\n    setMaxRunningAttempts(maxRunningAttempts: $maxRunningAttempts) {\n      id\n      maxRunningAttempts\n      effectiveMaxRunningAttempts\n    }\n  }\n": types.SetMaxRunningAttemptsDocument,
    "\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      paused\n      nextRunAt\n      lastTickAt\n      skippedTicks\n      input\n      template {\n        slug\n        name\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          name\n          inputSchema\n        }\n      }\n    }\n  }\n": types.SchedulesDocument,
    "\n  mutation CreateSchedule($input: ScheduleInput!) {\n    createSchedule(input: $input) {\n      id\n    }\n  }\n": types.CreateScheduleDocument,
    "\n  mutation UpdateSchedule($id: ID!, $input: ScheduleUpdate!) {\n    updateSchedule(id: $id, input: $input) {\n      id\n      cron\n      paused\n      nextRunAt\n    }\n  }\n": types.UpdateScheduleDocument,
    "\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id)\n  }\n": types.DeleteScheduleDocument,
    "\n  query Templates {\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          version\n          name\n          description\n          requiresReview\n          maxAttempts\n          timeoutSeconds\n          crew\n          typicalCostUsd\n        }\n      }\n    }\n  }\n": types.TemplatesDocument,
    "\n  query WebhookEndpoints {\n    webhookEndpoints {\n      id\n      url\n      description\n      eventTypes\n      enabled\n      previousSecretExpiresAt\n      deliveries(first: 20) {\n        edges {\n          node {\n            id\n            webhookId\n            eventType\n            status\n            attempts\n            responseStatus\n            durationMs\n            lastError\n            nextRetryAt\n            createdAt\n          }\n        }\n      }\n    }\n  }\n": types.WebhookEndpointsDocument,
    "\n  mutation CreateWebhookEndpoint($input: WebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        id\n        url\n      }\n    }\n  }\n": types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointUpdate!) {\n    updateWebhookEndpoint(id: $id, input: $input) {\n      id\n      url\n      description\n      eventTypes\n      enabled\n    }\n  }\n": types.UpdateWebhookEndpointDocument,
    "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n": types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        id\n        previousSecretExpiresAt\n      }\n    }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation RedeliverWebhook($id: ID!) {\n    redeliverWebhook(deliveryId: $id) {\n      id\n      status\n      attempts\n      nextRetryAt\n    }\n  }\n": types.RedeliverWebhookDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AttemptDiffFields on AttemptDiff {\n    fromAttempt\n    toAttempt\n    baseCommit\n    additions\n    deletions\n    linesCut\n    unavailableReason\n    files {\n      path\n      status\n      binary\n      additions\n      deletions\n      note\n      hunks {\n        oldStart\n        oldLines\n        newStart\n        newLines\n        section\n        lines\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment AttemptDiffFields on AttemptDiff {\n    fromAttempt\n    toAttempt\n    baseCommit\n    additions\n    deletions\n    linesCut\n    unavailableReason\n    files {\n      path\n      status\n      binary\n      additions\n      deletions\n      note\n      hunks {\n        oldStart\n        oldLines\n        newStart\n        newLines\n        section\n        lines\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AttemptChanges($jobId: ID!, $number: Int!, $since: Boolean!) {\n    job(id: $jobId) {\n      id\n      attempt(number: $number) {\n        id\n        number\n        baseCommit\n        diff @skip(if: $since) {\n          ...AttemptDiffFields\n        }\n        diffSince @include(if: $since) {\n          ...AttemptDiffFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AttemptChanges($jobId: ID!, $number: Int!, $since: Boolean!) {\n    job(id: $jobId) {\n      id\n      attempt(number: $number) {\n        id\n        number\n        baseCommit\n        diff @skip(if: $since) {\n          ...AttemptDiffFields\n        }\n        diffSince @include(if: $since) {\n          ...AttemptDiffFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobInputRequest($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      inputRequest {\n        task\n        question\n        askedAt\n        expiresAt\n        onTimeout\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobInputRequest($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      inputRequest {\n        task\n        question\n        askedAt\n        expiresAt\n        onTimeout\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ProvideInput($jobId: ID!, $answer: String!) {\n    provideInput(jobId: $jobId, answer: $answer) {\n      id\n      state\n      inputRequest {\n        task\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ProvideInput($jobId: ID!, $answer: String!) {\n    provideInput(jobId: $jobId, answer: $answer) {\n      id\n      state\n      inputRequest {\n        task\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobOutput($jobId: ID!, $afterSeq: Int) {\n    jobOutput(jobId: $jobId, afterSeq: $afterSeq) {\n      kind\n      seq\n      task\n      step\n      offset\n      text\n    }\n  }\n"): (typeof documents)["\n  subscription JobOutput($jobId: ID!, $afterSeq: Int) {\n    jobOutput(jobId: $jobId, afterSeq: $afterSeq) {\n      kind\n      seq\n      task\n      step\n      offset\n      text\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DecidedReview on Review {\n    id\n    status\n    job {\n      id\n      state\n    }\n  }\n"): (typeof documents)["\n  fragment DecidedReview on Review {\n    id\n    status\n    job {\n      id\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ApproveReview($id: ID!, $comment: String, $output: JSON) {\n    approveReview(id: $id, comment: $comment, output: $output) {\n      ...DecidedReview\n    }\n  }\n"): (typeof documents)["\n  mutation ApproveReview($id: ID!, $comment: String, $output: JSON) {\n    approveReview(id: $id, comment: $comment, output: $output) {\n      ...DecidedReview\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RejectReview($id: ID!, $comment: String!) {\n    rejectReview(id: $id, comment: $comment) {\n      ...DecidedReview\n    }\n  }\n"): (typeof documents)["\n  mutation RejectReview($id: ID!, $comment: String!) {\n    rejectReview(id: $id, comment: $comment) {\n      ...DecidedReview\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestChanges($id: ID!, $feedback: String!, $fromTask: String) {\n    requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) {\n      ...DecidedReview\n    }\n  }\n"): (typeof documents)["\n  mutation RequestChanges($id: ID!, $feedback: String!, $fromTask: String) {\n    requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) {\n      ...DecidedReview\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobEventFields on JobEvent {\n    id\n    seq\n    jobId\n    type\n    fromState\n    toState\n    message\n    data\n    actor\n    attemptNumber\n    createdAt\n  }\n"): (typeof documents)["\n  fragment JobEventFields on JobEvent {\n    id\n    seq\n    jobId\n    type\n    fromState\n    toState\n    message\n    data\n    actor\n    attemptNumber\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      tokenName\n      role\n      project {\n        id\n        slug\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      tokenName\n      role\n      project {\n        id\n        slug\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...JobEventFields\n    }\n  }\n"): (typeof documents)["\n  subscription JobEvents($jobId: ID!, $afterSeq: Int) {\n    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {\n      ...JobEventFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ProjectEvents {\n    projectEvents {\n      id\n      jobId\n      seq\n      type\n      toState\n    }\n  }\n"): (typeof documents)["\n  subscription ProjectEvents {\n    projectEvents {\n      id\n      jobId\n      seq\n      type\n      toState\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Budgets {\n    budgets {\n      id\n      period\n      periodStart\n      limitUsd\n      spentUsd\n      remainingUsd\n      percentUsed\n    }\n  }\n"): (typeof documents)["\n  query Budgets {\n    budgets {\n      id\n      period\n      periodStart\n      limitUsd\n      spentUsd\n      remainingUsd\n      percentUsed\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Spend($days: Int!) {\n    spend(days: $days) {\n      day\n      model\n      templateSlug\n      costUsd\n      inputTokens\n      outputTokens\n      charges\n    }\n  }\n"): (typeof documents)["\n  query Spend($days: Int!) {\n    spend(days: $days) {\n      day\n      model\n      templateSlug\n      costUsd\n      inputTokens\n      outputTokens\n      charges\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetBudget($input: BudgetInput!) {\n    setBudget(input: $input) {\n      id\n      limitUsd\n      spentUsd\n      period\n    }\n  }\n"): (typeof documents)["\n  mutation SetBudget($input: BudgetInput!) {\n    setBudget(input: $input) {\n      id\n      limitUsd\n      spentUsd\n      period\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CrewMonitorJob($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      input\n      output\n      costUsd\n      maxCostUsd\n      attemptCount\n      feedback\n      lastError\n      createdBy\n      createdAt\n      finishedAt\n      template {\n        slug\n        name\n        crew\n        requiresReview\n        maxAttempts\n      }\n      # The latest attempts (a page holds 100; jobs rarely have more than maxAttempts plus review rounds).\n      attempts(last: 100) {\n        edges {\n          node {\n            id\n            number\n            state\n            executor\n            baseCommit\n            startedAt\n            finishedAt\n            exitReason\n            errorCode\n            costUsd\n            inputTokens\n            outputTokens\n            guardrailResults\n            feedback\n            artifacts {\n              id\n              path\n              contentType\n              sizeBytes\n              downloadUrl\n            }\n          }\n        }\n      }\n      review {\n        id\n        status\n        output\n      }\n    }\n  }\n"): (typeof documents)["\n  query CrewMonitorJob($id: ID!) {\n    job(id: $id) {\n      id\n      state\n      input\n      output\n      costUsd\n      maxCostUsd\n      attemptCount\n      feedback\n      lastError\n      createdBy\n      createdAt\n      finishedAt\n      template {\n        slug\n        name\n        crew\n        requiresReview\n        maxAttempts\n      }\n      # The latest attempts (a page holds 100; jobs rarely have more than maxAttempts plus review rounds).\n      attempts(last: 100) {\n        edges {\n          node {\n            id\n            number\n            state\n            executor\n            baseCommit\n            startedAt\n            finishedAt\n            exitReason\n            errorCode\n            costUsd\n            inputTokens\n            outputTokens\n            guardrailResults\n            feedback\n            artifacts {\n              id\n              path\n              contentType\n              sizeBytes\n              downloadUrl\n            }\n          }\n        }\n      }\n      review {\n        id\n        status\n        output\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      id\n      state\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      id\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WaitingForInput {\n    jobs(filter: { states: [AWAITING_INPUT] }, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          template {\n            name\n          }\n          inputRequest {\n            task\n            question\n            askedAt\n            expiresAt\n            onTimeout\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WaitingForInput {\n    jobs(filter: { states: [AWAITING_INPUT] }, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          template {\n            name\n          }\n          inputRequest {\n            task\n            question\n            askedAt\n            expiresAt\n            onTimeout\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($filter: JobFilter) {\n    jobs(first: 50, filter: $filter) {\n      edges {\n        node {\n          id\n          state\n          costUsd\n          attemptCount\n          createdAt\n          createdBy\n          input\n          template {\n            slug\n            name\n          }\n        }\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          slug\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Jobs($filter: JobFilter) {\n    jobs(first: 50, filter: $filter) {\n      edges {\n        node {\n          id\n          state\n          costUsd\n          attemptCount\n          createdAt\n          createdBy\n          input\n          template {\n            slug\n            name\n          }\n        }\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          slug\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LaunchTemplate($slug: String!) {\n    template(slug: $slug) {\n      id\n      slug\n      name\n      description\n      requiresReview\n      inputSchema\n      typicalCostUsd\n    }\n  }\n"): (typeof documents)["\n  query LaunchTemplate($slug: String!) {\n    template(slug: $slug) {\n      id\n      slug\n      name\n      description\n      requiresReview\n      inputSchema\n      typicalCostUsd\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      id\n      state\n    }\n  }\n"): (typeof documents)["\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      id\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projects {\n    projects {\n      id\n      slug\n      name\n    }\n  }\n"): (typeof documents)["\n  query Projects {\n    projects {\n      id\n      slug\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProject($input: ProjectInput!) {\n    createProject(input: $input) {\n      project {\n        slug\n        name\n      }\n      adminToken {\n        secret\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateProject($input: ProjectInput!) {\n    createProject(input: $input) {\n      project {\n        slug\n        name\n      }\n      adminToken {\n        secret\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ReviewQueue {\n    reviews(status: PENDING, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          output\n          job {\n            id\n            costUsd\n            input\n            template {\n              name\n              crew\n            }\n            # The attempt under review is the job's latest; the one before it, for the diff.\n            attempts(last: 2) {\n              edges {\n                node {\n                  id\n                  number\n                  baseCommit\n                  guardrailResults\n                  artifacts {\n                    id\n                    path\n                    contentType\n                    sizeBytes\n                    downloadUrl\n                  }\n                }\n              }\n            }\n          }\n          attempt {\n            id\n            number\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ReviewQueue {\n    reviews(status: PENDING, first: 100) {\n      edges {\n        node {\n          id\n          createdAt\n          output\n          job {\n            id\n            costUsd\n            input\n            template {\n              name\n              crew\n            }\n            # The attempt under review is the job's latest; the one before it, for the diff.\n            attempts(last: 2) {\n              edges {\n                node {\n                  id\n                  number\n                  baseCommit\n                  guardrailResults\n                  artifacts {\n                    id\n                    path\n                    contentType\n                    sizeBytes\n                    downloadUrl\n                  }\n                }\n              }\n            }\n          }\n          attempt {\n            id\n            number\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunningLimit {\n    viewer {\n      project {\n        id\n        maxRunningAttempts\n        effectiveMaxRunningAttempts\n      }\n    }\n  }\n"): (typeof documents)["\n  query RunningLimit {\n    viewer {\n      project {\n        id\n        maxRunningAttempts\n        effectiveMaxRunningAttempts\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetMaxRunningAttempts($maxRunningAttempts: Int) {\n    setMaxRunningAttempts(maxRunningAttempts: $maxRunningAttempts) {\n      id\n      maxRunningAttempts\n      effectiveMaxRunningAttempts\n    }\n  }\n"): (typeof documents)["\n  mutation SetMaxRunningAttempts($maxRunningAttempts: Int) {\n    setMaxRunningAttempts(maxRunningAttempts: $maxRunningAttempts) {\n      id\n      maxRunningAttempts\n      effectiveMaxRunningAttempts\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      paused\n      nextRunAt\n      lastTickAt\n      skippedTicks\n      input\n      template {\n        slug\n        name\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          name\n          inputSchema\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      paused\n      nextRunAt\n      lastTickAt\n      skippedTicks\n      input\n      template {\n        slug\n        name\n      }\n    }\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          name\n          inputSchema\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSchedule($input: ScheduleInput!) {\n    createSchedule(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation CreateSchedule($input: ScheduleInput!) {\n    createSchedule(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateSchedule($id: ID!, $input: ScheduleUpdate!) {\n    updateSchedule(id: $id, input: $input) {\n      id\n      cron\n      paused\n      nextRunAt\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateSchedule($id: ID!, $input: ScheduleUpdate!) {\n    updateSchedule(id: $id, input: $input) {\n      id\n      cron\n      paused\n      nextRunAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Templates {\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          version\n          name\n          description\n          requiresReview\n          maxAttempts\n          timeoutSeconds\n          crew\n          typicalCostUsd\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Templates {\n    templates(first: 100) {\n      edges {\n        node {\n          id\n          slug\n          version\n          name\n          description\n          requiresReview\n          maxAttempts\n          timeoutSeconds\n          crew\n          typicalCostUsd\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEndpoints {\n    webhookEndpoints {\n      id\n      url\n      description\n      eventTypes\n      enabled\n      previousSecretExpiresAt\n      deliveries(first: 20) {\n        edges {\n          node {\n            id\n            webhookId\n            eventType\n            status\n            attempts\n            responseStatus\n            durationMs\n            lastError\n            nextRetryAt\n            createdAt\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebhookEndpoints {\n    webhookEndpoints {\n      id\n      url\n      description\n      eventTypes\n      enabled\n      previousSecretExpiresAt\n      deliveries(first: 20) {\n        edges {\n          node {\n            id\n            webhookId\n            eventType\n            status\n            attempts\n            responseStatus\n            durationMs\n            lastError\n            nextRetryAt\n            createdAt\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhookEndpoint($input: WebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        id\n        url\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateWebhookEndpoint($input: WebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        id\n        url\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointUpdate!) {\n    updateWebhookEndpoint(id: $id, input: $input) {\n      id\n      url\n      description\n      eventTypes\n      enabled\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointUpdate!) {\n    updateWebhookEndpoint(id: $id, input: $input) {\n      id\n      url\n      description\n      eventTypes\n      enabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        id\n        previousSecretExpiresAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        id\n        previousSecretExpiresAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeliverWebhook($id: ID!) {\n    redeliverWebhook(deliveryId: $id) {\n      id\n      status\n      attempts\n      nextRetryAt\n    }\n  }\n"): (typeof documents)["\n  mutation RedeliverWebhook($id: ID!) {\n    redeliverWebhook(deliveryId: $id) {\n      id\n      status\n      attempts\n      nextRetryAt\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;