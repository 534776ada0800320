/** Records and queue shapes as the API returns them: the API's own declarations (src/api), types only. */
export type {
  ChatMessage,
  Feedback,
  Generation,
  Item,
  Page,
  Progress,
  Prompt,
  Question,
  QuestionKind,
  QueueView as Queue,
  Selection,
  ShownGeneration,
  TaskView as Task,
} from "../../src/api/index.js";

/** Answers of a task in progress, by question id (as drafts keep them). */
export type Answers = Record<string, unknown>;
