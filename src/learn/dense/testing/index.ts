/**
 * A synthetic long-form QA world for tests of segment models: each question is about one made-up entity, with a
 * passage about it and one about another entity. Answers mix sentences the passage supports, sentences about the
 * other entity (irrelevant), invented facts (unverifiable) and repeats of earlier sentences (redundant); spans mark
 * the errors by type, and of two answers to a question the one with fewer errors is preferred.
 */
import { createRng, type Rng } from "../../../eval/index.js";
import type { Passage } from "../grounding.js";
import type { SegmentPair, SpanExample } from "../train.js";

const SYLLABLES = ["ka", "lo", "mi", "ter", "san", "vor", "el", "dra", "pu", "ne", "shi", "gor", "al", "bex", "quin", "ru"];
const CITIES = ["Aldport", "Brenmoor", "Castavel", "Dunmere", "Elsbrook", "Farrow", "Glenhaven", "Harlow"];

function name(rng: Rng, parts = 2): string {
  let s = "";
  for (let i = 0; i < parts; i++) s += SYLLABLES[rng.int(SYLLABLES.length)];
  return s[0]!.toUpperCase() + s.slice(1);
}

interface Entity {
  name: string;
  founder: string;
  year: number;
  city: string;
  members: number;
  rival: string;
}

function entity(rng: Rng): Entity {
  return { name: `${name(rng)} ${name(rng, 1)}`, founder: `${name(rng)} ${name(rng)}`, year: 1850 + rng.int(150), city: CITIES[rng.int(CITIES.length)]!, members: 10 + rng.int(900), rival: `${name(rng)} ${name(rng, 1)}` };
}

function facts(e: Entity): string[] {
  return [
    `${e.name} was founded in ${e.year} by ${e.founder}.`,
    `${e.name} is based in ${e.city}.`,
    `${e.name} has ${e.members} members.`,
    `The main rival of ${e.name} is ${e.rival}.`,
  ];
}

export interface SyntheticQa {
  examples: SpanExample[];
  pairs: SegmentPair[];
  /** Generation ids of each pair's chosen and rejected answer (in the order of `pairs`). */
  pairIds: Array<{ chosen: string; rejected: string }>;
  /** Every answer with its item, for scoring. */
  answers: Array<{ generationId: string; itemId: string; prompt: string; passages: Passage[]; response: string; errors: number }>;
}

/** `n` questions with four answers each; spans on every answer (or on the first only with `firstOnly`). */
export function syntheticQa(opts: { n?: number; seed?: number; firstOnly?: boolean } = {}): SyntheticQa {
  const rng = createRng(opts.seed ?? 1);
  const examples: SpanExample[] = [];
  const pairs: SegmentPair[] = [];
  const answers: SyntheticQa["answers"] = [];
  const pairIds: SyntheticQa["pairIds"] = [];
  for (let q = 0; q < (opts.n ?? 60); q++) {
    const main = entity(rng);
    const other = entity(rng);
    const itemId = `item-${q}`;
    const prompt = `Tell me about ${main.name}: when was it founded and by whom?`;
    const passages: Passage[] = [
      { title: main.name, sentences: facts(main) },
      { title: other.name, sentences: facts(other) },
    ];
    const outs: Array<{ response: string; errors: number }> = [];
    for (let a = 0; a < 4; a++) {
      const sentences: Array<{ text: string; label?: string }> = [];
      const supported = facts(main);
      sentences.push({ text: supported[0]! });
      const extra = 1 + rng.int(3);
      for (let k = 0; k < extra; k++) {
        const kind = rng.int(4);
        if (kind === 0) {
          const unused = supported.filter((t) => !sentences.some((x) => x.text === t));
          if (unused.length) sentences.push({ text: unused[rng.int(unused.length)]! });
        }
        else if (kind === 1) sentences.push({ text: facts(other)[rng.int(4)]!, label: "Irrelevant" });
        else if (kind === 2) sentences.push({ text: `${main.name} won the ${name(rng)} prize in ${1850 + rng.int(150)} after ${rng.int(90) + 5} seasons.`, label: "Unverifiable" });
        else sentences.push({ text: sentences[rng.int(sentences.length)]!.text, label: "Redundant" });
      }
      let response = "";
      const spans: SpanExample["spans"] = [];
      for (const s of sentences) {
        if (response) response += " ";
        const start = response.length;
        response += s.text;
        if (s.label) spans.push({ start, end: response.length, label: s.label });
      }
      const errors = spans.length;
      outs.push({ response, errors });
      answers.push({ generationId: `gen-${q}-${a}`, itemId, prompt, passages, response, errors });
      if (!opts.firstOnly || a === 0) {
        examples.push({ id: `fb-${q}-${a}`, project: "default", itemId, generationId: `gen-${q}-${a}`, prompt, response, passages, spans, source: "human:synthetic" });
      }
    }
    for (let a = 0; a < 4; a++) {
      for (let b = a + 1; b < 4; b++) {
        const [x, y] = [outs[a]!, outs[b]!];
        const pChosen = x.errors === y.errors ? 0.5 : 1;
        const [chosen, rejected] = x.errors <= y.errors ? [a, b] : [b, a];
        pairs.push({ itemId, prompt, passages, chosen: outs[chosen]!.response, rejected: outs[rejected]!.response, pChosen });
        pairIds.push({ chosen: `gen-${q}-${chosen}`, rejected: `gen-${q}-${rejected}` });
      }
    }
  }
  return { examples, pairs, pairIds, answers };
}
