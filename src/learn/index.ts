/**
 * The learn room: learning from stored feedback. Featurizers (hashed n-grams, embeddings), reward and
 * preference models (Bradley-Terry, ensembles, general preference models, noise-robust training, calibration),
 * and datasets for external trainers (TRL, OpenRLHF, verl, OpenAI fine-tuning).
 */
export * from "./features/index.js";
export * from "./reward/index.js";
export * from "./datasets/index.js";
export * from "./objectives/index.js";
export { type LinearSynthetic, linearSynthetic, rockPaperScissors } from "./synthetic.js";
export * from "./dense/index.js";
