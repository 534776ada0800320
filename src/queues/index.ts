/**
 * The queues room: annotation queues over stored generations. Which tasks a selection makes, what an
 * annotator is shown (blind, in a recorded random order), how answers become typed feedback records, and
 * a queue's progress and agreement. The queue tables are the store's; the shapes are in ./schema.ts.
 */
export {
  ANSWER_SCHEMAS,
  AdjudicateBody,
  COMPARATIVE,
  CreateQueueBody,
  DraftBody,
  MineQuery,
  ReviseBody,
  RouteQueueBody,
  SuggestionSource,
  SuggestionsBody,
  QUESTION_KINDS,
  QUEUE_ID_PREFIX,
  Question,
  QueueDefinition,
  RESERVED_METADATA_KEYS,
  ReleaseQuery,
  SELECTION_MODES,
  Selection,
  SubmitBody,
  TasksQuery,
  feedbackKindOf,
  type QuestionKind,
  type QueueStats,
  type QueueTaskList,
  type QueueView,
  type SubmitResult,
  type TaskView,
  type MyTaskList,
  type TaskAnswers,
} from "./schema.js";
export { MAX_TASKS, shuffleInPlace, tasksOf } from "./select.js";
export { type Built, buildRecords, queueFeedbackId } from "./answers.js";
export { definitionOf } from "./definition.js";
export {
  DEFAULT_LOCK_SECONDS,
  createQueue,
  deleteQueue,
  heldTask,
  nextTask,
  openTo,
  queueTasks,
  queueView,
  releaseTask,
  saveDraft,
  setSuggestions,
  skipTask,
  submitAnswers,
  taskView,
} from "./service.js";
export { queueStats } from "./stats.js";
export { adjudicateTask, myTasks, reviseAnswers, taskAnswers } from "./review.js";
export { type ResolvedSuggestion, keepsSuggestion, markSuggestions, suggestionsFor } from "./suggestions.js";
export { DEFAULT_ROUTE_QUESTION, queueFromRoute } from "./route.js";
