/**
 * Judge and critic configs: a prompt template, a parser and settings, as JSON.
 * rlxf ships a default set (defaults.ts); users add their own as JSON files.
 *
 * ```json
 * {
 *   "name": "my-pairwise",
 *   "kind": "pairwise",
 *   "prompt": [
 *     {"role": "system", "content": "You compare two answers."},
 *     {"role": "user", "content": "Instruction: {{instruction}}\n\n(a) {{output_1}}\n\n(b) {{output_2}}\n\nAnswer a or b."}
 *   ],
 *   "parser": {"type": "regex", "patterns": {"1": "^\\s*a\\b", "2": "^\\s*b\\b"}},
 *   "completion": {"temperature": 0, "maxTokens": 5},
 *   "order": "random",
 *   "retries": 2
 * }
 * ```
 *
 * Kinds, their placeholders and the feedback they produce:
 *
 * | kind | placeholders | feedback |
 * |---|---|---|
 * | `pairwise` | instruction, output_1, output_2, reference | `pairwise` (targets: output_1, output_2) |
 * | `rubric` | instruction, output, criteria, reference | `rubric` |
 * | `checklist` | instruction, reference | (none: makes the criteria a `rubric` judge grades) |
 * | `critique` | instruction, output, reference | `critique` |
 * | `steps` | instruction, steps, output, reference | `spans` (the first wrong step; none: no spans) |
 * | `reference` | instruction, output, reference | `rating` (a score) or `binary` (correct or not) |
 *
 * Parsers: `regex` (named patterns; the last match in the answer wins unless
 * `pick: "first"`), `json` (the first JSON value in the answer, fences
 * allowed), `logprob` (pairwise: probability mass on the answer tokens, as
 * AlpacaEval 2 does; falls back to the text when there are no logprobs),
 * `ranking` (pairwise: AlpacaEval's `[{'model': 'model_1', 'rank': 1}, ...]`),
 * `lines` (checklist: one item per non-empty line).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { RlxfError, ValidationError, issuesFromZod } from "../errors.js";
import { SourceType } from "../feedback/schema.js";
import { patternProblem } from "./regex.js";
import { placeholders } from "./template.js";

export const JUDGE_KINDS = ["pairwise", "rubric", "checklist", "critique", "steps", "reference"] as const;
export type JudgeKind = (typeof JUDGE_KINDS)[number];

export const PLACEHOLDERS: Record<JudgeKind, readonly string[]> = {
  pairwise: ["instruction", "output_1", "output_2", "reference"],
  rubric: ["instruction", "output", "criteria", "reference"],
  checklist: ["instruction", "reference"],
  critique: ["instruction", "output", "reference"],
  steps: ["instruction", "steps", "output", "reference"],
  reference: ["instruction", "output", "reference"],
};

const Message = z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() });

const RegexParser = z.strictObject({
  type: z.literal("regex"),
  /**
   * pairwise: keys "1", "2" and optionally "tie"; reference: "score" (group 1
   * is the number) and/or "correct" / "incorrect"; steps: "step" (group 1 is the
   * step number, 0 or "none" for no error) and optionally "none". JavaScript syntax, run by a
   * linear-time engine (RE2): no backreferences or lookaround.
   */
  patterns: z.record(z.string(), z.string()),
  /** Regex flags; default "i". */
  flags: z.string().optional(),
  /** Which match counts when several patterns match: the last in the answer (default) or the first. */
  pick: z.enum(["first", "last"]).optional(),
});

const JsonParser = z.strictObject({ type: z.literal("json") });

const LogprobParser = z.strictObject({
  type: z.literal("logprob"),
  /** Tokens that name output_1 ("1") and output_2 ("2"), compared after trimming whitespace. */
  tokens: z.strictObject({ "1": z.array(z.string()).min(1), "2": z.array(z.string()).min(1) }),
  /** Round the probability to a hard 1 or 2. */
  binarize: z.boolean().optional(),
  /** Patterns read from the text when the answer has no usable logprobs (default: the text must be one of the tokens). */
  fallback: RegexParser.optional(),
});

const RankingParser = z.strictObject({
  type: z.literal("ranking"),
  /** The names the prompt gives output_1 and output_2; default model_1, model_2. */
  models: z.strictObject({ "1": z.string(), "2": z.string() }).optional(),
});

const LinesParser = z.strictObject({ type: z.literal("lines") });

export const ParserConfig = z.discriminatedUnion("type", [RegexParser, JsonParser, LogprobParser, RankingParser, LinesParser]);
export type ParserConfig = z.infer<typeof ParserConfig>;

export const CompletionConfig = z.strictObject({
  model: z.string().optional(),
  temperature: z.number().min(0).optional(),
  maxTokens: z.number().int().positive().optional(),
  topP: z.number().min(0).max(1).optional(),
  stop: z.array(z.string()).optional(),
  seed: z.number().int().optional(),
  logprobs: z.boolean().optional(),
  topLogprobs: z.number().int().min(0).max(20).optional(),
  logitBias: z.record(z.string(), z.number()).optional(),
  json: z.boolean().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});
export type CompletionConfig = z.infer<typeof CompletionConfig>;

export const CriterionSpec = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    weight: z.number().min(0).optional(),
    maxScore: z.number().positive().optional(),
  }),
]);
export type CriterionSpec = z.infer<typeof CriterionSpec>;

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' or '-'").max(100);

export const PAIRWISE_ORDERS = ["random", "both", "fixed"] as const;
export type PairwiseOrder = (typeof PAIRWISE_ORDERS)[number];

const judgeFields = {
  name: Name,
  kind: z.enum(JUDGE_KINDS),
  description: z.string().optional(),
  /** A user message, or a whole conversation (system / user / assistant turns). */
  prompt: z.union([z.string().min(1), z.array(Message).min(1)]),
  parser: ParserConfig,
  completion: CompletionConfig.optional(),
  /**
   * pairwise: `random` (default) shows the outputs in a seeded random order
   * and maps the answer back; `both` asks in both orders and averages, so a
   * judge that always picks one position gives ties; `fixed` keeps the order.
   */
  order: z.enum(PAIRWISE_ORDERS).optional(),
  /** Extra attempts when the answer cannot be parsed (default 2). */
  retries: z.number().int().min(0).max(10).optional(),
  /** Default: `critic` for critique and steps, `judge` otherwise. */
  sourceType: SourceType.optional(),
  /** rubric: criteria used when the input brings none (and no checklist config is set). */
  criteria: z.array(CriterionSpec).optional(),
  /** rubric: each criterion passes or fails (`pass`, default) or gets a score up to its maxScore (`score`). */
  scoring: z.enum(["pass", "score"]).optional(),
  /** rubric with `scoring: "score"`: the best score of criteria that set none (default 10). */
  maxScore: z.number().positive().optional(),
  /** rubric: a `checklist` config (name or inline) that writes the criteria for each instruction first. */
  checklist: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  /** checklist: at most this many items (default 10). */
  maxItems: z.number().int().positive().optional(),
  /** reference: the score scale (default 1 to 10). */
  scale: z.strictObject({ min: z.number(), max: z.number() }).optional(),
};

export const JudgeConfig = z.strictObject(judgeFields).superRefine((c, ctx) => {
  const allowed = new Set(PLACEHOLDERS[c.kind]);
  const texts = typeof c.prompt === "string" ? [c.prompt] : c.prompt.map((m) => m.content);
  for (const t of texts) {
    for (const p of placeholders(t)) {
      if (!allowed.has(p)) {
        ctx.addIssue({ code: "custom", path: ["prompt"], message: `{{${p}}} is not a ${c.kind} placeholder (use ${[...allowed].map((a) => `{{${a}}}`).join(", ")})` });
      }
    }
  }
  const p = c.parser;
  const ok: Record<JudgeKind, readonly string[]> = {
    pairwise: ["regex", "logprob", "ranking", "json"],
    rubric: ["json"],
    checklist: ["json", "lines"],
    critique: ["json"],
    steps: ["json", "regex"],
    reference: ["json", "regex"],
  };
  if (!ok[c.kind].includes(p.type)) {
    ctx.addIssue({ code: "custom", path: ["parser", "type"], message: `a ${c.kind} judge reads answers with ${ok[c.kind].join(" or ")}, not ${p.type}` });
  }
  const regexes = p.type === "regex" ? p : p.type === "logprob" ? p.fallback : undefined;
  if (regexes) {
    const at = p.type === "regex" ? ["parser"] : ["parser", "fallback"];
    for (const [k, src] of Object.entries(regexes.patterns)) {
      const bad = patternProblem(src, regexes.flags ?? "i");
      if (bad?.in === "flags") {
        ctx.addIssue({ code: "custom", path: [...at, "flags"], message: bad.message });
        break;
      }
      if (bad) ctx.addIssue({ code: "custom", path: [...at, "patterns", k], message: bad.message });
    }
    if (c.kind === "pairwise" && !("1" in regexes.patterns && "2" in regexes.patterns)) {
      ctx.addIssue({ code: "custom", path: ["parser", "patterns"], message: 'a pairwise regex parser needs patterns "1" and "2" (and optionally "tie")' });
    }
    if (c.kind === "reference" && !("score" in regexes.patterns || "correct" in regexes.patterns)) {
      ctx.addIssue({ code: "custom", path: ["parser", "patterns"], message: 'a reference regex parser needs a "score" or a "correct" pattern' });
    }
    if (c.kind === "steps" && !("step" in regexes.patterns)) {
      ctx.addIssue({ code: "custom", path: ["parser", "patterns"], message: 'a steps regex parser needs a "step" pattern' });
    }
  }
  if (c.scale && !(c.scale.max > c.scale.min)) ctx.addIssue({ code: "custom", path: ["scale", "max"], message: "must be greater than scale.min" });
});
export type JudgeConfig = z.infer<typeof JudgeConfig>;
export type JudgeConfigInput = z.input<typeof JudgeConfig>;

/** An AlpacaFarm-style pool of simulated annotators: one member judges each example (chosen by a seeded hash). */
export const PoolConfig = z.strictObject({
  name: Name,
  kind: z.literal("pool"),
  description: z.string().optional(),
  /** Pairwise judge configs: names of configs rlxf knows, or whole configs. */
  members: z.array(z.union([z.string(), z.unknown()])).min(1),
  /** Default label-flip probability p (the label becomes a fair coin with probability 2p); default 0. */
  pFlip: z.number().min(0).max(0.5).optional(),
});
export type PoolConfig = z.infer<typeof PoolConfig>;

export function parseJudgeConfig(input: unknown, where = "judge config"): JudgeConfig {
  const r = JudgeConfig.safeParse(input);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), undefined, where);
  return r.data;
}

export function parsePoolConfig(input: unknown, where = "pool config"): PoolConfig {
  const r = PoolConfig.safeParse(input);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), undefined, where);
  return r.data;
}

/** Read a JSON config file (a judge or a pool). */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new RlxfError("invalid_file", `cannot read the config ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RlxfError("invalid_file", `the config ${path} is not JSON: ${(e as Error).message}`);
  }
}
