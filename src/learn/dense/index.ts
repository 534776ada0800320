/**
 * Dense, fine-grained rewards: segment outputs into sentences with their offsets, learn one detector per error
 * type from span feedback and combine them into a reward per segment (Fine-Grained RLHF); turn critiques into
 * spans by aligning their phrases with the output (Text2Grad's first stage).
 */
export * from "./segment.js";
export * from "./grounding.js";
export * from "./features.js";
export * from "./model.js";
export * from "./train.js";
export * from "./reward.js";
export * from "./align.js";
export * from "./data.js";
export * from "./critiques.js";
export * from "./export.js";
