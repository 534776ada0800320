import type { ChatModel } from "../providers/index.js";
import type { Verifier } from "../sources/verifiers/index.js";
import type { Store } from "../store/index.js";
import { RewardSpecs } from "./specs.js";

/**
 * The scorer of any reward spec as a verifier, for code that holds a store rather than a server: a shipped
 * verifier name, a spec object, or a project's saved spec (`name`, `name@N`), which is read from the store.
 * A judge in the spec asks `judgeModel` (made on first use).
 */
export async function rewardVerifier(store: Store, project: string, spec: unknown, opts: { judgeModel?: (project: string) => ChatModel; path?: string } = {}): Promise<Verifier> {
  return (await new RewardSpecs(store, opts.judgeModel).get(project, spec, opts.path ?? "spec")).verifier;
}
