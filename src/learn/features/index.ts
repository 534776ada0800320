/**
 * Featurizers: hashed n-grams (no model needed) and embeddings from an OpenAI-compatible endpoint.
 */
import { RlxfError } from "../../errors.js";
import { type Embedder, embeddingFeaturizer } from "./embedding.js";
import type { Featurizer, FeaturizerSpec } from "./featurizer.js";
import { hashedNgramFeaturizer } from "./hashed.js";

export * from "./featurizer.js";
export { type CsrMatrix, type SparseVector, csrFromRows, sparseSub } from "./sparse.js";
export { FeatureCache } from "./cache.js";
export { DEFAULT_HASHED_SPEC, hashedNgramFeaturizer } from "./hashed.js";
export {
  type Embedder,
  type OpenAiEmbedderOptions,
  type VectorCacheLike,
  cachedEmbedder,
  embeddingFeaturizer,
  openAiEmbedder,
  textKey,
} from "./embedding.js";
export { tokenize, wordCount } from "./tokenize.js";

/** Rebuild the featurizer a spec describes; embedding specs need an `embedder`. */
export function createFeaturizer(spec: FeaturizerSpec, deps: { embedder?: Embedder } = {}): Featurizer {
  switch (spec.type) {
    case "hashed-ngrams": {
      const { type: _type, ...rest } = spec;
      return hashedNgramFeaturizer(rest);
    }
    case "embedding":
      if (!deps.embedder) {
        throw new RlxfError(
          "missing_option",
          `this model uses embeddings of "${spec.model}": pass an embedder (CLI: --embed-url and --embed-model, or RLXF_EMBED_URL)`,
        );
      }
      return embeddingFeaturizer(deps.embedder, { model: spec.model, dim: spec.dim, combine: spec.combine });
    default:
      throw new RlxfError("invalid_config", `unknown featurizer type "${(spec as { type: string }).type}"`);
  }
}
