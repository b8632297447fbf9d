-- Written by hand in Prisma's layout (the Prisma CLI's schema engine cannot run offline).
-- Agent runtime: a template names where its workspace comes from and the checks it runs; an
-- attempt records the commit its workspace started from.

-- AlterTable
ALTER TABLE "Template" ADD COLUMN "workspace" JSONB,
ADD COLUMN "checks" JSONB NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "JobAttempt" ADD COLUMN "baseCommit" TEXT;
