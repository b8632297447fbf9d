import { graphql } from '../gql';

// Fragments and operations shared by several screens. Screen-specific ones live with their screen.

export const JobEventFields = graphql(`
  fragment JobEventFields on JobEvent {
    id
    seq
    jobId
    type
    fromState
    toState
    message
    data
    actor
    attemptNumber
    createdAt
  }
`);

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      tokenName
      role
      project {
        id
        slug
        name
      }
    }
  }
`);

export const JobEventsSubscription = graphql(`
  subscription JobEvents($jobId: ID!, $afterSeq: Int) {
    jobEvents(jobId: $jobId, afterSeq: $afterSeq) {
      ...JobEventFields
    }
  }
`);

export const ProjectEventsSubscription = graphql(`
  subscription ProjectEvents {
    projectEvents {
      id
      jobId
      seq
      type
      toState
    }
  }
`);

export const BudgetsQuery = graphql(`
  query Budgets {
    budgets {
      id
      period
      periodStart
      limitUsd
      spentUsd
      remainingUsd
      percentUsed
    }
  }
`);
