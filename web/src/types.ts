/** Records and queue shapes as the API returns them. */

export type ChatMessage = { role: string; content: string };
export type Prompt = string | ChatMessage[];

export interface Item {
  id: string;
  project?: string;
  prompt: Prompt;
  reference?: string;
  dataset?: string;
  metadata?: Record<string, unknown>;
  createdAt?: string;
}

export interface Generation {
  id: string;
  itemId: string;
  policy: string;
  output: string;
  metadata?: Record<string, unknown>;
  createdAt?: string;
}

export interface Feedback {
  id: string;
  kind: string;
  targets: string[];
  source: { type: string; id: string };
  value: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  createdAt?: string;
}

export interface Page<T> {
  records: T[];
  nextCursor?: string;
}

export const QUESTION_KINDS = ["pairwise", "ranking", "rating", "binary", "critique", "span", "rubric", "correction"] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];

export interface Criterion {
  id: string;
  description: string;
  weight?: number;
  maxScore?: number;
}

export interface Question {
  id: string;
  kind: QuestionKind;
  prompt: string;
  description?: string;
  required?: boolean;
  /** pairwise */
  allowTie?: boolean;
  strength?: boolean;
  /** rating */
  min?: number;
  max?: number;
  step?: number;
  dimension?: string;
  /** rating: labels of some scores; span: the labels; binary: {yes, no} */
  labels?: string[] | Record<string, string>;
  /** rubric */
  criteria?: Criterion[];
  /** critique: ask for a verdict (default true) */
  verdict?: boolean;
  [option: string]: unknown;
}

export interface Selection {
  dataset?: string;
  policies?: string[];
  itemIds?: string[];
  mode: "generations" | "pairs" | "lists";
  sample?: { n: number; seed: number };
}

export interface Progress {
  tasks: number;
  done: number;
  needed: number;
  submitted: number;
  skipped: number;
  inProgress: number;
}

export interface Queue {
  id: string;
  name: string;
  instructions?: string;
  selection: Selection;
  questions: Question[];
  annotatorsPerItem: number;
  lockSeconds?: number;
  annotators?: string[];
  createdAt?: string;
  progress?: Progress;
  /** For annotate keys: their own work on the queue. */
  mine?: { submitted: number; skipped: number; holding: number };
}

export type Answers = Record<string, unknown>;

/** An output as an annotator sees it: blind (no id, no policy), in the order recorded for them. */
export interface ShownGeneration {
  slot: number;
  output: string;
}

export interface Task {
  id: string;
  queueId: string;
  item: Item;
  generations: ShownGeneration[];
  questions: Question[];
  instructions?: string;
  draft?: Answers;
  lockedUntil: string;
}
