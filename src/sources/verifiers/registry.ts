/**
 * Verifiers by name or by spec: a JSON-able description (`{"type": "math"}`,
 * `{"type": "regex", "pattern": "..."}`, `{"type": "composite", "members": [...]}`) that a
 * config file, a CLI flag or a reward service request can carry. Shipped names: `math`,
 * `exact`, `normalized`, `json`, `python`, `javascript`, `humaneval`; `registerVerifier` adds more,
 * and `registerVerifierType` adds spec types built by code elsewhere (e.g. critic rewards).
 */
import { z } from "zod";
import { RlxfError, ValidationError, issuesFromZod } from "../../errors.js";
import type { ChatModel } from "../../providers/index.js";
import { codeVerifier } from "./code/index.js";
import { compositeVerifier } from "./composite.js";
import { mathVerifier } from "./math/index.js";
import { patternProblem } from "../regex.js";
import {
  containsVerifier,
  exactMatchVerifier,
  excludesVerifier,
  jsonSchemaVerifier,
  lengthVerifier,
  normalizedMatchVerifier,
  regexVerifier,
} from "./text.js";
import type { Verifier } from "./types.js";

const nonNeg = z.number().int().min(0);
const strings = z.union([z.string(), z.array(z.string())]);
const name = z.string().min(1).optional();

const Limits = z
  .strictObject({
    wallMs: nonNeg.min(1),
    cpuSeconds: nonNeg.min(1),
    memoryBytes: nonNeg.min(16 * 1024 * 1024),
    processes: nonNeg.min(1),
    outputBytes: nonNeg.min(1),
    fileBytes: nonNeg.min(1),
    diskBytes: nonNeg.min(1),
    diskFiles: nonNeg.min(1),
    openFiles: nonNeg.min(8),
  })
  .partial();

const CodeTestSpec = z.strictObject({ name: z.string().optional(), code: z.string() });

export const LeafVerifierSpec = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("math"), name, gold: z.string().optional(), relTol: z.number().positive().optional(), precision: nonNeg.optional(), goldMatch: z.array(z.enum(["latex", "expr"])).optional(), predMatch: z.array(z.enum(["latex", "expr"])).optional(), choiceText: z.boolean().optional(), allowSetRelation: z.boolean().optional() }),
  z.strictObject({
    type: z.literal("code"),
    name,
    language: z.enum(["python", "javascript"]).optional(),
    tests: z.union([z.string(), z.array(CodeTestSpec)]).optional(),
    entryPoint: z.string().optional(),
    prependPrompt: z.boolean().optional(),
    extractFence: z.boolean().optional(),
    limits: Limits.optional(),
    isolation: z.enum(["auto", "required"]).optional(),
  }),
  z.strictObject({ type: z.literal("exact"), name, expected: strings.optional(), caseSensitive: z.boolean().optional(), trim: z.boolean().optional() }),
  z.strictObject({ type: z.literal("normalized"), name, expected: strings.optional(), partialCredit: z.boolean().optional() }),
  z
    .strictObject({ type: z.literal("regex"), name, pattern: z.string(), flags: z.string().optional(), mode: z.enum(["search", "full"]).optional() })
    .superRefine((s, ctx) => {
      const bad = patternProblem(s.pattern, s.flags ?? "");
      if (bad) ctx.addIssue({ code: "custom", path: [bad.in], message: bad.message });
    }),
  z.strictObject({ type: z.literal("json-schema"), name, schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]).optional(), strict: z.boolean().optional() }),
  z.strictObject({ type: z.literal("contains"), name, all: z.array(z.string()).optional(), any: z.array(z.string()).optional(), caseSensitive: z.boolean().optional() }),
  z.strictObject({ type: z.literal("excludes"), name, none: z.array(z.string()).min(1), caseSensitive: z.boolean().optional() }),
  z.strictObject({ type: z.literal("length"), name, minChars: nonNeg.optional(), maxChars: nonNeg.optional(), minWords: nonNeg.optional(), maxWords: nonNeg.optional(), minLines: nonNeg.optional(), maxLines: nonNeg.optional() }),
]);
export type LeafVerifierSpec = z.infer<typeof LeafVerifierSpec>;

export interface CompositeVerifierSpec {
  type: "composite";
  name?: string;
  members: Array<{ verifier: string | VerifierSpec; weight?: number; required?: boolean }>;
  threshold?: number;
  keyedReferences?: boolean;
}
/** A spec of a type added with `registerVerifierType`. */
export interface ExtensionVerifierSpec {
  type: string;
  name?: string;
  [option: string]: unknown;
}
export type VerifierSpec = LeafVerifierSpec | CompositeVerifierSpec | ExtensionVerifierSpec;

/** What a verifier built by code may use besides its spec: a chat model, made on first use (e.g. an actor that revises). */
export interface VerifierContext {
  chatModel?: () => ChatModel;
}

/** A verifier type defined outside this room: the schema of its specs (with `type` and `name`) and how to build one. */
export interface VerifierTypeDefinition {
  schema: z.ZodType<ExtensionVerifierSpec>;
  create(spec: ExtensionVerifierSpec, ctx: VerifierContext): Verifier;
}

const extensionTypes = new Map<string, VerifierTypeDefinition>();

/** Adds (or replaces) a spec type, e.g. `{"type": "critic", "reward": "verdict"}`; the shipped types cannot be replaced. */
export function registerVerifierType(type: string, def: VerifierTypeDefinition): void {
  if (LEAF_TYPES.has(type) || type === "composite") throw new RlxfError("invalid_config", `verifier type "${type}" is built in`);
  extensionTypes.set(type, def);
}

const CompositeSpec = z.strictObject({
  type: z.literal("composite"),
  name,
  members: z
    .array(z.strictObject({ verifier: z.union([z.string().min(1), z.record(z.string(), z.unknown())]), weight: z.number().min(0).optional(), required: z.boolean().optional() }))
    .min(1),
  threshold: z.number().min(0).max(1).optional(),
  keyedReferences: z.boolean().optional(),
});

/** A zod schema for specs (for embedding in request schemas); `parseVerifierSpec` gives better messages. */
export const VerifierSpecSchema: z.ZodType<VerifierSpec> = z.custom<VerifierSpec>((v) => {
  try {
    parseVerifierSpec(v);
    return true;
  } catch {
    return false;
  }
}, "not a valid verifier spec");

const SHIPPED: Record<string, VerifierSpec> = {
  math: { type: "math", name: "math" },
  exact: { type: "exact", name: "exact" },
  normalized: { type: "normalized", name: "normalized" },
  json: { type: "json-schema", name: "json" },
  python: { type: "code", name: "python", language: "python" },
  javascript: { type: "code", name: "javascript", language: "javascript" },
  humaneval: { type: "code", name: "humaneval", language: "python", prependPrompt: true, extractFence: false },
};

const registered = new Map<string, VerifierSpec>();

const LEAF_TYPES = new Set(LeafVerifierSpec.options.map((o) => o.shape.type.value as string));

/** Validates a spec; throws ValidationError naming the bad fields. */
export function parseVerifierSpec(input: unknown, what = "verifier spec"): VerifierSpec {
  const ext = typeof input === "object" && input !== null ? extensionTypes.get(String((input as { type?: unknown }).type)) : undefined;
  if (ext) {
    const r = ext.schema.safeParse(input);
    if (!r.success) throw new ValidationError(issuesFromZod(r.error), undefined, what);
    return r.data;
  }
  const composite = typeof input === "object" && input !== null && (input as { type?: unknown }).type === "composite";
  const r = (composite ? CompositeSpec : LeafVerifierSpec).safeParse(input);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), undefined, what);
  if (r.data.type !== "composite") return r.data;
  const members = r.data.members.map((m, i) => ({
    ...m,
    verifier: typeof m.verifier === "string" ? m.verifier : parseVerifierSpec(m.verifier, `${what}, member ${i + 1}`),
  }));
  return { ...r.data, members };
}

/** Adds (or replaces) a named verifier spec. */
export function registerVerifier(verifierName: string, spec: VerifierSpec): void {
  if (!/^[A-Za-z0-9_.:-]+$/.test(verifierName)) throw new RlxfError("invalid_config", `verifier name ${JSON.stringify(verifierName)}: letters, digits, _ . : - only`);
  registered.set(verifierName, parseVerifierSpec({ ...spec, name: spec.name ?? verifierName }, `verifier "${verifierName}"`));
}

/** Every named spec: shipped ones, then registered ones (which may shadow shipped names). */
export function verifierSpecs(): Record<string, VerifierSpec> {
  return { ...SHIPPED, ...Object.fromEntries(registered) };
}

export function resolveVerifierSpec(ref: string | VerifierSpec): VerifierSpec {
  if (typeof ref !== "string") return parseVerifierSpec(ref);
  const spec = registered.get(ref) ?? SHIPPED[ref];
  if (!spec) throw new RlxfError("unknown_name", `no verifier "${ref}": use a spec or one of ${Object.keys(verifierSpecs()).join(", ")}`);
  return spec;
}

/** Builds a verifier from a name or a spec; `ctx` gives verifiers that ask a model one. */
export function createVerifier(ref: string | VerifierSpec, seen: string[] = [], ctx: VerifierContext = {}): Verifier {
  if (typeof ref === "string") {
    if (seen.includes(ref)) throw new RlxfError("invalid_config", `verifier "${ref}" contains itself (${[...seen, ref].join(" → ")})`);
    seen = [...seen, ref];
  }
  const resolved = resolveVerifierSpec(ref);
  const ext = extensionTypes.get(resolved.type);
  if (ext) return ext.create(ext.schema.parse(resolved), ctx);
  const spec = resolved as LeafVerifierSpec | CompositeVerifierSpec;
  const { type } = spec;
  switch (spec.type) {
    case "math": {
      const { type: _t, ...o } = spec;
      return mathVerifier(o);
    }
    case "code": {
      const { type: _t, ...o } = spec;
      return codeVerifier(o);
    }
    case "exact": {
      const { type: _t, ...o } = spec;
      return exactMatchVerifier(o);
    }
    case "normalized": {
      const { type: _t, ...o } = spec;
      return normalizedMatchVerifier(o);
    }
    case "regex": {
      const { type: _t, ...o } = spec;
      return regexVerifier(o);
    }
    case "json-schema": {
      const { type: _t, ...o } = spec;
      return jsonSchemaVerifier(o);
    }
    case "contains": {
      const { type: _t, ...o } = spec;
      return containsVerifier(o);
    }
    case "excludes": {
      const { type: _t, ...o } = spec;
      return excludesVerifier(o);
    }
    case "length": {
      const { type: _t, ...o } = spec;
      return lengthVerifier(o);
    }
    case "composite": {
      const members = spec.members.map((m) => ({
        verifier: createVerifier(m.verifier, seen, ctx),
        ...(m.weight !== undefined ? { weight: m.weight } : {}),
        ...(m.required !== undefined ? { required: m.required } : {}),
      }));
      return compositeVerifier({
        members,
        ...(spec.name !== undefined ? { name: spec.name } : {}),
        ...(spec.threshold !== undefined ? { threshold: spec.threshold } : {}),
        ...(spec.keyedReferences !== undefined ? { keyedReferences: spec.keyedReferences } : {}),
      });
    }
    default:
      throw new RlxfError("unknown_name", `verifier type "${type as string}"`);
  }
}
