"""Figures for the book: loss curves, heatmaps, and showing library source in a chapter.

d2l's plotting helpers switch Jupyter to SVG, whose embedded date changes on every run, so a
stored figure could never match under nbval. Every helper here draws once and displays PNG.
"""
import inspect

from d2l import mxnet as d2l
from mxnet import np


def use_png_display():
    """Make Jupyter show matplotlib figures as PNG (nbval skips comparing PNG bytes)."""
    from matplotlib_inline import backend_inline
    backend_inline.set_matplotlib_formats('png')


def plot_losses(histories, labels=None, xlabel='epoch', ylabel='loss per token'):
    """Draw one or more per-epoch loss curves once, on a log scale."""
    use_png_display()
    fig, ax = d2l.plt.subplots(figsize=(4.5, 3))
    for i, history in enumerate(histories):
        ax.plot(range(1, len(history) + 1), history, label=labels[i] if labels else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_yscale('log')
    ax.grid(True, alpha=0.3)
    if labels:
        ax.legend()
    d2l.plt.show()


def show_heatmaps(matrices, xlabel, ylabel, titles=None, figsize=(2.5, 2.5), cmap='Reds'):
    """d2l's `show_heatmaps` (a grid of matrices, shape (rows, cols, m, n)), shown as PNG."""
    if not hasattr(matrices, 'asnumpy'):  # d2l's version takes MXNet arrays only
        matrices = np.array(matrices)
    d2l.show_heatmaps(matrices, xlabel, ylabel, titles, figsize, cmap)
    use_png_display()  # d2l switched to SVG; the figure is rendered when the cell ends


def show_attention(weights, src_tokens, tgt_tokens, figsize=(4, 3.5)):
    """Heatmap of attention weights `(len(tgt_tokens), len(src_tokens))`, tokens on the axes."""
    if weights.shape != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(f'weights have shape {weights.shape}, expected '
                         f'({len(tgt_tokens)}, {len(src_tokens)}) for the tokens given')
    show_heatmaps(weights.reshape((1, 1) + weights.shape), xlabel='source tokens',
                  ylabel='output tokens', figsize=figsize)
    ax = d2l.plt.gcf().axes[0]
    ax.set_xticks(range(len(src_tokens)), src_tokens, rotation=90)
    ax.set_yticks(range(len(tgt_tokens)), tgt_tokens)


def show_source(obj):
    """Display the source code of a library class or function (so the book shows the real code)."""
    from IPython.display import Code
    return Code(inspect.getsource(obj), language='python')
