/**
 * Span highlighting on an output's exact text: select text with the mouse (or find it by
 * typing it), then give it a label with a button or its number key. Offsets are UTF-16 code
 * units into the output, end exclusive, as the spans feedback kind stores them.
 */
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";

export interface SpanValue {
  start: number;
  end: number;
  label: string;
}

export interface SpanHandle {
  /** Labels the current selection (or nothing when no text of this output is selected). */
  labelSelection(label: string): boolean;
}

function segments(text: string, spans: SpanValue[]): { start: number; end: number; labels: string[] }[] {
  const cuts = new Set<number>([0, text.length]);
  for (const s of spans) {
    cuts.add(Math.max(0, Math.min(text.length, s.start)));
    cuts.add(Math.max(0, Math.min(text.length, s.end)));
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const start = sorted[i]!;
    const end = sorted[i + 1]!;
    out.push({ start, end, labels: spans.filter((s) => s.start <= start && s.end >= end).map((s) => s.label) });
  }
  return out;
}

const LABEL_CLASSES = 6;

export const SpanHighlighter = forwardRef<SpanHandle, { id: string; text: string; labels: string[]; spans: SpanValue[]; onChange: (spans: SpanValue[]) => void; shortcuts: boolean }>(
  function SpanHighlighter({ id, text, labels, spans, onChange, shortcuts }, ref) {
    const box = useRef<HTMLDivElement>(null);
    const lastSel = useRef<{ start: number; end: number } | null>(null);
    const [find, setFind] = useState("");
    const [findLabel, setFindLabel] = useState(labels[0] ?? "");
    const [message, setMessage] = useState("");

    useEffect(() => {
      const onSel = () => {
        const el = box.current;
        const sel = window.getSelection();
        if (!el || !sel || sel.rangeCount === 0) return;
        const range = sel.getRangeAt(0);
        if (range.collapsed || !el.contains(range.startContainer) || !el.contains(range.endContainer)) return;
        const pre = document.createRange();
        pre.selectNodeContents(el);
        pre.setEnd(range.startContainer, range.startOffset);
        let start = pre.toString().length;
        let end = start + range.toString().length;
        while (start < end && /\s/.test(text[start]!)) start++;
        while (end > start && /\s/.test(text[end - 1]!)) end--;
        lastSel.current = end > start ? { start, end } : null;
      };
      document.addEventListener("selectionchange", onSel);
      return () => document.removeEventListener("selectionchange", onSel);
    }, [text]);

    const add = (s: SpanValue) => {
      if (spans.some((x) => x.start === s.start && x.end === s.end && x.label === s.label)) return;
      onChange([...spans, s].sort((a, b) => a.start - b.start || a.end - b.end));
      setMessage(`Highlighted “${text.slice(s.start, s.end)}” as ${s.label}`);
    };

    const labelSelection = (label: string): boolean => {
      const s = lastSel.current;
      if (!s) {
        setMessage("Select some text of the response first.");
        return false;
      }
      add({ ...s, label });
      lastSel.current = null;
      window.getSelection()?.removeAllRanges();
      return true;
    };
    useImperativeHandle(ref, () => ({ labelSelection }));

    const addFound = () => {
      if (!find) return;
      let from = 0;
      for (;;) {
        const at = text.indexOf(find, from);
        if (at < 0) {
          setMessage(`“${find}” is not in the response${from ? " again" : ""}.`);
          return;
        }
        if (!spans.some((x) => x.start === at && x.end === at + find.length && x.label === findLabel)) {
          add({ start: at, end: at + find.length, label: findLabel });
          setFind("");
          return;
        }
        from = at + 1;
      }
    };

    return (
      <div className="spans">
        <div className="label-buttons" role="group" aria-label="Label the selected text">
          {labels.map((l, i) => (
            <button key={l} type="button" className={`label-${i % LABEL_CLASSES}`} onMouseDown={(e) => e.preventDefault()} onClick={() => labelSelection(l)}>
              {shortcuts && i < 9 && <kbd>{i + 1}</kbd>} {l}
            </button>
          ))}
        </div>
        <div ref={box} className="plain span-text" id={`${id}-text`} aria-label="Response text: select a passage, then choose a label">
          {segments(text, spans).map((seg) =>
            seg.labels.length ? (
              <mark key={seg.start} className={`label-${Math.max(0, labels.indexOf(seg.labels[0]!)) % LABEL_CLASSES}`} title={seg.labels.join(", ")}>
                {text.slice(seg.start, seg.end)}
              </mark>
            ) : (
              <span key={seg.start}>{text.slice(seg.start, seg.end)}</span>
            ),
          )}
        </div>
        <div className="find-row">
          <label htmlFor={`${id}-find`}>Or type the text to highlight</label>
          <input
            id={`${id}-find`}
            value={find}
            onChange={(e) => setFind(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
                e.preventDefault();
                addFound();
              }
            }}
          />
          <label htmlFor={`${id}-find-label`} className="sr-only">
            Label
          </label>
          <select id={`${id}-find-label`} value={findLabel} onChange={(e) => setFindLabel(e.target.value)}>
            {labels.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
          <button type="button" onClick={addFound}>
            Highlight
          </button>
        </div>
        <p className="muted" aria-live="polite">
          {message}
        </p>
        {spans.length > 0 && (
          <ul className="span-list" aria-label="Highlighted spans">
            {spans.map((s, i) => (
              <li key={`${s.start}-${s.end}-${s.label}`}>
                <span className={`tag label-${Math.max(0, labels.indexOf(s.label)) % LABEL_CLASSES}`}>{s.label}</span> “{text.slice(s.start, s.end)}”{" "}
                <span className="muted">
                  ({s.start}–{s.end})
                </span>{" "}
                <button type="button" className="link-button" onClick={() => onChange(spans.filter((_, j) => j !== i))}>
                  Remove<span className="sr-only"> highlight “{text.slice(s.start, s.end)}”</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  },
);
