-- Written by hand in Prisma's layout (the Prisma CLI's schema engine cannot run offline).
-- Agents' tool calls and their results are job events of their own types (runner events
-- tool_call / tool_result), so clients can filter them.

-- AlterEnum
ALTER TYPE "JobEventType" ADD VALUE 'TOOL_CALL';
ALTER TYPE "JobEventType" ADD VALUE 'TOOL_RESULT';
