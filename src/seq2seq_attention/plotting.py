"""For the book's pages: loss curves, heatmaps, library source, glued numbers.

d2l's plotting helpers switch Jupyter to SVG, whose embedded date changes on
every run, so a stored figure could never match under nbval. Every helper here
draws once and displays PNG at twice the resolution it is shown at (crisp on
high-resolution screens).
"""
import ast
import inspect
import textwrap

import numpy as onp
from d2l import mxnet as d2l
from matplotlib import ticker
from mxnet import np


def use_png_display():
    """Show matplotlib figures as PNG at 2x resolution (nbval skips PNG)."""
    from matplotlib_inline import backend_inline
    backend_inline.set_matplotlib_formats('retina')


def _log_y(ax):
    """Log-scale y axis, ticks at 1, 2, 5 x 10^k written as plain numbers."""
    ax.set_yscale('log')
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FormatStrFormatter('%g'))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def plot_losses(histories, labels=None, xlabel='epoch',
                ylabel='loss per token'):
    """Draw one or more per-epoch loss curves once, on a log scale."""
    use_png_display()
    fig, ax = d2l.plt.subplots(figsize=(4.5, 3))
    for i, history in enumerate(histories):
        ax.plot(range(1, len(history) + 1), history,
                label=labels[i] if labels else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _log_y(ax)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if labels:
        ax.legend()
    d2l.plt.show()


def plot_spread(x, curves, xlabel, ylabel, xticklabels=None, logy=False):
    """Curves over seeds: each label's mean as a line, its range as a band.

    `curves` maps a label to its values, one row per seed and one column per
    point of `x`; the band spans the lowest to the highest seed.
    """
    use_png_display()
    fig, ax = d2l.plt.subplots(figsize=(4.5, 3))
    for label, values in curves.items():
        values = onp.asarray(values, dtype=float)  # (num_seeds, len(x))
        if values.ndim != 2 or values.shape[1] != len(x):
            raise ValueError(f'curves[{label!r}] must have one row per seed '
                             f'and {len(x)} columns, got shape '
                             f'{values.shape}')
        line, = ax.plot(x, values.mean(axis=0), marker='o', label=label)
        ax.fill_between(x, values.min(axis=0), values.max(axis=0),
                        color=line.get_color(), alpha=0.2)
    if xticklabels is not None:
        ax.set_xticks(x, xticklabels)
    if logy:
        _log_y(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    d2l.plt.show()


def show_heatmaps(matrices, xlabel, ylabel, titles=None, figsize=(5, 2.5),
                  cmap='Reds'):
    """d2l's `show_heatmaps` (a (rows, cols, m, n) grid of matrices) as PNG.

    Rows and columns are labelled by their integer positions.
    """
    # d2l's version takes MXNet arrays only
    if not hasattr(matrices, 'asnumpy'):
        matrices = np.array(matrices)
    d2l.show_heatmaps(matrices, xlabel, ylabel, titles, figsize, cmap)
    for ax in d2l.plt.gcf().axes[:-1]:  # every heatmap but the colour bar
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    # d2l switched to SVG; the figure is rendered when the cell ends
    use_png_display()


def show_attention(weights, src_tokens, tgt_tokens, figsize=(4, 3.5)):
    """Heatmap of attention weights, tokens on the axes.

    The weights have shape `(len(tgt_tokens), len(src_tokens))`.
    """
    if weights.shape != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(f'weights have shape {weights.shape}, expected '
                         f'({len(tgt_tokens)}, {len(src_tokens)}) '
                         f'for the tokens given')
    show_heatmaps(weights.reshape((1, 1) + weights.shape),
                  xlabel='source tokens', ylabel='output tokens',
                  figsize=figsize)
    ax = d2l.plt.gcf().axes[0]
    ax.set_xticks(range(len(src_tokens)), src_tokens, rotation=90)
    ax.set_yticks(range(len(tgt_tokens)), tgt_tokens)


def source_listing(obj):
    """The source of a function, class or method as a chapter lists it.

    A method is shown unindented under a comment naming its class, and every
    docstring by its first line: the listing holds the idea, the library file
    the details. The text is the library's own, so it cannot drift.
    """
    lines = textwrap.dedent(inspect.getsource(obj)).splitlines()
    documented = [node for node in ast.walk(ast.parse('\n'.join(lines)))
                  if isinstance(node, (ast.ClassDef, ast.FunctionDef))
                  and ast.get_docstring(node)]
    # later docstrings first, so that earlier line numbers stay valid
    for node in sorted(documented, key=lambda n: -n.body[0].lineno):
        doc = node.body[0]
        first = lines[doc.lineno - 1]
        indent = first[:len(first) - len(first.lstrip())]
        quotes = first.lstrip()[:3]
        summary = ast.get_docstring(node).splitlines()[0]
        lines[doc.lineno - 1:doc.end_lineno] = [
            indent + quotes + summary + quotes]
    if '.' in obj.__qualname__:  # a method: say where it lives
        module = obj.__module__.replace('.', '/')
        lines.insert(0, f'# {obj.__qualname__}, in {module}.py')
    return '\n'.join(lines) + '\n'


def show_source(*objs):
    """Display the source of library functions, classes or methods.

    Each is listed as `source_listing` shows it: the book shows the real code.
    """
    from IPython.display import Code
    return Code('\n\n'.join(source_listing(obj) for obj in objs),
                language='python')


# The MIME prefix under which myst-nb finds a glued value (not displayed)
GLUE_MIME_PREFIX = 'application/papermill.record/'


def glue(name, value):
    """Record `value` for the chapter's text to quote as {glue:text}`name`.

    The output is that of myst-nb's `glue(name, value, display=False)`, without
    myst-nb, which Colab lacks: the number in the prose is the computed one, and
    nbval compares it with the stored one like any output.
    """
    from IPython.display import display
    display({GLUE_MIME_PREFIX + 'text/plain': repr(value)}, raw=True,
            metadata={'scrapbook': {'name': name,
                                    'mime_prefix': GLUE_MIME_PREFIX}})
