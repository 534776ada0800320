/**
 * A critique's verdict on the solution it critiques: does the critic say it is correct ("pass") or not ("fail")?
 * Read from a JSON object (`{"verdict": "pass"}`, `{"correct": false}`...) or from the last explicit statement of
 * the text ("Verdict: fail", "The solution is incorrect.", "\boxed{False}", "Conclusion: right"), as critics
 * trained after Critique-Coder (a final judgement label True/False) and RealCritic ("The solution is
 * Correct/Incorrect") write it. Only the last statement counts, so writing both verdicts gains nothing.
 */
import { extractJson } from "../sources/index.js";

export type Verdict = "pass" | "fail";

const PASS = new Set(["pass", "passed", "correct", "right", "true", "yes", "valid", "accept", "accepted"]);
const FAIL = new Set(["fail", "failed", "incorrect", "wrong", "false", "no", "invalid", "reject", "rejected", "not correct", "erroneous"]);

/** A word (or boolean) as a verdict. */
export function verdictOf(v: unknown): Verdict | undefined {
  if (typeof v === "boolean") return v ? "pass" : "fail";
  if (v === 1 || v === 0) return v === 1 ? "pass" : "fail";
  if (typeof v !== "string") return undefined;
  const s = v
    .trim()
    .toLowerCase()
    .replace(/[.!*_`"'\\]+$/g, "")
    .replace(/^[*_`"'\\(]+|[)]+$/g, "")
    .replace(/\s+/g, " ");
  if (PASS.has(s)) return "pass";
  if (FAIL.has(s)) return "fail";
  return undefined;
}

const JSON_KEYS = ["verdict", "judgement", "judgment", "correct", "is_correct", "iscorrect", "passed", "pass", "label", "decision"];

function fromJson(text: string): Verdict | undefined {
  if (!text.includes("{")) return undefined;
  const v = extractJson(text);
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const lower = new Map(Object.keys(o).map((k) => [k.toLowerCase(), o[k]]));
  for (const k of JSON_KEYS) {
    if (!lower.has(k)) continue;
    const got = verdictOf(lower.get(k));
    if (got) return got;
  }
  return undefined;
}

const WORD = "(not\\s+correct|incorrect|correct|wrong|right|true|false|pass|fail|yes|no|valid|invalid)";
/** Explicit verdict statements; the last one in the text wins. */
const STATEMENTS: RegExp[] = [
  new RegExp(`\\b(?:final\\s+)?(?:verdict|judge?ment|decision|conclusion|assessment)\\s*(?:is|:|=|：)\\s*[*_\`"']*\\s*${WORD}\\b`, "gi"),
  new RegExp(`\\\\boxed\\{\\s*(?:\\\\text\\{\\s*)?${WORD}\\s*\\}?\\s*\\}`, "gi"),
  new RegExp(`\\b(?:the\\s+)?(?:student(?:'s)?\\s+)?(?:solution|answer|response|reasoning|proof)\\s+is\\s+[*_]*\\s*${WORD}\\b`, "gi"),
];

/** The critique's verdict, or undefined when it states none. */
export function readVerdict(text: string): Verdict | undefined {
  const json = fromJson(text);
  if (json) return json;
  let best: { at: number; verdict: Verdict } | undefined;
  for (const re of STATEMENTS) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      const verdict = verdictOf(m[1]);
      if (verdict && (!best || m.index! >= best.at)) best = { at: m.index!, verdict };
    }
  }
  return best?.verdict;
}
