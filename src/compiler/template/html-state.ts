// Where a template's text leaves the HTML tokenizer, so that each {{ output }}
// is compiled for its place. Inside a quoted attribute value even safe HTML
// must not close the quote: tojson's JSON is built of double quotes. This
// follows the HTML tokenizer only as far as that one question needs: text,
// tags, quoted values, comments, and the raw text of <script> and <style>
// (whose quotes are JavaScript's and CSS's, not an attribute's).

export interface HtmlState {
  at: "text" | "tag" | '"' | "'" | "comment" | "raw";
  /** the name of the last tag opened, "/div" for an end tag */
  tag: string;
}

export const START: HtmlState = { at: "text", tag: "" };

const OPEN = /<(!--|\/?[A-Za-z][^\s/>]*)/g;
const IN_TAG = /[>"']/g;
const RAW = new Set(["script", "style"]);

export function inQuotedAttribute(state: HtmlState): boolean {
  return state.at === '"' || state.at === "'";
}

/** The state after `text`, read from `state`. */
export function scanHtml(text: string, state: HtmlState): HtmlState {
  let { at, tag } = state;
  let i = 0;
  while (i < text.length) {
    if (at === "text" || at === "tag") {
      const re = at === "text" ? OPEN : IN_TAG;
      re.lastIndex = i;
      const m = re.exec(text);
      if (!m) break;
      i = m.index + m[0].length;
      if (at === "tag") at = m[0] === ">" ? (RAW.has(tag) ? "raw" : "text") : (m[0] as '"' | "'");
      else if (m[1] === "!--") at = "comment";
      else [at, tag] = ["tag", m[1].toLowerCase()];
      continue;
    }
    const end = at === "comment" ? "-->" : at === "raw" ? `</${tag}` : at;
    const j = (at === "raw" ? text.toLowerCase() : text).indexOf(end, i);
    if (j < 0) break;
    i = j + end.length;
    if (at === "raw") tag = `/${tag}`;
    at = at === "comment" ? "text" : "tag";
  }
  return { at, tag };
}
