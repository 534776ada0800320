/**
 * Feedback sources named by a short spec (what `--feedback` takes):
 *
 * - a verifier name (`math`, `exact`, `normalized`, `json`, `python`, `javascript`, `humaneval`), or a verifier spec
 *   as inline JSON (`{"type": "regex", "pattern": "..."}`) or a JSON file;
 * - an LLM judge: a shipped critique, reference or rubric judge (`critique`, `reference`...) or a judge config file,
 *   run by the feedback model;
 * - `rm:NAME` or `rm:NAME@3`: a stored reward model;
 * - `spec:NAME` or `spec:NAME@3`: a reward spec saved in the project (composites of verifiers, judges and reward
 *   models; its judges run on the feedback model);
 * - `human` or `human:SECONDS`: wait for people's feedback on each output in the store (default 600 s);
 * - `user`: a simulated user giving natural-language feedback (the feedback model plays it).
 */
import { existsSync, readFileSync } from "node:fs";
import { RlxfError } from "../errors.js";
import type { Embedder } from "../learn/index.js";
import { loadRewardModel } from "../learn/index.js";
import type { Pricing } from "../providers/index.js";
import type { ChatModel } from "../providers/index.js";
import { defaultJudges, resolveJudge } from "../sources/index.js";
import { createVerifier, parseVerifierSpec, verifierSpecs } from "../sources/verifiers/index.js";
import type { Verifier } from "../sources/verifiers/index.js";
import { rewardVerifier } from "../rewards/index.js";
import type { Store } from "../store/index.js";
import { humanFeedback, judgeFeedback, rewardModelFeedback, simulatedUserFeedback, verifierFeedback } from "./feedback.js";
import type { FeedbackSource } from "./types.js";

export interface FeedbackSpecDeps {
  store: Store;
  project?: string;
  /** The model LLM judges and simulated users run on; asked for lazily (only those specs need one). */
  model?: () => ChatModel;
  pricing?: Pricing;
  /** Simulated users: decides success without the model (e.g. the check verifier). */
  check?: Verifier;
  embedder?: Embedder;
  /** reference / rubric judges: the share of the best score that passes. */
  passAt?: number;
}

/** A verifier by name, inline JSON spec or JSON spec file; undefined when `spec` names none of those. */
export function verifierFromSpec(spec: string): Verifier | undefined {
  const s = spec.trim();
  if (s.startsWith("{")) {
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new RlxfError("invalid_config", `feedback spec is not valid JSON: ${(e as Error).message}`);
    }
    return createVerifier(parseVerifierSpec(v));
  }
  if (Object.hasOwn(verifierSpecs(), s)) return createVerifier(s);
  if (s.endsWith(".json") && existsSync(s)) {
    const raw = JSON.parse(readFileSync(s, "utf8")) as Record<string, unknown>;
    if (raw && typeof raw === "object" && "prompt" in raw && "kind" in raw) return undefined; // a judge config
    return createVerifier(parseVerifierSpec(raw, `verifier spec ${s}`));
  }
  return undefined;
}

export async function feedbackFromSpec(spec: string, deps: FeedbackSpecDeps): Promise<FeedbackSource> {
  const s = spec.trim();
  if (!s) throw new RlxfError("invalid_config", "empty feedback spec");
  const needModel = (what: string) => {
    if (!deps.model) throw new RlxfError("missing_option", `${what} needs a model: pass --feedback-model (or --model / $RLXF_MODEL)`);
    return deps.model();
  };
  const human = /^human(?::(\d+(?:\.\d+)?))?$/.exec(s);
  if (human) return humanFeedback(deps.store, { ...(human[1] ? { timeoutMs: Number(human[1]) * 1000 } : {}) });
  if (s === "user" || s === "user-sim") return simulatedUserFeedback(needModel("a simulated user"), { ...(deps.check ? { check: deps.check } : {}), ...(deps.pricing ? { pricing: deps.pricing } : {}) });
  if (s.startsWith("spec:")) {
    const verifier = await rewardVerifier(deps.store, deps.project ?? "default", s.slice(5), { ...(deps.model ? { judgeModel: deps.model } : {}), path: "--feedback" });
    return verifierFeedback(verifier);
  }
  if (s.startsWith("rm:")) {
    const ref = s.slice(3);
    const rm = await loadRewardModel(deps.store, ref, { ...(deps.project ? { project: deps.project } : {}), ...(deps.embedder ? { embedder: deps.embedder } : {}) });
    return rewardModelFeedback(rm);
  }
  const v = verifierFromSpec(s);
  if (v) return verifierFeedback(v);
  const isJudge = defaultJudges().some((j) => j.name === s) || existsSync(s);
  if (!isJudge) {
    throw new RlxfError(
      "unknown_name",
      `unknown feedback "${s}": use a verifier (${Object.keys(verifierSpecs()).join(", ")}, or a JSON spec), a judge (critique, reference, rubric, or a config file), rm:NAME, spec:NAME (a saved reward spec), human[:SECONDS] or user`,
    );
  }
  const judge = resolveJudge(s);
  return judgeFeedback(needModel(`judge "${judge.name}"`), judge, { ...(deps.pricing ? { pricing: deps.pricing } : {}), ...(deps.passAt !== undefined ? { passAt: deps.passAt } : {}) });
}
