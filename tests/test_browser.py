"""The built book read in headless Chromium: every page of the toc is opened from disk (file://, network
blocked) and must show typeset math (MathJax output, no raw TeX), tables rendered as tables (no raw pipe text),
every image loaded, no JavaScript error, and the left navigation numbered. A full-page screenshot of each page
is saved under <build>/_build/screens/ and copied to _build/screens/ of the working tree. The quick tests
at the end point the same checks at hand-made pages: a right one passes, a broken one fails on each count.

The browser is Debian's `chromium` (or $CHROMIUM), driven through `--remote-debugging-pipe`: JSON messages on
file descriptors 3 (to the browser) and 4 (from it), separated by NUL bytes. No driver binary, no websocket
library, nothing downloaded. Every URL other than file:// is blocked, so a page that needs the network (a CDN
script, a web font) fails its check whatever network the machine has.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
         "--no-default-browser-check", "--remote-debugging-pipe"]
WIDTH = 1280          # wide enough for the book theme to show the left navigation
MAX_SHOT_HEIGHT = 16000  # px; Chromium's texture limit is about 16k


def find_chromium() -> str | None:
    exe = os.environ.get("CHROMIUM")
    if exe:
        return exe
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Chromium:
    """One headless browser; `check_page` opens a page in a fresh tab and returns what it found."""

    def __init__(self, exe: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.log_path = Path(self.profile).with_suffix(".log")
        to_r, to_w = os.pipe()      # we write, the browser reads on fd 3
        from_r, from_w = os.pipe()  # the browser writes on fd 4, we read

        def child_fds():
            a = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)   # out of the way of 3 and 4 first
            b = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)  # dup2 makes 3 and 4 inheritable
            os.dup2(b, 4)

        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     preexec_fn=child_fds, close_fds=False)
        os.close(to_r)
        os.close(from_w)
        self._out = os.fdopen(to_w, "wb", buffering=0)
        self._in = from_r
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._replies: dict[int, dict] = {}
        self._events: list[dict] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.version = self.send("Browser.getVersion")["product"]
        except Exception:
            self.close()
            raise

    # -- protocol ---------------------------------------------------------------------------------------
    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            *messages, buf = buf.split(b"\0")
            with self._cond:
                for raw in messages:
                    msg = json.loads(raw)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self._events.append(msg)
                self._cond.notify_all()

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            self._out.write(json.dumps(msg).encode() + b"\0")
        except OSError as e:
            raise BrowserError(f"browser gone while sending {method}: {e}\n{self.log_tail()}") from e
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while msg_id not in self._replies:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    why = "browser exited" if self._closed else "timed out"
                    raise BrowserError(f"{method}: {why}\n{self.log_tail()}")
                self._cond.wait(left)
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str, session: str, timeout: float | None = None, **match) -> dict:
        """The first event `method` of `session` whose params contain `match`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                for ev in self._events:
                    if (ev.get("method") == method and ev.get("sessionId") == session
                            and all(ev.get("params", {}).get(k) == v for k, v in match.items())):
                        return ev
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise BrowserError(f"no {method} within {timeout or self.timeout} s")
                self._cond.wait(left)

    def take_events(self, session: str) -> list[dict]:
        with self._cond:
            mine = [e for e in self._events if e.get("sessionId") == session]
            self._events = [e for e in self._events if e.get("sessionId") not in (session, None)]
        return mine

    def evaluate(self, session: str, expression: str, timeout: float | None = None):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      session, timeout)
        if "exceptionDetails" in r:
            raise BrowserError(f"evaluation failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", timeout=10)
                except BrowserError:
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            try:
                self._out.close()
            except OSError:
                pass
            try:
                os.close(self._in)
            except OSError:
                pass
            self._log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- a page -----------------------------------------------------------------------------------------
    def check_page(self, url: str, screenshot: Path | None = None) -> dict:
        """Load `url` in a fresh tab, wait for MathJax and images, and return the page report (see PAGE_JS)
        with `errors`: every JavaScript exception, console error, error log entry and failed request."""
        # a fresh browser context per page: empty storage, as for a first-time reader
        context = self.send("Target.createBrowserContext")["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable", session=session)
            self.send("Page.setLifecycleEventsEnabled", {"enabled": True}, session)
            # the site must work offline: anything not on disk is refused (and reported as a failed request)
            self.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]}, session)
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
            nav = self.send("Page.navigate", {"url": url}, session)
            if nav.get("errorText"):
                raise BrowserError(f"cannot open {url}: {nav['errorText']}")
            self.wait_event("Page.lifecycleEvent", session, name="load", loaderId=nav["loaderId"])
            report = self.evaluate(session, PAGE_JS, timeout=self.timeout)
            if screenshot is not None:
                self._screenshot(session, screenshot)
            time.sleep(0.2)  # let late console messages arrive
            report["errors"] = describe_errors(self.take_events(session))
            return report
        finally:
            try:
                self.send("Target.closeTarget", {"targetId": target}, timeout=10)
                self.send("Target.disposeBrowserContext", {"browserContextId": context}, timeout=10)
            except BrowserError:
                pass
            self.take_events(session)

    def _screenshot(self, session: str, path: Path):
        """The whole page: the viewport is made as tall as the page (twice: the layout can change), so the
        theme lays the page out as it would in such a window (captureBeyondViewport shifts its sidebar)."""
        height = 900
        for _ in range(2):
            size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
            height = min(max(int(size["height"]) + 1, 900), MAX_SHOT_HEIGHT)
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
            self.evaluate(session, "new Promise(r => requestAnimationFrame(() => setTimeout(r, 200)))")
        shot = self.send("Page.captureScreenshot", {"format": "png"}, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def describe_errors(events: list[dict]) -> list[str]:
    """JavaScript errors of a page load, one line each. Nothing is ignored."""
    out = []
    urls = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in events
            if e.get("method") == "Network.requestWillBeSent"}
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text", "")
            out.append(f"uncaught exception: {text.splitlines()[0] if text else d} ({d.get('url', '')}:"
                       f"{d.get('lineNumber', '?')})")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            out.append(f"console.{p['type']}: {args}")
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            e = p["entry"]
            out.append(f"{e.get('source', 'log')} error: {e.get('text', '')} {e.get('url', '')}".rstrip())
        elif m == "Network.loadingFailed":
            why = " ".join(x for x in (p.get("errorText"), p.get("blockedReason")) if x)
            out.append(f"request failed ({why}): {urls.get(p.get('requestId'), p.get('requestId'))}")
    return out


# Runs in the page after its load event: waits for MathJax's first typeset (when MathJax is on the page) and for
# every image to finish, then reports what a reader would see.
PAGE_JS = r"""
(async () => {
  const timeout = (ms) => new Promise(r => setTimeout(r, ms));
  let mathjax = "absent";
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    mathjax = await Promise.race([window.MathJax.startup.promise.then(() => "done", e => "failed: " + e),
                                  timeout(30000).then(() => "timed out")]);
  }
  await Promise.all(Array.from(document.images).map(im => im.complete ? null : Promise.race([
      new Promise(r => { im.addEventListener("load", r); im.addEventListener("error", r); }), timeout(15000)])));

  // text a reader sees as prose or output: not scripts, not typeset math, not code the page shows on purpose
  const skip = "script, style, noscript, template, textarea, mjx-container, .cell_input, code.literal, " +
               ".highlight-python, .highlight-ipython3, .highlight-bash, .highlight-default";
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !n.nodeValue.trim()) continue;
    texts.push([n.nodeValue, el]);
  }
  const where = (el) => (el.closest("p, li, td, th, pre, h1, h2, h3, h4, dt, dd, div") || el)
                          .textContent.replace(/\s+/g, " ").trim().slice(0, 160);
  const rawTex = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\n]{0,200}?\\[A-Za-z]+[^$\n]{0,200}?\$/;
  const pipeRule = /\|\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|/;
  const pipeRow = /^\s*\|.*\|\s*$/m;
  const rawMath = [], pipeTables = [];
  for (const [t, el] of texts) {
    // a lone $ in prose is a delimiter that did not pair up (outputs may print dollars)
    if (rawTex.test(t) || (t.includes("$") && !el.closest("pre"))) rawMath.push(where(el));
    if (pipeRule.test(t) && pipeRow.test(t)) pipeTables.push(where(el));
  }
  // formulas whose TeX holds Markdown: delimiters paired across prose, which MathJax then set as one formula
  const proseInMath = [];
  if (mathjax === "done" && window.MathJax.startup.document) {
    for (const item of window.MathJax.startup.document.math) {
      if (/\*\*|`|\]\(|\n\s*\n/.test(item.math)) proseInMath.push(item.math.replace(/\s+/g, " ").slice(0, 160));
    }
  }
  const mathEls = Array.from(document.querySelectorAll(".math"));
  return {
    title: document.title,
    mathjax: mathjax,
    math_elements: mathEls.length,
    mjx_containers: document.querySelectorAll("mjx-container").length,
    untypeset: mathEls.filter(e => !e.querySelector("mjx-container")).map(e => e.textContent.trim().slice(0, 120)),
    mathjax_errors: Array.from(document.querySelectorAll("mjx-merror"))
                      .map(e => (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 160)),
    raw_math: rawMath,
    prose_in_math: proseInMath,
    pipe_tables: pipeTables,
    images: document.images.length,
    broken_images: Array.from(document.images).filter(im => !(im.complete && im.naturalWidth > 0))
                      .map(im => im.getAttribute("src")),
    tables: document.querySelectorAll("table").length,
    nav: Array.from(document.querySelectorAll("nav.bd-docs-nav a"))
            .map(a => ({href: a.getAttribute("href"), text: a.textContent.replace(/\s+/g, " ").trim()})),
  };
})()
"""


def page_problems(report: dict) -> list[str]:
    """What is wrong with a page, from `Chromium.check_page`'s report; empty when it reads right."""
    problems = []
    if report["math_elements"]:
        if report["mathjax"] != "done":
            problems.append(f"MathJax did not typeset ({report['mathjax']}) but the page has "
                            f"{report['math_elements']} formulas")
        if report["untypeset"]:
            problems.append(f"{len(report['untypeset'])} formulas not typeset, e.g. {report['untypeset'][:3]}")
        if not report["mjx_containers"]:
            problems.append("no MathJax output (mjx-container) on a page with math")
    if report["mathjax_errors"]:
        problems.append(f"MathJax errors: {report['mathjax_errors'][:5]}")
    if report["raw_math"]:
        problems.append(f"raw TeX in the text: {report['raw_math'][:3]}")
    if report["prose_in_math"]:
        problems.append(f"Markdown inside a formula (math delimiters paired across prose?): "
                        f"{report['prose_in_math'][:3]}")
    if report["pipe_tables"]:
        problems.append(f"raw pipe table in the text: {report['pipe_tables'][:3]}")
    if report["broken_images"]:
        problems.append(f"{len(report['broken_images'])} of {report['images']} images not loaded: "
                        f"{report['broken_images'][:5]}")
    if report["errors"]:
        problems.append(f"JavaScript errors: {report['errors'][:8]}")
    return problems


CHAPTER = re.compile(r"^(\d\d)_")


def nav_problems(nav: list[dict], this_page: str, chapters: list[str]) -> list[str]:
    """The left navigation lists every chapter (`chapters`: toc page names such as '01_phenomenology.html');
    each chapter NN_* with NN >= 1 reads 'N. Title', numbered once; no title shows raw LaTeX (math belongs in
    the page). `this_page` is the page shown, which the navigation links to as '#'."""
    problems = []
    by_page = {}
    for item in nav:
        href = (item["href"] or "").split("#")[0]
        by_page.setdefault(href.rsplit("/", 1)[-1] or this_page, item["text"])
    for page in chapters:
        text = by_page.get(page)
        if text is None:
            problems.append(f"navigation has no entry for {page}")
            continue
        m = CHAPTER.match(page)
        if m and int(m.group(1)) >= 1:
            n = int(m.group(1))
            if not re.match(rf"{n}\.\s+\S", text):
                problems.append(f"navigation entry for {page} is not numbered '{n}.': {text!r}")
            elif re.match(r"\d+\.\s+\d+\.", text):
                problems.append(f"navigation entry for {page} is numbered twice: {text!r}")
        if re.search(r"\$|\\[A-Za-z(\[]", text):
            problems.append(f"navigation entry for {page} shows raw LaTeX: {text!r}")
    return problems


# -- the tests ------------------------------------------------------------------------------------------------

def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for c in toc["chapters"]]


@pytest.fixture(scope="module")
def chromium():
    exe = find_chromium()
    if exe is None:
        pytest.fail("headless Chromium not found: install Debian's package `chromium` (.ci/run does it: "
                    "apt-get install -y chromium) or set CHROMIUM=/path/to/chromium")
    with Chromium(exe) as browser:
        yield browser


PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def _mathjax_url() -> str:
    from importlib.metadata import distribution
    dist = distribution("sphinx-mathjax-offline")  # the MathJax the site ships
    path = Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax/tex-chtml.js"))
    assert path.exists(), path
    return path.as_uri()


NAV_OK = ('<nav class="bd-docs-nav"><a href="index.html">Title page</a><a href="00_scores.html">Results</a>'
          '<a href="01_a.html">1. First</a><a href="#">2. Second</a></nav>')


def test_a_page_that_reads_right_passes(tmp_path, chromium):
    """Typeset math, a table, an image, code that shows TeX and a pipe table on purpose: no problem reported."""
    (tmp_path / "fig.png").write_bytes(base64.b64decode(PNG_1PX))
    (tmp_path / "good.html").write_text(f"""<!doctype html><html><head><title>good</title>
<script defer src="{_mathjax_url()}"></script></head><body>{NAV_OK}
<p>The threshold <span class="math notranslate nohighlight">\\(K^* \\propto N^{{1/\\nu}}\\)</span> grows.</p>
<div class="math notranslate nohighlight">\\[ t_{{ICL}} = \\frac{{1}}{{\\eta}} \\]</div>
<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
<img src="fig.png" alt="figure">
<div class="cell_input"><pre>table = '''
| a | b |
|---|---|
'''; label = r"\\(K^*\\)"</pre></div>
<p>Inline code <code class="literal">$$</code> is shown on purpose.</p>
</body></html>""")
    report = chromium.check_page((tmp_path / "good.html").as_uri(), tmp_path / "good.png")
    assert page_problems(report) == [], report
    assert nav_problems(report["nav"], "02_b.html", ["00_scores.html", "01_a.html", "02_b.html"]) == []
    assert report["mjx_containers"] == 2 and report["images"] == 1 and report["tables"] == 1, report
    assert (tmp_path / "good.png").stat().st_size > 1000


def test_the_checks_catch_a_broken_page(tmp_path, chromium):
    """Raw TeX, a raw pipe table, a missing image, JavaScript errors, a CDN script and a bad navigation are
    each reported, naming what is wrong."""
    (tmp_path / "broken.html").write_text("""<!doctype html><html><head><title>broken</title>
<script src="https://cdn.example.org/mathjax/tex-chtml.js"></script></head><body>
<nav class="bd-docs-nav"><a href="01_a.html">1. First</a><a href="02_b.html">The $K^*$ chapter</a>
<a href="#">3. 3. Twice</a></nav>
<p>The threshold <span class="math notranslate nohighlight">\\(K^*\\)</span> grows.</p>
<p>| setting | value |
|---|---|
| D | 31 |</p>
<img src="missing.png" alt="missing">
<script>console.error("boom in the console"); throw new Error("boom thrown");</script>
</body></html>""")
    report = chromium.check_page((tmp_path / "broken.html").as_uri())
    problems = "\n".join(page_problems(report))
    for expected in ["MathJax did not typeset", "1 formulas not typeset", "no MathJax output",
                     "raw TeX in the text", "raw pipe table in the text: ['| setting | value |",
                     "1 of 1 images not loaded: ['missing.png']", "boom in the console", "Error: boom thrown",
                     "request failed", "https://cdn.example.org/mathjax/tex-chtml.js", "ERR_FILE_NOT_FOUND"]:
        assert expected in problems, f"{expected!r} not reported:\n{problems}"
    nav = "\n".join(nav_problems(report["nav"], "03_c.html", ["01_a.html", "02_b.html", "03_c.html", "04_d.html"]))
    for expected in ["02_b.html is not numbered '2.'", "02_b.html shows raw LaTeX", "03_c.html is numbered twice",
                     "no entry for 04_d.html"]:
        assert expected in nav, f"{expected!r} not reported:\n{nav}"
    assert "01_a.html" not in nav


def test_formulas_mathjax_cannot_read_or_that_swallowed_prose_are_reported(tmp_path, chromium):
    """A TeX error, and what $$...$$ inside a paragraph once gave: a lone $ in the text and a formula made of
    the prose between two delimiters that paired up wrongly."""
    (tmp_path / "merror.html").write_text(f"""<!doctype html><html><head><title>merror</title>
<script defer src="{_mathjax_url()}"></script></head><body>
<p>Bad: <span class="math notranslate nohighlight">\\(x^\\)</span></p>
<p>the loss becomes $<span class="math notranslate nohighlight">\\(\\mathcal{{L}}' \\approx w \\qquad (9)\\)</span>
<span class="math notranslate nohighlight">\\( whose origin is a **saddle**; depending on \\)</span></p>
</body></html>""")
    problems = "\n".join(page_problems(chromium.check_page((tmp_path / "merror.html").as_uri())))
    for expected in ["MathJax errors:", "raw TeX in the text: ['the loss becomes $",
                     "Markdown inside a formula (math delimiters paired across prose?): "
                     "[' whose origin is a **saddle**"]:
        assert expected in problems, f"{expected!r} not reported:\n{problems}"


@pytest.mark.slow
def test_every_page_reads_right_in_a_browser(book_build, chromium):
    assert book_build.returncode == 0, "the book did not build (see test_book_builds):\n" + book_build.log[-3000:]
    pages = toc_pages()
    chapters = [Path(f).name + ".html" for f in pages[1:]]
    screens = book_build.root / "_build" / "screens"
    failures, summary = [], []
    formulas = images = 0

    def check(browser, f):
        t0 = time.monotonic()
        return browser.check_page((book_build.html / f"{f}.html").as_uri(), screens / f"{Path(f).name}.png"), \
            time.monotonic() - t0

    # two browsers, each reading every other page (two cores: the pages render side by side); one report per page
    with Chromium(find_chromium()) as second, ThreadPoolExecutor(2) as pool:
        halves = [pool.submit(lambda b, fs: [check(b, f) for f in fs], b, pages[i::2])
                  for i, b in enumerate((chromium, second))]
        done = [r.result() for r in halves]
    reports = {f: done[i % 2][i // 2] for i, f in enumerate(pages)}
    for f in pages:
        report, seconds = reports[f]
        problems = page_problems(report) + nav_problems(report["nav"], f"{Path(f).name}.html", chapters)
        failures += [f"{f}: {p}" for p in problems]
        formulas += report["mjx_containers"]
        images += report["images"]
        summary.append(f"{f}: {report['mjx_containers']} formulas, {report['images']} images, {report['tables']} "
                       f"tables, {len(problems)} problems, {seconds:.1f} s")
    (screens / "summary.txt").write_text(chromium.version + "\n" + "\n".join(summary + failures) + "\n")
    mirror = ROOT / "_build" / "screens"
    shutil.rmtree(mirror, ignore_errors=True)
    shutil.copytree(screens, mirror)
    print("\n".join(summary))
    assert not failures, f"{len(failures)} problems (screenshots in {mirror}):\n" + "\n".join(failures)
    assert formulas > 0 and images > 0, "no formulas or no images anywhere in the book:\n" + "\n".join(summary)
