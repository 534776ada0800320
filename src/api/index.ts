/**
 * The HTTP API's shapes, declared once as zod schemas, with their types: the server validates requests and
 * generates its OpenAPI document from them; the TypeScript client and the web app take their types from here
 * (`import type`). Nothing reachable from this door needs Node.
 */
export * from "./http.js";
export * from "../queues/schema.js";
export * from "../rewards/schema.js";
export * from "../eval/schema.js";
export * from "../loops/schema.js";
export * from "../jobs/schema.js";
export * from "../rules/schema.js";
export {
  ChatMessage,
  FEEDBACK_KINDS,
  Feedback,
  Generation,
  Id,
  Item,
  Prompt,
  SOURCE_TYPES,
  type FeedbackInput,
  type FeedbackKind,
  type FeedbackOf,
  type GenerationInput,
  type ItemInput,
  type SourceType,
} from "../feedback/schema.js";
export { PERMISSIONS, ROLES, ROLE_SUMMARIES, isRole, may, rolesFor, type Action, type Role } from "../roles.js";
export { API_ERROR_CODES, type FieldIssue } from "../errors.js";
export { EXPORT_FORMATS, IMPORT_FORMATS, type ExportFormat, type ImportFormat } from "../io/schema.js";
