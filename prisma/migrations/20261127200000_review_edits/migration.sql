-- Written by hand in Prisma's layout. Reviewer edits (issue 13): approveReview may carry an edited
-- output, kept beside the crew's (Review.output) as the reviewer's own.

-- AlterTable
ALTER TABLE "Review" ADD COLUMN "editedOutput" JSONB;
