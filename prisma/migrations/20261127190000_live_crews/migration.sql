-- Written by hand in Prisma's layout (the Prisma CLI's schema engine cannot run offline).
-- Live, interruptible crews (issue 13): a job can wait for a person's answer (AWAITING_INPUT, its
-- attempt PAUSED); every completed task leaves a checkpoint (output, usage, workspace patch) that
-- later attempts resume from; usage records name their task; a step's complete message is an event.

ALTER TYPE "JobState" ADD VALUE 'AWAITING_INPUT';
ALTER TYPE "AttemptState" ADD VALUE 'PAUSED';
ALTER TYPE "JobEventType" ADD VALUE 'MESSAGE';

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "inputRequest" JSONB,
ADD COLUMN "inputExpiresAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "UsageRecord" ADD COLUMN "task" TEXT;

-- CreateTable
CREATE TABLE "TaskCheckpoint" (
    "id" BIGSERIAL NOT NULL,
    "jobId" UUID NOT NULL,
    "attemptId" UUID,
    "attemptNumber" INTEGER NOT NULL,
    "task" TEXT NOT NULL,
    "taskIndex" INTEGER NOT NULL,
    "output" TEXT NOT NULL,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "baseCommit" TEXT,
    "commit" TEXT,
    "patch" TEXT,
    "resumable" BOOLEAN NOT NULL DEFAULT true,
    "question" TEXT,
    "answer" TEXT,
    "answeredBy" TEXT,
    "answeredAt" TIMESTAMPTZ(3),
    "supersededAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TaskCheckpoint_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TaskCheckpoint_jobId_id_idx" ON "TaskCheckpoint"("jobId", "id");

-- AddForeignKey
ALTER TABLE "TaskCheckpoint" ADD CONSTRAINT "TaskCheckpoint_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskCheckpoint" ADD CONSTRAINT "TaskCheckpoint_attemptId_fkey" FOREIGN KEY ("attemptId") REFERENCES "JobAttempt"("id") ON DELETE SET NULL ON UPDATE CASCADE;
