"""Hostile text: script and markup injections, template and SQL syntax, odd characters.

Every payload carries a key (``xq01``…) in the words a reader should see, so a page
showing it can be checked for the text, and a payload that ever runs sets
``window.__xss`` (or opens a dialog), so a page running it can be caught.

``line(i)`` gives one-line payloads for names, titles and other short fields (at most
150 characters: the shortest such limit is a service's name); ``prose()`` joins every
payload, one paragraph each, for the long Markdown fields. The null character is kept
apart (``NUL``): forms refuse it, and what the API and the actions do with it is tested
on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "HUGE_KEY",
    "INJECTION_PROBE",
    "NUL",
    "PAYLOADS",
    "SHORT",
    "TRAP_SCRIPT",
    "Payload",
    "huge",
    "keys_in",
    "line",
    "prose",
    "short",
    "visible_form",
]


@dataclass(frozen=True)
class Payload:
    key: str
    text: str
    literal: bool = True  # shown verbatim (after collapsing white space) where it is plain text


_LONG_WORD = "W" * 1500

PAYLOADS: tuple[Payload, ...] = (
    Payload("xq01", "<script>window.__xss=1</script>xq01 after a script tag"),
    Payload("xq02", '"><script>window.__xss=2</script> xq02 breaks out of an attribute'),
    Payload("xq03", "'><img src=x onerror=\"window.__xss=3\"> xq03 single-quote break-out"),
    Payload("xq04", "<img src=x onerror=alert(4)> xq04 image with onerror"),
    Payload("xq05", '<svg onload="window.__xss=5"><circle r="9"/></svg> xq05 SVG onload'),
    Payload("xq06", "<svg><script>window.__xss=6</script></svg> xq06 script inside SVG"),
    Payload("xq07", "[xq07 a link to click](javascript:window.__xss=7)"),
    Payload("xq08", "![xq08 a picture](javascript:window.__xss=8)"),
    Payload("xq09", "[xq09 shouting scheme](JaVaScRiPt:alert(9))"),
    Payload("xq10", "<javascript:window.__xss=10> xq10 autolink"),
    Payload("xq11", "[xq11 entity scheme](&#106;avascript&#58;window.__xss=11)"),
    Payload("xq12", "[xq12 data link](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTI8L3NjcmlwdD4=)"),
    Payload("xq13", "<style>body{display:none}</style><p style=\"background:url(javascript:window.__xss=13)\">xq13 style</p>"),
    Payload("xq14", '<iframe src="javascript:window.__xss=14"></iframe> xq14 iframe'),
    Payload("xq15", '<object data="javascript:window.__xss=15"></object><embed src="javascript:window.__xss=15"> xq15'),
    Payload("xq16", "&lt;script&gt;window.__xss=16&lt;/script&gt; &#60;b&#62;xq16&#60;/b&#62; entities", literal=False),
    Payload("xq17", '{{ request.user.email }} {% now "Y" %} {{ 1|add:41 }} ${7*7} xq17 template syntax'),
    Payload("xq18", "Robert'); DROP TABLE network_service;-- \" OR '1'='1 xq18 SQL"),
    Payload("xq19", "\u0085next line\u2028line separator\ufeffbyte order mark xq19 odd characters", literal=False),
    Payload("xq20", "\u202eevil.exe\u202c \u200bxq20\u200b right-to-left override"),
    Payload("xq21", f"{_LONG_WORD} xq21 one very long word"),
    Payload("xq22", '<a href="javascript:window.__xss=22">xq22 raw link</a>'),
    Payload("xq23", '<details open ontoggle="window.__xss=23"><summary>xq23</summary></details>'),
    Payload("xq24", "<input autofocus onfocus=window.__xss=24> xq24 autofocus"),
    Payload("xq25", '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=25"> xq25 refresh'),
    Payload("xq26", '<form action="javascript:window.__xss=26"><button>xq26 button</button></form>'),
    Payload("xq27", "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=27> xq27 mutation"),
    Payload("xq28", "</textarea></title></style><script>window.__xss=28</script> xq28 closes tags"),
    Payload("xq29", '[xq29 quoted title](https://example.org/ "a" onmouseover="window.__xss=29")'),
    Payload("xq30", '<div hx-get="/" hx-trigger="load" hx-on::load="window.__xss=30">xq30 htmx attributes</div>'),
    Payload("xq31", "<base href=\"javascript:window.__xss=31//\"><a href=\"x\">xq31 base</a>"),
    Payload("xq32", "<!-- xq32 --><![CDATA[ ]]><x onclick=window.__xss=32>xq32 comment</x>", literal=False),
)

# Payloads that fit a one-line field of 150 characters.
SHORT: tuple[Payload, ...] = tuple(p for p in PAYLOADS if len(p.text) <= 150 and "\n" not in p.text)

NUL = Payload("xq98", "before\x00after xq98 null character", literal=False)

HUGE_KEY = "xq99"


def line(i: int) -> str:
    """The ``i``-th one-line payload (cycling), for a name, title or short note."""
    return SHORT[i % len(SHORT)].text


def short(i: int, limit: int) -> str:
    """The ``i``-th payload (cycling) of at most ``limit`` characters."""
    pool = [p.text for p in SHORT if len(p.text) <= limit]
    return pool[i % len(pool)]


def prose(*, limit: int = 4000) -> str:
    """Every payload that fits within ``limit`` characters, one paragraph each (the long
    word first, so it is always there)."""
    pool = sorted(PAYLOADS, key=lambda p: p.key != "xq21")
    parts: list[str] = []
    size = 0
    for p in pool:
        if size + len(p.text) + 2 > limit:
            continue
        parts.append(p.text)
        size += len(p.text) + 2
    return "\n\n".join(parts)


def huge() -> str:
    """About 60,000 characters of lines that look like markup, with the key at the end."""
    row = "<b onmouseover=window.__xss=99>bold?</b> &amp; [link](javascript:alert(99)) "
    return "\n".join(row for _ in range(800)) + f"\n\nThe end: {HUGE_KEY}"


def keys_in(text: str) -> set[str]:
    """The payload keys a text carries."""
    found = {p.key for p in PAYLOADS if p.key in text}
    if HUGE_KEY in text:
        found.add(HUGE_KEY)
    return found


def visible_form(text: str) -> str:
    """The text a reader should see for a plain-text field: white space collapsed."""
    return " ".join(text.split())


# Runs before any page script: a payload that runs sets or calls one of these.
TRAP_SCRIPT = """
window.__xss = 0;
window.__xssCalls = [];
(function () {
  const record = (how) => function () { window.__xssCalls.push(how + ':' + Array.from(arguments).join(',')); };
  window.alert = record('alert');
  window.confirm = record('confirm');
  window.prompt = record('prompt');
})();
"""

# Finds what a payload would have injected, in the live DOM.
INJECTION_PROBE = r"""
() => {
  const found = [];
  const RUN = /__xss|alert\(|xq\d\d/;
  const BAD_URL = /^(javascript|vbscript|data:text\/html)/i;
  const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc', 'poster', 'background']);
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + el.outerHTML.slice(0, 160);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value;
      const squeezed = value.replace(/[\u0000-\u0020]/g, '');
      if (name.startsWith('on')) found.push('event handler ' + name + ' on ' + describe(el));
      else if (URL_ATTRS.has(name) && BAD_URL.test(squeezed)) found.push('scripted URL in ' + name + ' on ' + describe(el));
      // the page's own CSRF header: a random token may spell a key such as "xq04" by chance
      else if (el === document.body && name === 'hx-headers' && /^\{"X-CSRFToken": "[A-Za-z0-9]+"\}$/.test(value)) continue;
      else if ((name.startsWith('hx-') || name.startsWith('data-hx')) && RUN.test(value)) found.push('htmx attribute ' + name + ' on ' + describe(el));
      else if (name === 'style' && /javascript|expression\(|xq\d\d/i.test(value)) found.push('injected style on ' + describe(el));
    }
    const markup = el.outerHTML;
    if (tag === 'script' && RUN.test(el.textContent)) found.push('injected <script>: ' + describe(el));
    if (['iframe', 'object', 'embed', 'base', 'x', 'mglyph', 'math'].includes(tag) && RUN.test(markup)) {
      found.push('injected <' + tag + '>: ' + describe(el));
    }
    if (tag === 'img' && (RUN.test(markup) || el.getAttribute('src') === 'x')) found.push('injected <img>: ' + describe(el));
    // the payload's circle has a radius and nothing else; the map drawings' circles are placed
    if (tag === 'circle' && el.getAttribute('r') === '9' && !el.hasAttribute('cx')) found.push('injected <svg>: ' + describe(el));
    if (tag === 'style' && RUN.test(el.textContent + markup)) found.push('injected <style>: ' + describe(el));
    if (tag === 'input' && el.hasAttribute('autofocus') && !el.name) found.push('injected <input>: ' + describe(el));
    if (tag === 'meta' && el.hasAttribute('http-equiv') && RUN.test(el.getAttribute('content') || '')) found.push('injected <meta>: ' + describe(el));
    if (tag === 'form' && BAD_URL.test((el.getAttribute('action') || '').trim())) found.push('injected <form>: ' + describe(el));
  }
  return found;
}
"""
