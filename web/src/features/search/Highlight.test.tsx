import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ApiHighlight, PrefixHighlight } from "./Highlight";

describe("highlighting", () => {
  it("turns the API's <em> into <mark> and never renders other HTML", () => {
    const html = renderToStaticMarkup(<ApiHighlight html={"<em>Jose</em>fa &lt;b&gt; <img src=x onerror=alert(1)>"} fallback="x" />);
    expect(html).toBe('<mark class="hit">Jose</mark>fa &lt;b&gt; &lt;img src=x onerror=alert(1)&gt;');
  });
  it("marks the start of words typed without accents", () => {
    const html = renderToStaticMarkup(<PrefixHighlight text="José Gonçalves" query="jose gonc" />);
    expect(html).toBe('<mark class="hit">José</mark> <mark class="hit">Gonç</mark>alves');
  });
});
