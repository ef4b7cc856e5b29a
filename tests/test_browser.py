"""The built smoke book as a reader meets it: every page opened in headless Chromium, offline.

For every HTML page of the session's smoke book (built by tests/test_notebooks.py, see tests/conftest.py):
the page loads from disk (file://, as a local build is read) with the network switched off, no JavaScript error
is thrown or logged, every image is loaded, MathJax (served from the book's own _static) has typeset every
math element without an error, and every internal link and anchor of the built HTML resolves.

Chromium is Debian's (`apt-get install chromium`; .ci/run installs it). It is driven through the DevTools
protocol over ``--remote-debugging-pipe`` (JSON messages ended by NUL on file descriptors 3 and 4): no port is
opened and no client library or browser download is needed, unlike Playwright or a websocket client.
Without Chromium the browser test is skipped, with the reason; the link crawl needs no browser.
"""
from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--no-default-browser-check", "--remote-debugging-pipe"]
PAGE_TIMEOUT = 60.0


def chromium() -> str | None:
    for name in (os.environ.get("NNGEOM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    return None


class Chromium:
    """A headless Chromium and one page in it, spoken to over the DevTools pipe."""

    def __init__(self, executable: str, profile: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def descriptors():  # in the child: Chromium reads commands on fd 3 and writes replies on fd 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, preexec_fn=descriptors, pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next = 0
        self._replies: dict[int, queue.Queue] = {}
        self.events: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call("Network.emulateNetworkConditions", session=True, offline=True, latency=0,
                  downloadThroughput=-1, uploadThroughput=-1)

    def _read(self):
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._replies.setdefault(message["id"], queue.Queue()).put(message)
                else:
                    self.events.put(message)
        self.events.put({"method": "closed"})

    def call(self, method: str, session: bool = False, timeout: float = PAGE_TIMEOUT, **params) -> dict:
        self._next += 1
        ident = self._next
        box = self._replies.setdefault(ident, queue.Queue())
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            reply = box.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"Chromium did not answer {method} within {timeout:.0f} s") from None
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, url: str) -> list[str]:
        """Navigate, wait for the load event; returns the JavaScript errors and failed loads seen meanwhile."""
        while not self.events.empty():
            self.events.get_nowait()
        self.call("Page.navigate", session=True, url=url)
        problems, requests, deadline = [], {}, time.monotonic() + PAGE_TIMEOUT
        while True:
            try:
                event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{url} did not finish loading in {PAGE_TIMEOUT:.0f} s") from None
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                problems.append("JavaScript error: " + details.get("exception", {}).get("description",
                                                                                         details.get("text", "")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append("console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                              for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error" \
                    and params["entry"].get("source") != "network":  # failed loads: reported below, with the URL
                problems.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}".strip())
            elif method == "Network.requestWillBeSent":
                requests[params["requestId"]] = params["request"]["url"]
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                url = requests.get(params["requestId"], f"request {params['requestId']}")
                problems.append(f"failed load: {params.get('errorText')}: {url[:160]}")
            elif method == "Page.loadEventFired":
                return problems
            elif method == "closed":
                raise AssertionError("Chromium exited")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"evaluating the page check failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except AssertionError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        self._reader.join(timeout=10)  # ends at the end of Chromium's output
        if not self._reader.is_alive():
            os.close(self._from_browser)


# Run in the page after its load event: wait for MathJax's first typesetting, then report what a reader sees.
PAGE_CHECK = """(async () => {
  const started = Date.now();
  while (document.querySelector('.math') && !(window.MathJax && MathJax.startup && MathJax.startup.promise)
         && Date.now() - started < 20000) { await new Promise(r => setTimeout(r, 100)); }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const math = Array.from(document.querySelectorAll('.math'));
  const script = Array.from(document.scripts).map(s => s.src).find(s => /mathjax/i.test(s)) || null;
  return {
    images: document.images.length,
    broken: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
                 .map(i => i.getAttribute('src').slice(0, 120)),
    math: math.length,
    untypeset: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    mathErrors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
    mathjax: (window.MathJax && MathJax.version) || null,
    mathjaxScript: script,
  };
})()"""


def pages(html: Path) -> list[Path]:
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(p for p in html.rglob("*.html") if not skip & set(p.relative_to(html).parts))


@pytest.fixture(scope="module")
def built(smoke_book) -> Path:
    result = smoke_book.build()
    html = smoke_book.html
    if not (html / "index.html").is_file():
        pytest.fail("the smoke book was not built:\n" + result.stdout[-3000:] + result.stderr[-3000:])
    return html


@pytest.mark.reader
@pytest.mark.browser
def test_every_page_loads_in_chromium_with_images_and_math(built):
    executable = chromium()
    if executable is None:
        reason = "Chromium not found (apt-get install chromium; .ci/run installs it): the pages were not opened"
        if os.environ.get("CI"):
            pytest.fail(reason + " -- CI must run this test")
        pytest.skip(reason)
    failures, with_math = {}, 0
    with tempfile.TemporaryDirectory(prefix="nngeom-chromium-") as profile:
        browser = Chromium(executable, Path(profile))
        try:
            for page in pages(built):
                name = str(page.relative_to(built))
                problems = browser.open(page.as_uri())
                seen = browser.evaluate(PAGE_CHECK)
                problems += [f"image not loaded: {src}" for src in seen["broken"]]
                if seen["math"]:
                    with_math += 1
                    if not seen["mathjax"]:
                        problems.append(f"{seen['math']} math elements but MathJax did not load")
                    elif not (seen["mathjaxScript"] or "").startswith("file:"):
                        problems.append(f"MathJax comes from {seen['mathjaxScript']}, not the book's _static")
                    problems += [f"math not typeset: {text!r}" for text in seen["untypeset"][:5]]
                    problems += [f"MathJax error: {text!r}" for text in seen["mathErrors"][:5]]
                if problems:
                    failures[name] = problems
        finally:
            browser.close()
    assert with_math > 0, "no page of the book has math: the math check checked nothing"
    assert not failures, "\n".join(f"{name}:\n  " + "\n  ".join(p) for name, p in failures.items())


ID = re.compile(r"""<[a-zA-Z][^>]*?\s(?:id|name)=["']([^"']+)["']""")
TARGET = re.compile(r"""<(a|link|img|script|source|iframe)\s[^>]*?\b(?:href|src)=["']([^"']*)["']""")


class Links:
    """The ids of a page, and the local targets of its links, images, scripts and style sheets.

    Regular expressions rather than an HTML parser: Sphinx writes every attribute quoted, and pages with large
    notebook outputs parse far faster this way."""

    def __init__(self, text: str):
        self.ids = set(ID.findall(text))
        self.targets = [target for _, target in TARGET.findall(text)]


def parse(page: Path) -> Links:
    return Links(page.read_text(errors="replace"))


def broken_links(html: Path) -> list[str]:
    parsed: dict[Path, Links] = {}
    broken = []
    for page in pages(html):
        links = parsed.setdefault(page, parse(page))
        for target in links.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:", "data:")):
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                broken.append(f"{page.relative_to(html)}: {target} (no such file)")
                continue
            fragment = unquote(parts.fragment)
            if fragment and path.suffix == ".html":
                ids = parsed.setdefault(path, parse(path)).ids
                if fragment not in ids:
                    broken.append(f"{page.relative_to(html)}: {target} (no anchor #{fragment})")
    return broken


@pytest.mark.reader
def test_no_internal_link_or_anchor_of_the_built_book_is_broken(built):
    broken = broken_links(built)
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:60])


def test_link_crawl_finds_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "index.html").write_text('<a href="a.html#there">ok</a> <a href="a.html#nowhere">x</a>'
                                         '<a href="b.html">y</a> <img src="_images/c.png"> '
                                         '<a href="https://example.org/x">external</a> <a href="#top">self</a>'
                                         '<span id="top"></span>')
    (tmp_path / "a.html").write_text('<h1 id="there">A</h1>')
    found = broken_links(tmp_path)
    assert len(found) == 3 and "#nowhere" in found[0] and "b.html" in found[1] and "c.png" in found[2]


def test_book_extensions_are_jupyter_books_own_without_thebe_and_with_local_mathjax(project_root):
    """_config.yml lists the Sphinx extensions itself: Jupyter Book's own (those it would pick for this _config.yml
    without the list, for the locked version), less sphinx_thebe, plus sphinx-mathjax-offline."""
    import copy

    import yaml
    from jupyter_book.config import get_final_config

    mine = yaml.safe_load((project_root / "_config.yml").read_text())
    theirs = copy.deepcopy(mine)
    del theirs["sphinx"]["config"]["extensions"]
    assert "extra_extensions" not in mine["sphinx"]  # Jupyter Book would put its defaults back, sphinx_thebe included

    def extensions(config):
        final = get_final_config(user_yaml=config, cli_config={"latex_individualpages": False}, sourcedir=project_root)
        return set(final[0]["extensions"])

    assert extensions(mine) == extensions(theirs) - {"sphinx_thebe"} | {"sphinx-mathjax-offline"}
    assert mine["sphinx"]["config"]["mathjax_path"] == "mathjax/tex-chtml.js"
    assert mine["sphinx"]["config"]["numfig"] is True
    assert mine["sphinx"]["config"]["html_context"]["default_mode"] in ("auto", "light", "dark")
