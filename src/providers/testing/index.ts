/**
 * Test helpers (`rlxf/testing`): a scriptable OpenAI-compatible (and
 * Anthropic-compatible) model server, and a virtual clock.
 */
export * from "./fake-openai.js";
export { virtualClock } from "../limits.js";
