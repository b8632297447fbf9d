-- Written by hand in Prisma's layout. Per-project concurrency (issue 14, part 3): a limit on the
-- attempts of a project that run at once, and the mark of a QUEUED job that found its project at
-- that limit (it has no queue entry until a slot frees; see server/engine/project-slots.ts).

-- AlterTable
ALTER TABLE "Project" ADD COLUMN "maxRunningAttempts" INTEGER;
ALTER TABLE "Job" ADD COLUMN "slotWaitSince" TIMESTAMPTZ(3);

-- Partial indexes (not expressible in schema.prisma): a project's running attempts are counted at
-- every claim under a limit, and its waiting jobs looked up at every release.
CREATE INDEX "JobAttempt_running_idx" ON "JobAttempt"("jobId") WHERE state = 'RUNNING';
CREATE INDEX "Job_slotWait_idx" ON "Job"("projectId", "slotWaitSince") WHERE "slotWaitSince" IS NOT NULL;
