-- Schedules (issue 14): a template run on a cron expression (seconds allowed) in an IANA time zone.
-- The pending tick is a graphile-worker job keyed `schedule:<id>`; each tick that ran is a row of
-- "ScheduleTick", whose primary key (schedule, scheduled time) makes a tick happen once.
CREATE TABLE "Schedule" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "templateId" UUID NOT NULL,
    "input" JSONB NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 1,
    "nextRunAt" TIMESTAMPTZ(3),
    "lastTickAt" TIMESTAMPTZ(3),
    "skippedTicks" INTEGER NOT NULL DEFAULT 0,
    "createdById" UUID,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Schedule_projectId_idx" ON "Schedule"("projectId");
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "Template"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "ScheduleTick" (
    "scheduleId" UUID NOT NULL,
    "scheduledAt" TIMESTAMPTZ(3) NOT NULL,
    "jobId" UUID,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ScheduleTick_pkey" PRIMARY KEY ("scheduleId", "scheduledAt")
);
CREATE UNIQUE INDEX "ScheduleTick_jobId_key" ON "ScheduleTick"("jobId");
ALTER TABLE "ScheduleTick" ADD CONSTRAINT "ScheduleTick_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "Schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ScheduleTick" ADD CONSTRAINT "ScheduleTick_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;
