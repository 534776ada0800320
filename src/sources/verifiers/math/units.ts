/**
 * Words after (or around) a value: units we know (compared: `5 m` is not `5 cm`), connectives
 * that join answers (`and`, `or`), fillers that carry nothing (`approximately`), words that
 * carry meaning and may never be dropped (`not`, `at least`, `no solution`), and labels
 * (`5 apples`): dropped, not compared.
 */

/** Canonical unit names by spelling (lower case, except where case tells units apart). */
const UNIT_NAMES: Record<string, string> = {};
function units(canonical: string, ...spellings: string[]): void {
  for (const s of [canonical, ...spellings]) UNIT_NAMES[s] = canonical;
}
units("m", "meter", "meters", "metre", "metres");
units("cm", "centimeter", "centimeters", "centimetre", "centimetres");
units("mm", "millimeter", "millimeters", "millimetre", "millimetres");
units("km", "kilometer", "kilometers", "kilometre", "kilometres");
units("nm", "nanometer", "nanometers");
units("um", "μm", "micrometer", "micrometers", "micron", "microns");
units("in", "inch", "inches");
units("ft", "foot", "feet");
units("yd", "yard", "yards");
units("mi", "mile", "miles");
units("s", "sec", "secs", "second", "seconds");
units("ms", "millisecond", "milliseconds");
units("min", "mins", "minute", "minutes");
units("h", "hr", "hrs", "hour", "hours");
units("day", "days");
units("week", "weeks");
units("month", "months");
units("yr", "year", "years", "yrs");
units("g", "gram", "grams");
units("kg", "kilogram", "kilograms", "kgs");
units("mg", "milligram", "milligrams");
units("lb", "lbs", "pound", "pounds");
units("oz", "ounce", "ounces");
units("usd", "dollar", "dollars", "$");
units("cent", "cents", "¢");
units("eur", "euro", "euros", "€");
units("gbp", "£");
units("rad", "radian", "radians");
units("deg", "degree", "degrees");
units("j", "joule", "joules");
units("ev", "electronvolt", "electronvolts");
units("kev");
units("mev");
units("erg", "ergs");
units("cal", "calorie", "calories");
units("kcal");
units("w", "watt", "watts");
units("kw");
units("v", "volt", "volts");
units("a", "amp", "amps", "ampere", "amperes");
units("k", "kelvin");
units("n", "newton", "newtons");
units("pa", "pascal", "pascals");
units("kpa");
units("atm");
units("hz", "hertz");
units("mol", "mole", "moles");
units("l", "liter", "liters", "litre", "litres");
units("ml", "milliliter", "milliliters", "millilitre", "millilitres");
units("f", "farad", "farads");
units("c", "coulomb", "coulombs");
units("t", "tesla");
units("ohm", "ohms", "Ω");
units("mph");
units("kph", "kmh");
units("unit", "units");
units("au");
units("ly", "lightyear", "lightyears");
units("pc", "parsec", "parsecs");

/** Units that need a single letter or a clash with ordinary words: only read inside `\text{}`/`\mathrm{}`. */
const MARKED_ONLY = new Set(["m", "s", "g", "h", "in", "j", "v", "a", "k", "n", "w", "l", "f", "c", "t", "au", "pc", "ly", "min", "day", "week", "month"]);

/** Bare words (no `\text{}`) read as units after a number. */
export function bareUnit(word: string): string | undefined {
  const c = UNIT_NAMES[word.toLowerCase()];
  return c !== undefined && !MARKED_ONLY.has(word.toLowerCase()) ? c : undefined;
}

/** Generic "units" carry no dimension: they never disagree with another unit. */
export const GENERIC_UNITS = new Set(["unit"]);

/**
 * A unit expression (`cm`, `m/s`, `km s^{-1}`, `square feet`, `erg/s`, `J`), canonical, or
 * undefined when some word in it is not a unit.
 */
export function unitOf(text: string): string | undefined {
  if (text.length > 60) return undefined;
  const hit = unitCache.get(text);
  if (hit !== undefined || unitCache.has(text)) return hit;
  const u = readUnit(text);
  if (unitCache.size > 2000) unitCache.clear();
  unitCache.set(text, u);
  return u;
}

const unitCache = new Map<string, string | undefined>();

function readUnit(text: string): string | undefined {
  let t = text
    .replace(/\^\s*\{\s*(-?\d)\s*\}/g, "^$1")
    .replace(/\\(?:mathrm|text|mbox|textrm)\s*\{([^{}]*)\}/g, "$1")
    .replace(/\\(?:cdot|,|;|:|!|quad)/g, " ")
    .replace(/[~{}]/g, " ")
    .trim();
  if (t === "" || t.length > 60) return undefined;
  let power = "";
  const sq = /^(square|sq\.?|cubic|cu\.?)\s+/i.exec(t);
  if (sq) {
    power = /^(square|sq)/i.test(sq[1]!) ? "^2" : "^3";
    t = t.slice(sq[0].length);
  }
  const parts = t.split(/\s*\/\s*|\s+per\s+/);
  // One canonical spelling however it is written: `m/s`, `m s^{-1}` and `m \cdot s^{-1}` are m/s.
  const exps = new Map<string, number>();
  for (const [k, part] of parts.entries()) {
    const words = part.split(/\s+/).filter((w) => w !== "");
    if (words.length === 0) return undefined;
    for (const w of words) {
      const m = /^([A-Za-zμΩ$€£¢°]+)\.?(?:\^\s*\(?(-?\d)\)?|([²³]))?$/.exec(w);
      if (!m) return undefined;
      const name = UNIT_NAMES[m[1]!] ?? UNIT_NAMES[m[1]!.toLowerCase()];
      if (name === undefined) return undefined;
      const p = Number(m[2] ?? (m[3] === "²" ? "2" : m[3] === "³" ? "3" : "1"));
      exps.set(name, (exps.get(name) ?? 0) + (k === 0 ? p : -p));
    }
  }
  const factor = (name: string, e: number) => (e === 1 ? name : `${name}^${e}`);
  const up = [...exps].filter(([, e]) => e > 0).map(([n, e]) => factor(n, e));
  const down = [...exps].filter(([, e]) => e < 0).map(([n, e]) => factor(n, -e));
  if (up.length === 0 && down.length === 0) return undefined;
  return `${up.join("*") || "1"}${down.length ? `/${down.join("*")}` : ""}${power}`;
}

/** Words that join several answers. */
export const CONNECTIVES = new Set(["and", "or", ",", ";", "&", "and/or", "or/and", "as well as", "and also", "or also"]);

/** Words that carry nothing around a value. */
export const FILLERS = new Set(["approximately", "approx", "approx.", "about", "around", "roughly", "exactly", "only", "total", "in total", "=", ":", "is", "are", "equals"]);

/**
 * Words that change what a value means: an answer containing one of them is read as words,
 * never as the number next to it (`\text{not } 5` is not 5).
 */
const MEANINGFUL = new Set([
  "not", "no", "none", "never", "neither", "nor", "except", "excluding", "without", "unless", "but", "if", "iff", "when",
  "cannot", "can't", "cant", "isn't", "doesn't", "don't", "impossible", "undefined", "nonexistent", "exist", "exists",
  "infinitely", "infinite", "many", "all", "any", "every", "each", "some", "more", "less", "fewer", "greater", "smaller",
  "larger", "bigger", "higher", "lower", "least", "most", "than", "between", "from", "to", "up", "over", "under", "above",
  "below", "real", "integer", "integers", "number", "numbers", "true", "false", "yes", "maybe", "either", "otherwise",
  "solution", "solutions", "diverges", "converges", "divergent", "convergent", "even", "odd", "positive", "negative",
  "nonnegative", "nonpositive", "zero", "times", "plus", "minus", "half", "twice", "double", "triple", "percent",
  "inclusive", "exclusive", "increasing", "decreasing", "minimum", "maximum", "max", "per", "other",
]);

export type WordsKind = { kind: "empty" } | { kind: "connective" } | { kind: "filler" } | { kind: "unit"; unit: string } | { kind: "label"; text: string } | { kind: "meaningful"; text: string };

/**
 * What a run of words next to a value is. `marked`: written inside `\text{}`/`\mathrm{}`
 * (single-letter units count there); `afterValue`: it follows a number or expression.
 */
export function classifyWords(raw: string, marked: boolean, afterValue: boolean): WordsKind {
  const text = raw.replace(/[~\s]+/g, " ").trim();
  if (text === "" || /^[\s.,;:!?()'"-]*$/.test(text)) return { kind: "empty" };
  const lower = text.toLowerCase().replace(/[.!?]+$/, "").trim();
  if (CONNECTIVES.has(lower)) return { kind: "connective" };
  if (FILLERS.has(lower)) return { kind: "filler" };
  const unit = marked || afterValue ? unitOf(text) : undefined;
  if (unit !== undefined && (marked || !text.split(/[\s/]+/).some((w) => MARKED_ONLY.has(w.toLowerCase())))) return { kind: "unit", unit };
  const words = lower.split(/[^a-z']+/).filter((w) => w !== "");
  if (words.some((w) => MEANINGFUL.has(w))) return { kind: "meaningful", text: lower };
  if (afterValue && words.length > 0 && words.length <= 4) return { kind: "label", text: lower };
  return { kind: "meaningful", text: lower };
}
