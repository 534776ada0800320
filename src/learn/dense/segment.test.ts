import { describe, expect, it } from "vitest";
import { segmentText, splitSentences } from "./segment.js";

const texts = (s: string) => splitSentences(s).map((x) => x.text);

describe("splitSentences", () => {
  it("keeps offsets: every segment is the slice it claims", () => {
    const t = "  Dr. Smith paid $3.50.  He left!\nNew line here.\n\n\"Quoted.\" Then more… and more? Yes ";
    const segs = splitSentences(t);
    for (const s of segs) expect(t.slice(s.start, s.end)).toBe(s.text);
    expect(segs.map((s) => s.text)).toEqual(["Dr. Smith paid $3.50.", "He left!", "New line here.", "\"Quoted.\"", "Then more… and more?", "Yes"]);
  });

  it("does not break after titles, initials, e.g. or inside numbers", () => {
    expect(texts("Dr. Smith went to Washington in 1999. He paid $3.50 for coffee.")).toEqual(["Dr. Smith went to Washington in 1999.", "He paid $3.50 for coffee."]);
    expect(texts("J. R. R. Tolkien wrote it. Mrs. Baggins agreed.")).toEqual(["J. R. R. Tolkien wrote it.", "Mrs. Baggins agreed."]);
    expect(texts("George W. Bush won. See e.g. the list (No. 5). Version 1.2.3 shipped in Jan. 2020. Great.")).toEqual([
      "George W. Bush won.",
      "See e.g. the list (No. 5).",
      "Version 1.2.3 shipped in Jan. 2020.",
      "Great.",
    ]);
  });

  it("breaks after an abbreviation that ends a sentence only before a sentence opener", () => {
    expect(texts("He moved to the U.S. The next year he left. The U.S. Army was founded in 1775.")).toEqual([
      "He moved to the U.S.",
      "The next year he left.",
      "The U.S. Army was founded in 1775.",
    ]);
    expect(texts("It was made by Acme Inc. It sold well. Acme Inc. Products sold.")).toEqual(["It was made by Acme Inc.", "It sold well.", "Acme Inc. Products sold."]);
    expect(texts("It ended in World War I. The treaty followed.")).toEqual(["It ended in World War I.", "The treaty followed."]);
  });

  it("keeps closing quotes and brackets with their sentence and handles ! ? and missing spaces", () => {
    expect(texts('He said "Stop." Then he left! Was it 2.5 p.m.? Yes.')).toEqual(['He said "Stop."', "Then he left!", "Was it 2.5 p.m.?", "Yes."]);
    expect(texts("He won the award.The next year he left.")).toEqual(["He won the award.", "The next year he left."]);
    expect(texts("Yahoo! is a company. (It was founded in 1994.) Really?! Yes.")).toEqual(["Yahoo! is a company.", "(It was founded in 1994.)", "Really?!", "Yes."]);
  });

  it("returns nothing for blank text and the whole text when it has no ending", () => {
    expect(splitSentences("   \n ")).toEqual([]);
    expect(splitSentences("no ending here")).toEqual([{ start: 0, end: 14, text: "no ending here" }]);
  });
});

describe("segmentText subsentence", () => {
  it("cuts at commas only when both sides keep five words", () => {
    const t = "The title track, a song about queer desire, was released on 2 May as the third single. Short, but fine.";
    const segs = segmentText(t, "subsentence");
    for (const s of segs) expect(t.slice(s.start, s.end)).toBe(s.text);
    expect(segs.map((s) => s.text)).toEqual(["The title track, a song about queer desire,", "was released on 2 May as the third single.", "Short, but fine."]);
  });
});
