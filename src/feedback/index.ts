/**
 * The feedback room: the typed record, its validation, and conversions between
 * kinds. Pure: imports no I/O.
 */
export * from "./schema.js";
export * from "./validate.js";
export * from "./convert.js";
