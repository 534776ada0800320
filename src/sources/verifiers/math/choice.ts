/**
 * Multiple-choice answers. A gold answer that is a letter (`C`, `(C)`, `\text{(C)}`) makes the
 * check a choice check: the prediction must name the same letter (`\boxed{C}`, `(C) 70 and 55
 * seconds`, `C)`, `Answer: C`, `the correct option is C`). When the choices are known, a
 * prediction that gives a choice's text instead of its letter (`\boxed{thymine}`) names that
 * choice; a letter together with the text of another choice (`(A) thymine` where thymine is B)
 * names nothing: a hedge is not an answer.
 */

export interface Choice {
  label: string;
  text: string;
}

/** Choices as RealCritic and common datasets write them: `["(A) x", ...]`, `{label: [...], text: [...]}`, `{A: "x"}`. */
export function normalizeChoices(raw: unknown): Choice[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) {
    const out = raw.map((c, i) => {
      const s = String(c);
      const m = /^\s*\(?([A-Za-z])[).:]\s*(.*)$/s.exec(s);
      return m ? { label: m[1]!.toUpperCase(), text: m[2]!.trim() } : { label: String.fromCharCode(65 + i), text: s.trim() };
    });
    return out.length ? out : undefined;
  }
  if (typeof raw === "object") {
    const o = raw as Record<string, unknown>;
    if (Array.isArray(o.text) && Array.isArray(o.label) && o.text.length === o.label.length) {
      return o.text.map((t, i) => ({ label: String((o.label as unknown[])[i]).toUpperCase(), text: String(t).trim() }));
    }
    const entries = Object.entries(o).filter(([k, v]) => /^[A-Za-z]$/.test(k) && typeof v === "string");
    return entries.length ? entries.map(([k, v]) => ({ label: k.toUpperCase(), text: (v as string).trim() })) : undefined;
  }
  return undefined;
}

/** Removes wrappers around a short answer: `\text{...}`, `\textbf{...}`, `**...**`, `$...$`. */
function unwrap(raw: string): string {
  let s = raw.trim();
  for (let k = 0; k < 5; k++) {
    const before = s;
    s = s.replace(/^\\(?:text|textbf|textrm|mathrm|mathbf|textit|mbox|boxed|fbox)\s*\{([\s\S]*)\}$/, "$1").trim();
    s = s.replace(/^\*\*([\s\S]*)\*\*$/, "$1").trim();
    s = s.replace(/^\$+([\s\S]*?)\$+$/, "$1").trim();
    s = s.replace(/^\\\(([\s\S]*)\\\)$/, "$1").trim();
    if (s === before) break;
  }
  return s;
}

const LETTERS = "ABCDEFGHIJ";

/** The letter when the whole answer is a choice letter (`C`, `(C)`, `C)`, `\text{(C)}`), else undefined. */
export function choiceLetter(raw: string, letters = LETTERS): string | undefined {
  if (raw.length > 40) return undefined;
  const s = unwrap(raw);
  const m = /^(?:\\text\s*\{\s*)?\(?\s*([A-Za-z])\s*\)?\s*\}?\.?$/.exec(s);
  if (!m) return undefined;
  const inParens = s.includes("(");
  const l = m[1]!;
  if (l !== l.toUpperCase() && !inParens) return undefined;
  return letters.includes(l.toUpperCase()) ? l.toUpperCase() : undefined;
}

export const normText = (s: string): string =>
  s
    .toLowerCase()
    .replace(/\\(?:text|textbf|textrm|mathrm|mbox)\s*\{([^{}]*)\}/g, "$1")
    .replace(/[^a-z0-9\u00c0-\u024f]+/g, "");

/**
 * The choice a closing line names (`Therefore, the correct statement is (B).`): its one
 * parenthesised letter. A line that names two different letters names none.
 */
export function choiceInLine(line: string, letters = LETTERS): string | undefined {
  const found = new Set<string>();
  const s = line.slice(0, 600);
  for (const m of s.matchAll(/\(\s*([A-J])\s*\)|(?:^|\s)([A-J])\)(?=\s|$|[.,;:])/g)) {
    const l = (m[1] ?? m[2])!;
    if (letters.includes(l)) found.add(l);
  }
  // A bare letter after a verb of choosing (`I'd go with C.`, `My pick: C`), or before `is correct`.
  const chosen =
    /(?:\bgo(?:ing)? with|\bchoose|\bchose|\bpick|\bpicked|\bselect|\bselected)\s*:?\s*\**([A-J])\**(?=$|[\s.,;:!])/.exec(s) ??
    /^[\s*]*([A-J])[\s*]+is (?:the )?(?:correct|right|best)\b/.exec(s);
  if (chosen && letters.includes(chosen[1]!)) found.add(chosen[1]!);
  return found.size === 1 ? [...found][0] : undefined;
}

export interface ChoiceRead {
  letter?: string;
  /** Why no letter was read (a conflict between a letter and the text of another choice). */
  conflict?: string;
}

/**
 * The choice a prediction's answer names: a letter at its start (`(C) text`, `C) text`,
 * `C. text`, `C`), `option C` / `choice (C)`, or the text of exactly one choice.
 */
export function choiceIn(raw: string, choices?: Choice[], acceptText = false): ChoiceRead {
  const s = unwrap(raw).slice(0, 400);
  const letters = choices?.map((c) => c.label).join("") || LETTERS;
  const whole = choiceLetter(s, letters);
  if (whole) return { letter: whole };
  const m =
    /^(?:(?:the\s+)?(?:correct\s+)?(?:option|choice|answer)\s*(?:is\s*)?:?\s*)?(?:\\text\s*\{\s*)?\(\s*([A-Za-z])\s*\)\}?(?:\s*|[.:,]\s*)([\s\S]*)$/i.exec(s) ??
    /^(?:(?:the\s+)?(?:correct\s+)?(?:option|choice)\s*(?:is\s*)?:?\s*)?\**([A-Z])\**(?:[).:,]\s*|\s*$|\s+-\s+|\s+(?=(?:because|since|as|which|for)\b))([\s\S]*)$/.exec(s) ??
    /^(?:the\s+)?(?:correct\s+)?(?:option|choice)\s+\**([A-Za-z])\**\b\s*([\s\S]*)$/i.exec(s);
  if (m) {
    const letter = m[1]!.toUpperCase();
    if (!letters.includes(letter)) return {};
    const rest = normText(m[2] ?? "");
    if (choices && rest.length >= 3) {
      const own = choices.find((c) => c.label === letter);
      const other = choices.find((c) => c.label !== letter && normText(c.text) === rest);
      if (other && (!own || normText(own.text) !== rest)) return { conflict: `letter ${letter} with the text of choice ${other.label}` };
    }
    return { letter };
  }
  if (choices && acceptText) {
    const t = normText(s);
    if (t.length > 0) {
      const hits = choices.filter((c) => normText(c.text) === t);
      if (hits.length === 1) return { letter: hits[0]!.label };
    }
  }
  return {};
}
