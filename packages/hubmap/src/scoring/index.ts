export { type DiceParts, type RunList, runArea, runDice, runIntersection } from './run-dice.js';
export {
  type ImageScore,
  type ScoreOptions,
  ScoringError,
  type SubmissionScore,
  scoreSubmission,
} from './score-submission.js';
