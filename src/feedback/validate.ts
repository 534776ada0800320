import type { z } from "zod";
import { ValidationError, issuesFromZod } from "../errors.js";
import { Feedback, Generation, Item } from "./schema.js";

function parseWith<S extends z.ZodType>(schema: S, input: unknown, record: string | undefined, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), record, what);
  return r.data;
}

/** Validate an item; throws `ValidationError` naming `record` (e.g. "line 12") and each bad field. */
export const parseItem = (input: unknown, record?: string): Item => parseWith(Item, input, record, "item");
export const parseGeneration = (input: unknown, record?: string): Generation =>
  parseWith(Generation, input, record, "generation");
export const parseFeedback = (input: unknown, record?: string): Feedback =>
  parseWith(Feedback, input, record, "feedback");

/** Checks that need the target's output: span offsets must lie inside it. */
export function checkAgainstOutputs(f: Feedback, outputOf: (generationId: string) => string | undefined, record?: string): void {
  const target = f.targets[0];
  if (f.kind !== "spans" || target === undefined) return;
  const out = outputOf(target);
  if (out === undefined) return;
  f.value.spans.forEach((s, i) => {
    if (s.end > out.length) {
      throw new ValidationError(
        [{ path: `value.spans.${i}.end`, message: `span ends at ${s.end} but the output has ${out.length} UTF-16 code units` }],
        record,
        "feedback",
      );
    }
  });
}
