"""The rendered book: it builds without warnings, every chapter of _toc.yml
becomes a page that a real browser (headless Chromium) shows with its title,
code, figures and Colab button and without error output, and every chapter's
first code cell installs the library from the repository URL that _config.yml
sets (the one place it is written).

The book is built once per run into a temporary folder (never into the
repository's _build/), from the outputs stored in the notebooks
(_config.yml: execute_notebooks off). The pages are served over http from
127.0.0.1 so that their JavaScript runs as it does online. A full-page
screenshot of each page is saved in <html>/_screenshots/ and copied into the
repository's _build/screenshots/.
"""

import base64
import functools
import io
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
import yaml

pytestmark = pytest.mark.slow  # builds the book, drives Chromium

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / '_config.yml').read_text(encoding='utf-8'))
TOC = yaml.safe_load((ROOT / '_toc.yml').read_text(encoding='utf-8'))
REPOSITORY_URL = CONFIG['repository']['url'].rstrip('/')

LIBRARY = ROOT / 'src' / 'seq2seq_attention'
# What fits a code box at desktop width (tests below
# check it in the browser too)
MAX_COLUMNS = 80
DESKTOP_WIDTH, PHONE_WIDTH = 1280, 400
# MathJax as the pages load it (sphinx's default) and the
# local copy served instead
MATHJAX_VERSION = '3.2.2'  # scripts/install-browser.sh fetches it
MATHJAX_CDN = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/'
MATHJAX_PATH = '/_mathjax/es5/'

CHROMIUM = Path('/usr/bin/chromium')
CHROMEDRIVER = Path('/usr/bin/chromedriver')
CHROME_ARGUMENTS = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    f'--window-size={DESKTOP_WIDTH},2000',
]
COLAB_PREFIX = 'https://colab.research.google.com/github/'
SCREENSHOTS = ROOT / '_build' / 'screenshots'

COLAB_GUARD = re.compile(
    r"""^(\s*)if\s+(['"])google\.colab\2\s+in\s+sys\.modules\s*:"""
)
PIP_INSTALL = re.compile(r"""\bpip\b['",\s]+install\b""")
URL = re.compile(r"""https?://[^\s'"`<>()\[\]{}]+""")
# An exception's name (or a bare "Error") followed by a colon or the end of the
# line, at the start of a line of output: "ValueError: ...",
# "mxnet.base.MXNetError: ...", "Error: ...".
ERROR_LINE = re.compile(r'^\s*(?:[A-Za-z_][\w.]*)?(?:Error|Exception)(?::|$)')


def toc_files(entry):
    """The `file` entries of a _toc.yml node and of its chapters, parts
    and sections, in order."""
    if 'file' in entry:
        yield entry['file']
    for key in ('parts', 'chapters', 'sections'):
        for child in entry.get(key) or []:
            yield from toc_files(child)


ROOT_DOC = TOC['root']
CHAPTERS = list(
    toc_files({key: TOC[key] for key in ('parts', 'chapters') if key in TOC})
)
# (name of the page in test ids and screenshots, docname whose page
# it shows, path to open)
PAGES = [('index', ROOT_DOC, 'index.html')] + [
    (Path(doc).name, doc, f'{doc}.html') for doc in CHAPTERS
]
PAGE_IDS = [page[0] for page in PAGES]
CHAPTER_PAGES, CHAPTER_IDS = PAGES[1:], PAGE_IDS[1:]


def source_of(docname):
    """The source file of a docname: its .ipynb or .md (the .ipynb
    path when neither exists)."""
    for suffix in ('.ipynb', '.md'):
        path = ROOT / f'{docname}{suffix}'
        if path.is_file():
            return path
    return ROOT / f'{docname}.ipynb'


def first_heading(markdown):
    """The text of the first `# ` heading in a Markdown text
    outside code fences, or None."""
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(('```', '~~~')):
            in_fence = not in_fence
        elif not in_fence and (match := re.match(r'#\s+(.+?)\s*#*\s*$', line)):
            return match.group(1)
    return None


def plain(text):
    """Markdown inline text as a browser shows it: links, code and
    emphasis marks removed."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    text = re.sub(r'[`*]', '', text)
    return ' '.join(text.split())


def page_title(docname):
    """The title of a page: its source's first `# ` heading (of a
    notebook's Markdown cells)."""
    path = source_of(docname)
    assert path.is_file(), (
        f'{path.relative_to(ROOT)} (listed in _toc.yml) does not exist'
    )
    if path.suffix == '.ipynb':
        cells = nbformat.read(path, as_version=4).cells
        markdown = '\n'.join(
            c.source for c in cells if c.cell_type == 'markdown'
        )
    else:
        markdown = path.read_text(encoding='utf-8')
    heading = first_heading(markdown)
    assert heading, (
        f'{path.relative_to(ROOT)} has no "# " heading to take its title from'
    )
    return plain(heading)


def normalise_url(url):
    """A pip/git URL without its fragment, @ref, .git
    suffix and trailing slash."""
    url = url.split('#')[0].rstrip('/')
    url = re.sub(r'(github\.com/[^/@]+/[^/@]+)@[^/]*$', r'\1', url)
    return re.sub(r'\.git$', '', url)


@dataclass
class Build:
    """The book built into a temporary folder: its HTML
    folder and the build's log."""

    html: Path
    log: str


@pytest.fixture(scope='module')
def build(tmp_path_factory):
    """Build the book once (warnings are errors) and return
    its HTML folder and log."""
    jupyter_book = Path(sys.executable).with_name('jupyter-book')
    assert jupyter_book.is_file(), (
        f'{jupyter_book} is missing: run `make setup`'
    )
    out = tmp_path_factory.mktemp('book')
    command = [
        str(jupyter_book),
        'build',
        '--warningiserror',
        '--keep-going',
        '--path-output',
        str(out),
        str(ROOT),
    ]
    start = time.monotonic()
    result = subprocess.run(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    seconds = time.monotonic() - start
    output = re.sub(r'\x1b\[[0-9;]*m', '', result.stdout)
    print(
        f'{output}\njupyter-book build: {seconds:.1f} s, '
        f'exit status {result.returncode}'
    )
    if result.returncode != 0:
        lines = output.splitlines()
        problems = [
            line
            for line in lines
            if re.search(r'WARNING|ERROR|Error|Exception', line)
        ]
        pytest.fail(
            f'`{" ".join(command)}` failed (exit status {result.returncode}, '
            f'{seconds:.0f} s):\n'
            + '\n'.join(problems or lines[-40:])
            + '\n(the whole log is in the captured stdout of the first test '
            'that built it)',
            pytrace=False,
        )
    return Build(html=out / '_build' / 'html', log=output)


@pytest.fixture(scope='module')
def html_dir(build):
    """The folder of the built HTML (<path-output>/_build/html)."""
    return build.html


class QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr.

    With a local MathJax (`mathjax_dir`), pages load it from /_mathjax/ instead
    of the CDN, which the test machine cannot reach.
    """

    mathjax_dir = None

    def log_message(self, format, *args):
        """Drop the request log."""

    def translate_path(self, path):
        """Map /_mathjax/... to the local MathJax copy,
        the rest to the build."""
        if self.mathjax_dir and path.startswith(MATHJAX_PATH):
            # /_mathjax/es5/... -> <mathjax_dir>/es5/...
            relative = path.split('?')[0][len('/_mathjax/') :]
            return str(Path(self.mathjax_dir) / relative)
        return super().translate_path(path)

    def send_head(self):
        """Serve HTML pages with MathJax's CDN address
        replaced by /_mathjax/."""
        path = Path(self.translate_path(self.path))
        if not (self.mathjax_dir and path.suffix == '.html' and path.is_file()):
            return super().send_head()
        body = path.read_bytes().replace(
            MATHJAX_CDN.encode(), MATHJAX_PATH.encode()
        )
        self.send_response(200)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def skip_or_fail_under_ci(reason):
    """Skip a test that lacks what `make browser` installs;
    under CI, fail instead."""
    if os.environ.get('CI'):
        pytest.fail(f'CI needs the browser test: {reason}', pytrace=False)
    pytest.skip(reason)


def local_mathjax():
    """The folder of the MathJax 3 copy `make browser` fetched, or None."""
    folder = Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache'))
    folder = folder / 'seq2seq_attention' / f'mathjax-{MATHJAX_VERSION}'
    return folder if (folder / 'es5' / 'tex-mml-chtml.js').is_file() else None


@pytest.fixture(scope='module')
def mathjax():
    """The local MathJax folder; skip (fail under CI) where there is none."""
    folder = local_mathjax()
    if folder is None:
        skip_or_fail_under_ci(
            f'no local MathJax {MATHJAX_VERSION}: run `make browser` '
            '(scripts/install-browser.sh) to fetch it'
        )
    return folder


@pytest.fixture(scope='module')
def server(html_dir):
    """Serve the built HTML on 127.0.0.1 (an ephemeral port)
    and yield its base URL."""
    handler = functools.partial(
        type('Handler', (QuietHandler,), {'mathjax_dir': local_mathjax()}),
        directory=str(html_dir),
    )
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever, name='book-http', daemon=True
    )
    thread.start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium driven by the system's chromedriver (Selenium
    Manager is never used)."""
    missing = [
        str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()
    ]
    if missing:
        skip_or_fail_under_ci(
            f'{" and ".join(missing)} missing: run `make browser` '
            '(scripts/install-browser.sh) to install chromium and '
            'chromium-driver'
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROME_ARGUMENTS:
        options.add_argument(argument)
    driver = webdriver.Chrome(
        service=Service(str(CHROMEDRIVER)), options=options
    )
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Rendered:
    """What the browser showed of one page."""

    url: str
    title: str
    h1s: list
    code_visible: bool
    figures: list
    hrefs: list
    error_elements: list
    output_texts: list
    text: str
    overflowing_code: list
    search_boxes: int
    sidebar_titles: int
    footer: str
    images: list
    untypeset_math: list
    unnumbered_equations: list
    phone_wide_images: list
    phone_cramped_equations: list = None
    install_cell_collapsed: bool = None


# Code boxes whose content is wider than the box (the reader must scroll
# sideways): the first line of each, cut to 100 characters
OVERFLOWING_CODE = """
return Array.from(document.querySelectorAll('article pre'))
  .filter(pre => pre.offsetParent !== null \
&& pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split('\\n').find(l => l.length > 0).slice(0, 100)
              + ` (${pre.scrollWidth} px in ${pre.clientWidth} px)`)
"""
# Search boxes and buttons a reader can see
SEARCH_BOXES = """
return Array.from(document.querySelectorAll(\
'.search-button-field, form.bd-search'))
  .filter(e => e.offsetParent !== null \
&& e.getBoundingClientRect().width > 0).length
"""
# Every image of the article: [src, alt text, its figure's caption or null]
IMAGES = """
return Array.from(document.querySelectorAll('article img')).map(img => {
  const caption = img.closest('figure') \
&& img.closest('figure').querySelector('figcaption');
  return [img.getAttribute('src'), img.getAttribute('alt') || '',
          caption ? caption.textContent.trim() : null];
})
"""
# Equations MathJax has not typeset (their TeX source still shows)
UNTYPESET_MATH = """
return Array.from(document.querySelectorAll('article .math'))
  .filter(e => !e.querySelector('mjx-container'))
  .map(e => e.textContent.trim().slice(0, 80))
"""


def wait_for_mathjax(driver, seconds=30):
    """Wait until MathJax, where a page loads it, has typeset the page."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    if not driver.execute_script(
        'return !!document.querySelector("article .math")'
    ):
        return
    try:
        WebDriverWait(driver, seconds).until(
            lambda d: d.execute_script(
                'return !!(window.MathJax && MathJax.startup '
                '&& MathJax.startup.promise)'
            )
        )
    except TimeoutException:
        return  # MathJax never loaded: the equations test says so
    driver.set_script_timeout(seconds)
    driver.execute_async_script(
        'const done = arguments[arguments.length - 1];'
        'MathJax.startup.promise.then(() => done(true), () => done(false));'
    )


# Images wider than the window (at phone width)
WIDE_IMAGES = """
return Array.from(document.querySelectorAll('article img'))
  .filter(img => img.getBoundingClientRect().right > window.innerWidth + 1)
  .map(img => img.getAttribute('src'))
"""
# Displayed equations that do not fit their box (so part of them is clipped
# or must be scrolled to) or whose number covers them: the start of each,
# with what is wrong
CRAMPED_EQUATIONS = """
const problems = [];
for (const e of document.querySelectorAll('article div.math')) {
  const math = e.querySelector('mjx-math'), number = e.querySelector('.eqno');
  if (!math) continue;
  const box = e.getBoundingClientRect(), m = math.getBoundingClientRect();
  const name = e.textContent.trim().slice(0, 50);
  if (m.left < box.left - 1 || m.right > box.right + 1) {
    problems.push(`${name}: ${Math.round(m.width)} px wide `
                  + `in ${Math.round(box.width)} px`);
  }
  if (number) {
    const n = number.getBoundingClientRect();
    if (n.left < m.right - 1 && n.right > m.left + 1
        && n.top < m.bottom - 1 && n.bottom > m.top + 1) {
      problems.push(`${name}: its number covers it`);
    }
  }
}
return problems;
"""


def save_screenshot(driver, name, html_dir):
    """Save a full-page PNG of the current page in <html>/_screenshots/
    and _build/screenshots/."""
    size = driver.execute_cdp_cmd('Page.getLayoutMetrics', {})['cssContentSize']
    clip = {
        'x': 0,
        'y': 0,
        'width': math.ceil(size['width']),
        'height': min(math.ceil(size['height']), 16000),
        'scale': 1,
    }
    shot = driver.execute_cdp_cmd(
        'Page.captureScreenshot',
        {'format': 'png', 'captureBeyondViewport': True, 'clip': clip},
    )
    path = html_dir / '_screenshots' / f'{name}.png'
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(base64.b64decode(shot['data']))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / path.name)


def render(driver, base_url, html_dir, name, docname, path):
    """Open a page (following index.html's redirect), wait for it,
    screenshot and inspect it."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    assert (html_dir / path).is_file(), f'the build has no {path}'
    driver.get(base_url + path)
    target = f'{base_url}{docname}.html'
    try:
        WebDriverWait(driver, 20).until(
            lambda d: (
                d.current_url.split('#')[0] == target
                and d.execute_script('return document.readyState') == 'complete'
            )
        )
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script(
                'return Array.from(document.images).every(img => img.complete)'
            )
        )
    except TimeoutException:
        # the checks below say what is wrong (wrong page, images not loaded)
        pass
    wait_for_mathjax(driver)
    save_screenshot(driver, name, html_dir)
    code = driver.find_elements(
        By.CSS_SELECTOR, 'div.cell_input, div.highlight'
    )
    title = CONFIG['title']
    rendered = dict(
        url=driver.current_url,
        title=driver.title,
        h1s=driver.execute_script(
            'return Array.from(document.querySelectorAll("article h1"))'
            '.map(h => h.textContent)'
        ),
        code_visible=any(element.is_displayed() for element in code),
        figures=driver.execute_script(
            'return Array.from('
            'document.querySelectorAll("div.cell_output img"))'
            '.map(img => [img.getAttribute("src"), img.naturalWidth])'
        ),
        hrefs=driver.execute_script(
            'return Array.from(document.querySelectorAll("a[href]"))'
            '.map(a => a.href)'
        ),
        error_elements=driver.execute_script(
            'return Array.from('
            'document.querySelectorAll(".stderr, .output.traceback"))'
            '.map(e => e.className + ": " + e.textContent.trim().slice(0, 300))'
        ),
        output_texts=driver.execute_script(
            'return Array.from('
            'document.querySelectorAll("div.cell_output .output"))'
            '.map(e => e.textContent)'
        ),
        text=driver.execute_script('return document.body.textContent'),
        overflowing_code=driver.execute_script(OVERFLOWING_CODE),
        search_boxes=driver.execute_script(SEARCH_BOXES),
        sidebar_titles=driver.execute_script(
            'return Array.from('
            'document.querySelectorAll(".bd-sidebar-primary a"))'
            '.filter(a => a.offsetParent !== null && '
            f'a.textContent.trim() === {title!r}).length'
        ),
        footer=driver.execute_script(
            'return Array.from(document.querySelectorAll("footer"))'
            '.map(f => f.textContent).join(" ")'
        ),
        images=driver.execute_script(IMAGES),
        untypeset_math=driver.execute_script(UNTYPESET_MATH),
        unnumbered_equations=driver.execute_script(
            'return Array.from(document.querySelectorAll("article div.math"))'
            '.filter(e => !e.querySelector(".eqno"))'
            '.map(e => e.textContent.trim().slice(0, 60))'
        ),
    )
    # the first code cell (the install cell): its source hidden in a closed
    # toggle, its toggle shown
    rendered['install_cell_collapsed'] = driver.execute_script(
        "const c = document.querySelector('article div.cell');"
        'const source = c && c.querySelector(".cell_input");'
        'const toggle = source && source.closest("details");'
        # a closed toggle's content keeps its size: checkVisibility says
        'return !!toggle && !toggle.open && !source.checkVisibility()'
    )
    # The same page on a phone: a screenshot, and the
    # images wider than the window
    driver.set_window_size(PHONE_WIDTH, 2000)
    try:
        time.sleep(0.5)  # let the page lay itself out again
        save_screenshot(driver, f'{name}-{PHONE_WIDTH}px', html_dir)
        rendered['phone_wide_images'] = driver.execute_script(WIDE_IMAGES)
        rendered['phone_cramped_equations'] = driver.execute_script(
            CRAMPED_EQUATIONS
        )
    finally:
        driver.set_window_size(DESKTOP_WIDTH, 2000)
    return Rendered(**rendered)


@pytest.fixture(scope='module')
def visit(html_dir, server, browser):
    """A function that renders a page in the browser once and
    returns what it showed."""
    seen = {}

    def _visit(name, docname, path):
        """The Rendered page `name`, opened on first use."""
        if name not in seen:
            seen[name] = render(browser, server, html_dir, name, docname, path)
        return seen[name]

    return _visit


def test_build_executes_no_notebook(build):
    """The build renders the stored outputs: myst-nb reports its
    execution mode as off."""
    modes = re.findall(r"execution_mode='(\w+)'", build.log)
    assert modes == ['off'], (
        f'myst-nb execution modes in the build log: {modes}'
    )


def test_build_has_index_and_a_page_per_chapter(html_dir):
    """The build wrote index.html, the root page and one page
    per chapter of _toc.yml."""
    expected = ['index.html', f'{ROOT_DOC}.html'] + [
        f'{doc}.html' for doc in CHAPTERS
    ]
    missing = [path for path in expected if not (html_dir / path).is_file()]
    assert not missing, f'pages missing from the build: {missing}'


def test_every_directive_is_rendered_not_shown_as_text(html_dir):
    """No page shows a directive's fence as text (a backtick in a fenced
    directive's title, say, makes MyST read it as a paragraph)."""
    shown = {
        path.name: re.findall(r'(?:```|:::)\{\w+\}[^<\n]{0,40}', text)
        for path in sorted(html_dir.glob('**/*.html'))
        for text in [path.read_text(encoding='utf-8')]
    }
    shown = {name: found for name, found in shown.items() if found}
    assert not shown, f'directives shown as text: {shown}'


def test_files_a_chapter_fetches_in_colab_are_in_the_repository():
    """A chapter opened alone in Colab fetches its data files from the
    repository's branch (`REPO` with raw.githubusercontent.com): each such
    path must be a file git tracks, at the path the chapter reads locally."""
    fetched = re.compile(r"\+ '/(\w+)/(book/[\w./-]+)'")
    local = re.compile(r"^path = '([\w./-]+)'", re.M)
    found = 0
    for docname in CHAPTERS:
        for cell in nbformat.read(ROOT / f'{docname}.ipynb', 4).cells:
            if 'raw.githubusercontent.com' not in cell.source:
                continue
            ((branch, path),) = fetched.findall(cell.source)
            assert branch == CONFIG['repository']['branch'], cell.source
            # read beside the chapter, or fetched from the same place
            assert [f'book/{p}' for p in local.findall(cell.source)] == [
                path
            ], cell.source
            tracked = subprocess.run(
                ['git', 'ls-files', '--error-unmatch', path],
                cwd=ROOT,
                capture_output=True,
            )
            assert tracked.returncode == 0, f'{path}: not tracked by git'
            found += 1
    assert found >= 2  # chapter 6's validation curves and recipe scores


@pytest.mark.parametrize('docname', CHAPTERS, ids=CHAPTER_IDS)
def test_first_code_cell_installs_from_the_repository_in_colab(docname):
    """A chapter's first code cell installs from _config.yml's
    repository URL, only in Colab."""
    path = ROOT / f'{docname}.ipynb'
    assert path.is_file(), (
        f'{path.relative_to(ROOT)} (listed in _toc.yml) does not exist'
    )
    code = [
        c
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == 'code'
    ]
    assert code, f'{path.name} has no code cell'
    # collapsed on the web page, where there is nothing to install
    assert 'hide-input' in code[0].metadata.get('tags', []), (
        f'{path.name}: the install cell is not tagged hide-input'
    )
    source = code[0].source
    lines = source.splitlines()
    guards = [
        (i, m) for i, line in enumerate(lines) if (m := COLAB_GUARD.match(line))
    ]
    assert guards, (
        f'{path.name}: the first code cell has no '
        "`if 'google.colab' in sys.modules:`"
        f'\n{source}'
    )
    start, guard = guards[0]
    end = (
        start + 1
    )  # the guarded block: the lines indented deeper than the `if`
    while end < len(lines) and (
        not lines[end].strip()
        or len(lines[end]) - len(lines[end].lstrip()) > len(guard.group(1))
    ):
        end += 1
    installs = [i for i, line in enumerate(lines) if PIP_INSTALL.search(line)]
    assert installs, (
        f'{path.name}: the first code cell installs nothing\n{source}'
    )
    unguarded = [lines[i] for i in installs if not start < i < end]
    assert not unguarded, (
        f'{path.name}: pip runs outside the Colab guard: {unguarded}'
    )
    urls = {normalise_url(url) for url in URL.findall(source)}
    assert urls == {REPOSITORY_URL}, (
        f'{path.name}: the install cell uses {sorted(urls)}, '
        f'_config.yml says {REPOSITORY_URL}\n{source}'
    )


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_page_shows_its_title(visit, name, docname, path):
    """The browser lands on the page, and its <title> and <h1>
    carry the source's heading."""
    page = visit(name, docname, path)
    title = page_title(docname)
    assert page.url.split('#')[0].endswith(f'/{docname}.html'), (
        f'{path} landed on {page.url}'
    )
    assert title.casefold() in ' '.join(page.title.split()).casefold(), (
        f'<title> {page.title!r} lacks {title!r}'
    )
    assert any(
        title.casefold() in ' '.join(h.split()).casefold() for h in page.h1s
    ), f'no <h1> holds {title!r}: {page.h1s}'


@pytest.mark.parametrize('name, docname, path', CHAPTER_PAGES, ids=CHAPTER_IDS)
def test_chapter_page_shows_code(visit, name, docname, path):
    """A chapter page shows a code cell or highlighted code
    block (the intro has none)."""
    assert visit(name, docname, path).code_visible, f'{path}: no visible code'


@pytest.mark.parametrize('name, docname, path', CHAPTER_PAGES, ids=CHAPTER_IDS)
def test_chapter_page_shows_a_figure(visit, name, docname, path):
    """A chapter page shows at least one figure from a cell output,
    loaded (naturalWidth > 0)."""
    figures = visit(name, docname, path).figures
    assert any(width > 0 for _, width in figures), (
        f'{path}: no loaded image in the cell outputs '
        f'([src, naturalWidth]: {figures})'
    )


@pytest.mark.parametrize('name, docname, path', CHAPTER_PAGES, ids=CHAPTER_IDS)
def test_chapter_page_links_to_colab(visit, name, docname, path):
    """A chapter page's launch menu links to its notebook on Colab,
    from _config.yml's URL."""
    hrefs = visit(name, docname, path).hrefs
    colab = [href for href in hrefs if href.startswith(COLAB_PREFIX)]
    assert colab, f'{path}: no link starting with {COLAB_PREFIX}'
    repo = REPOSITORY_URL.removeprefix('https://github.com/')
    book = (CONFIG['repository'].get('path_to_book') or '').strip('/')
    notebook = '/'.join(part for part in (book, f'{docname}.ipynb') if part)
    expected = (
        f"{COLAB_PREFIX}{repo}/blob/{CONFIG['repository']['branch']}/{notebook}"
    )
    assert expected in colab, (
        f'{path}: Colab links {colab}, expected {expected}'
    )


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_page_shows_no_error_output(visit, name, docname, path):
    """No stderr or traceback output, and no output line that
    starts with an exception."""
    page = visit(name, docname, path)
    elements = page.error_elements
    assert not elements, f'{path}: error output: {elements}'
    assert 'Traceback (most recent call last)' not in page.text, (
        f'{path}: shows a traceback'
    )
    errors = [
        line
        for text in page.output_texts
        for line in text.splitlines()
        if ERROR_LINE.match(line)
    ]
    assert not errors, f'{path}: output lines that report errors: {errors}'


def test_one_install_cell_for_all_chapters_installs_mxnet_without_its_pins():
    """One install cell for all chapters (tests/colab/simulate.sh runs it),
    within 80 columns, that installs MXNet and d2l with --no-deps (their numpy
    pins cannot be met on Colab)."""
    cells = {}
    for docname in CHAPTERS:
        code = [
            c
            for c in nbformat.read(
                ROOT / f'{docname}.ipynb', as_version=4
            ).cells
            if c.cell_type == 'code'
        ]
        cells[docname] = code[0].source
    assert len(set(cells.values())) == 1, (
        f'install cells differ: {sorted(cells)}'
    )
    source = next(iter(cells.values()))
    assert max(len(line) for line in source.splitlines()) <= 80
    no_deps = [line for line in source.splitlines() if '--no-deps' in line]
    assert no_deps and all(
        name in no_deps[0] for name in ('==1.9.1', 'd2l==1.0.3')
    ), source


def lines_a_reader_sees(path):
    """(where, line) for every line of a notebook's code
    cells and text outputs."""
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type != 'code':
            continue
        texts = [('code', cell.source)]
        for output in cell.get('outputs', []):
            if 'text' in output:  # a stream
                texts.append((output.get('name', 'stream'), output['text']))
            plain_text = output.get('data', {}).get('text/plain')
            if plain_text is not None:  # a result, or displayed source
                texts.append(('output', plain_text))
        for kind, text in texts:
            for line in text.splitlines():
                yield f'cell {index} {kind}', line


@pytest.mark.parametrize('docname', CHAPTERS, ids=CHAPTER_IDS)
def test_every_line_a_reader_sees_fits_the_code_box(docname):
    """Code, printed outputs and displayed library
    source: at most 80 columns."""
    path = ROOT / f'{docname}.ipynb'
    wide = [
        f'{where}: {len(line)} columns: {line}'
        for where, line in lines_a_reader_sees(path)
        if len(line) > MAX_COLUMNS
    ]
    assert not wide, (
        f'{path.name}: lines wider than {MAX_COLUMNS}:\n' + '\n'.join(wide)
    )


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_no_code_box_scrolls_sideways_at_desktop_width(
    visit, name, docname, path
):
    """At 1280 px, every code cell, output and listing fits its box."""
    overflowing = visit(name, docname, path).overflowing_code
    assert not overflowing, (
        f'{path}: code boxes that scroll sideways at '
        f'{DESKTOP_WIDTH} px:\n' + '\n'.join(overflowing)
    )


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_page_has_one_search_box_the_title_once_and_no_build_date(
    visit, name, docname, path
):
    """The theme as _config.yml and book/_static/custom.css set it."""
    page = visit(name, docname, path)
    assert page.search_boxes == 1, f'{path}: {page.search_boxes} search boxes'
    assert page.sidebar_titles == 1, (
        f'{path}: the sidebar shows the title {page.sidebar_titles} times'
    )
    assert 'Last updated' not in page.footer, (
        f'{path}: footer {page.footer.split()}'
    )


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_images_fit_a_phone_screen(visit, name, docname, path):
    """At 400 px, no image is wider than the window (a
    screenshot is saved too)."""
    wide = visit(name, docname, path).phone_wide_images
    assert not wide, f'{path}: images wider than {PHONE_WIDTH} px: {wide}'


@pytest.mark.parametrize('name, docname, path', CHAPTER_PAGES, ids=CHAPTER_IDS)
def test_install_cell_is_collapsed_on_the_page(visit, name, docname, path):
    """A web reader sees a "Show code cell source" toggle, not the pip lines
    that only Colab runs."""
    assert visit(name, docname, path).install_cell_collapsed, path


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_equations_fit_a_phone_screen(mathjax, visit, name, docname, path):
    """At 400 px, every displayed equation fits its box, its number beside
    or below it, not over it."""
    cramped = visit(name, docname, path).phone_cramped_equations
    assert not cramped, (
        f'{path}: equations cramped at {PHONE_WIDTH} px:\n' + '\n'.join(cramped)
    )


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_every_figure_has_a_numbered_caption_and_alt_text(
    visit, name, docname, path
):
    """Each image: alt text in words (not its file name)
    and a "Fig. n.m" caption."""
    problems = []
    for src, alt, caption in visit(name, docname, path).images:
        if (
            not alt.strip()
            or alt.strip() == src
            or re.search(r'\.(png|svg|jpe?g)$', alt)
        ):
            problems.append(f'{src}: alt text {alt!r}')
        if not (caption and re.match(r'Fig\. \d+\.\d+ \S', caption)):
            problems.append(f'{src}: caption {caption!r}')
    assert not problems, f'{path}:\n' + '\n'.join(problems)


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_equations_are_typeset(mathjax, visit, name, docname, path):
    """MathJax (a local copy in place of the CDN's) typesets every equation."""
    untypeset = visit(name, docname, path).untypeset_math
    assert not untypeset, f'{path}: equations left as TeX: {untypeset}'


@pytest.mark.parametrize('name, docname, path', PAGES, ids=PAGE_IDS)
def test_displayed_equations_are_numbered(visit, name, docname, path):
    """Every displayed equation carries a number, "(3.1)" (a `$$ (label)`)."""
    unnumbered = visit(name, docname, path).unnumbered_equations
    assert not unnumbered, f'{path}: equations without a number: {unnumbered}'


def test_every_cited_paper_is_in_the_bibliography_and_every_entry_is_cited():
    """{cite}`key` roles in the chapters and intro
    against book/references.bib."""
    bib = (ROOT / 'book' / 'references.bib').read_text(encoding='utf-8')
    entries = set(re.findall(r'^@\w+\{([^,\s]+),', bib, flags=re.M))
    texts = [source_of(ROOT_DOC).read_text(encoding='utf-8')] + [
        c.source
        for doc in CHAPTERS
        for c in nbformat.read(ROOT / f'{doc}.ipynb', as_version=4).cells
        if c.cell_type == 'markdown'
    ]
    cited = {
        key.strip()
        for text in texts
        for keys in re.findall(r'\{cite(?::\w+)?\}`([^`]+)`', text)
        for key in keys.split(',')
    }
    assert cited, 'no citation in the book'
    assert cited <= entries, (
        f'cited but not in references.bib: {cited - entries}'
    )
    assert entries <= cited, (
        f'in references.bib but never cited: {entries - cited}'
    )


def test_bibliography_labels_read_as_the_citations(html_dir):
    """[Bahdanau et al., 2015], as the chapters cite it
    (book/_ext/bib_labels.py), not pybtex's alphabetic [BCB15]."""
    page = (html_dir / 'book' / 'intro.html').read_text(encoding='utf-8')
    labels = [
        re.sub(r'<[^>]+>', '', label)  # a label may be a link (back-references)
        for label in re.findall(r'fn-bracket">\[</span>(.*?)<span', page)
    ]
    assert 'Bahdanau et al., 2015' in labels and 'Post, 2018' in labels, labels
    assert all(re.fullmatch(r'[^\d]+, \d{4}', label) for label in labels), (
        labels
    )
