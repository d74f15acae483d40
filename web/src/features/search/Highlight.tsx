import { Fragment } from "react";
import { fold } from "../../lib/format";

/** Text with the API's `<em>…</em>` marks as <mark>; everything else is plain text (never HTML). */
export function ApiHighlight({ html, fallback }: { html?: string | undefined; fallback: string }) {
  if (!html) return <>{fallback}</>;
  const parts = html.split(/(<em>.*?<\/em>)/g).filter(Boolean);
  return (
    <>
      {parts.map((part, i) =>
        part.startsWith("<em>") ? <mark className="hit" key={i}>{unescape(part.slice(4, -5))}</mark> : <Fragment key={i}>{unescape(part)}</Fragment>,
      )}
    </>
  );
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

/** `text` with the words that start like a typed word marked (accents and case ignored). */
export function PrefixHighlight({ text, query }: { text: string; query: string }) {
  const typed = fold(query).split(/\s+/).filter((w) => w.length > 0 && /\p{L}/u.test(w));
  if (!typed.length) return <>{text}</>;
  const pieces = text.split(/(\s+)/);
  return (
    <>
      {pieces.map((piece, i) => {
        const folded = fold(piece);
        const hit = typed.reduce((best, w) => (folded.startsWith(w) && w.length > best ? w.length : best), 0);
        if (!hit) return <Fragment key={i}>{piece}</Fragment>;
        return (
          <Fragment key={i}>
            <mark className="hit">{piece.slice(0, hit)}</mark>
            {piece.slice(hit)}
          </Fragment>
        );
      })}
    </>
  );
}
