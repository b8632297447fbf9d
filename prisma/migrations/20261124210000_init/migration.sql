-- Written by hand in Prisma's layout (the Prisma CLI's schema engine cannot run offline).
-- server/db/schema-drift.test.ts proves this matches prisma/schema.prisma.

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('VIEWER', 'OPERATOR', 'REVIEWER', 'ADMIN');
CREATE TYPE "JobState" AS ENUM ('QUEUED', 'RUNNING', 'AWAITING_REVIEW', 'SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED');
CREATE TYPE "AttemptState" AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED', 'LOST');
CREATE TYPE "JobEventType" AS ENUM ('STATE_CHANGED', 'LOG', 'TASK_STARTED', 'TASK_COMPLETED', 'USAGE', 'GUARDRAIL', 'ARTIFACT', 'BUDGET_THRESHOLD');
CREATE TYPE "ReviewStatus" AS ENUM ('PENDING', 'APPROVED', 'REJECTED', 'CHANGES_REQUESTED', 'CANCELLED');
CREATE TYPE "BudgetPeriod" AS ENUM ('TOTAL', 'DAILY', 'MONTHLY');

-- CreateTable
CREATE TABLE "Project" (
    "id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Project_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "ApiToken" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "secretHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Template" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "crew" JSONB NOT NULL,
    "inputSchema" JSONB NOT NULL,
    "outputSchema" JSONB NOT NULL,
    "requiresReview" BOOLEAN NOT NULL DEFAULT false,
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "timeoutSeconds" INTEGER NOT NULL DEFAULT 600,
    "executor" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Template_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Template_version_check" CHECK ("version" >= 1),
    CONSTRAINT "Template_maxAttempts_check" CHECK ("maxAttempts" BETWEEN 1 AND 10),
    CONSTRAINT "Template_timeoutSeconds_check" CHECK ("timeoutSeconds" > 0)
);

CREATE TABLE "Job" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "templateId" UUID NOT NULL,
    "templateVersion" INTEGER NOT NULL,
    "spec" JSONB NOT NULL,
    "input" JSONB NOT NULL,
    "state" "JobState" NOT NULL DEFAULT 'QUEUED',
    "output" JSONB,
    "idempotencyKey" TEXT,
    "maxCostUsd" DECIMAL(18,8),
    "costUsd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "createdById" UUID,
    "createdBy" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    "attemptCount" INTEGER NOT NULL DEFAULT 0,
    "feedback" TEXT,
    "lastError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),
    CONSTRAINT "Job_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Job_costUsd_check" CHECK ("costUsd" >= 0),
    CONSTRAINT "Job_maxCostUsd_check" CHECK ("maxCostUsd" IS NULL OR "maxCostUsd" >= 0),
    CONSTRAINT "Job_costWithinMax_check" CHECK ("maxCostUsd" IS NULL OR "costUsd" <= "maxCostUsd"),
    CONSTRAINT "Job_counters_check" CHECK ("version" >= 0 AND "lastSeq" >= 0 AND "attemptCount" >= 0)
);

CREATE TABLE "JobAttempt" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "state" "AttemptState" NOT NULL DEFAULT 'RUNNING',
    "executor" TEXT NOT NULL,
    "workerId" TEXT,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),
    "exitReason" TEXT,
    "errorCode" TEXT,
    "costUsd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "guardrailResults" JSONB,
    "output" JSONB,
    "feedback" TEXT,
    CONSTRAINT "JobAttempt_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "JobAttempt_number_check" CHECK ("number" >= 1),
    CONSTRAINT "JobAttempt_costUsd_check" CHECK ("costUsd" >= 0),
    CONSTRAINT "JobAttempt_tokens_check" CHECK ("inputTokens" >= 0 AND "outputTokens" >= 0)
);

CREATE TABLE "JobEvent" (
    "id" BIGSERIAL NOT NULL,
    "jobId" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" "JobEventType" NOT NULL,
    "fromState" "JobState",
    "toState" "JobState",
    "message" TEXT,
    "data" JSONB,
    "actor" TEXT NOT NULL,
    "attemptNumber" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "JobEvent_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "JobEvent_seq_check" CHECK ("seq" >= 1)
);

CREATE TABLE "Review" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "attemptId" UUID,
    "status" "ReviewStatus" NOT NULL DEFAULT 'PENDING',
    "output" JSONB,
    "comment" TEXT,
    "feedback" TEXT,
    "decidedById" UUID,
    "decidedBy" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Review_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Budget" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "limitUsd" DECIMAL(18,8) NOT NULL,
    "spentUsd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "period" "BudgetPeriod" NOT NULL DEFAULT 'MONTHLY',
    "periodStart" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "notifiedThreshold" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Budget_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Budget_limitUsd_check" CHECK ("limitUsd" >= 0),
    CONSTRAINT "Budget_spentUsd_check" CHECK ("spentUsd" >= 0)
);

CREATE TABLE "UsageRecord" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "attemptId" UUID,
    "model" TEXT NOT NULL,
    "inputTokens" INTEGER NOT NULL,
    "outputTokens" INTEGER NOT NULL,
    "costUsd" DECIMAL(18,8) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "UsageRecord_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "UsageRecord_tokens_check" CHECK ("inputTokens" >= 0 AND "outputTokens" >= 0),
    CONSTRAINT "UsageRecord_costUsd_check" CHECK ("costUsd" >= 0)
);

CREATE TABLE "ModelPrice" (
    "model" TEXT NOT NULL,
    "inputUsdPerMillion" DECIMAL(18,8) NOT NULL,
    "outputUsdPerMillion" DECIMAL(18,8) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ModelPrice_pkey" PRIMARY KEY ("model"),
    CONSTRAINT "ModelPrice_prices_check" CHECK ("inputUsdPerMillion" >= 0 AND "outputUsdPerMillion" >= 0)
);

CREATE TABLE "Artifact" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "attemptId" UUID,
    "path" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Artifact_sizeBytes_check" CHECK ("sizeBytes" >= 0)
);

-- CreateIndex
CREATE UNIQUE INDEX "Project_slug_key" ON "Project"("slug");
CREATE UNIQUE INDEX "ApiToken_secretHash_key" ON "ApiToken"("secretHash");
CREATE INDEX "ApiToken_projectId_idx" ON "ApiToken"("projectId");
CREATE UNIQUE INDEX "Template_projectId_slug_key" ON "Template"("projectId", "slug");
CREATE UNIQUE INDEX "Job_projectId_idempotencyKey_key" ON "Job"("projectId", "idempotencyKey");
CREATE INDEX "Job_projectId_createdAt_id_idx" ON "Job"("projectId", "createdAt" DESC, "id");
CREATE INDEX "Job_projectId_state_idx" ON "Job"("projectId", "state");
CREATE UNIQUE INDEX "JobAttempt_jobId_number_key" ON "JobAttempt"("jobId", "number");
-- Finds running attempts whose worker stopped renewing its heartbeat.
CREATE INDEX "JobAttempt_running_heartbeat_idx" ON "JobAttempt"("heartbeatAt") WHERE "state" = 'RUNNING';
CREATE UNIQUE INDEX "JobEvent_jobId_seq_key" ON "JobEvent"("jobId", "seq");
CREATE INDEX "JobEvent_projectId_id_idx" ON "JobEvent"("projectId", "id");
CREATE INDEX "Review_jobId_idx" ON "Review"("jobId");
CREATE INDEX "Review_status_createdAt_idx" ON "Review"("status", "createdAt");
-- At most one open review per job (not expressible in schema.prisma).
CREATE UNIQUE INDEX "Review_one_pending_per_job" ON "Review"("jobId") WHERE "status" = 'PENDING';
CREATE UNIQUE INDEX "Budget_projectId_key" ON "Budget"("projectId");
CREATE INDEX "UsageRecord_projectId_createdAt_idx" ON "UsageRecord"("projectId", "createdAt");
CREATE INDEX "UsageRecord_jobId_idx" ON "UsageRecord"("jobId");
CREATE INDEX "Artifact_jobId_idx" ON "Artifact"("jobId");

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Template" ADD CONSTRAINT "Template_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Job" ADD CONSTRAINT "Job_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Job" ADD CONSTRAINT "Job_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "Template"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "JobAttempt" ADD CONSTRAINT "JobAttempt_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "JobEvent" ADD CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Review" ADD CONSTRAINT "Review_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Review" ADD CONSTRAINT "Review_attemptId_fkey" FOREIGN KEY ("attemptId") REFERENCES "JobAttempt"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Budget" ADD CONSTRAINT "Budget_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_attemptId_fkey" FOREIGN KEY ("attemptId") REFERENCES "JobAttempt"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_attemptId_fkey" FOREIGN KEY ("attemptId") REFERENCES "JobAttempt"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Seed: public list prices (USD per million tokens) of common models, November 2026.
INSERT INTO "ModelPrice" ("model", "inputUsdPerMillion", "outputUsdPerMillion") VALUES
  ('gpt-4o', 2.50, 10.00),
  ('gpt-4o-mini', 0.15, 0.60),
  ('gpt-4.1', 2.00, 8.00),
  ('gpt-4.1-mini', 0.40, 1.60),
  ('claude-sonnet-4-5', 3.00, 15.00),
  ('claude-haiku-4-5', 1.00, 5.00),
  ('claude-opus-4-1', 15.00, 75.00);
