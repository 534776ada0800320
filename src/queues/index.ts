/**
 * The queues room: annotation queues over stored generations. Which tasks a selection makes, what an
 * annotator is shown (blind, in a recorded random order), how answers become typed feedback records, and
 * a queue's progress and agreement. The queue tables are the store's; the shapes are in ./schema.ts.
 */
export {
  ANSWER_SCHEMAS,
  COMPARATIVE,
  CreateQueueBody,
  DraftBody,
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
} from "./schema.js";
export { MAX_TASKS, shuffleInPlace, tasksOf } from "./select.js";
export { type Built, buildRecords } from "./answers.js";
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
  skipTask,
  submitAnswers,
  taskView,
} from "./service.js";
export { queueStats } from "./stats.js";
