"""The book's figures: loss curves, curves over seeds, attention heatmaps.

d2l's plotting helpers switch Jupyter to SVG, whose embedded date changes on
every run, so a stored figure could never match under nbval. Every helper here
draws once and displays PNG at twice the resolution it is shown at (crisp on
high-resolution screens).
"""
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
    elif all(float(v).is_integer() for v in x):  # epochs, say: no 2.5
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    if logy:
        _log_y(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    d2l.plt.show()


def show_heatmaps(matrices, xlabel, ylabel, titles=None, figsize=(5, 2.5),
                  cmap='Reds', clabel='attention weight'):
    """d2l's `show_heatmaps` (a (rows, cols, m, n) grid of matrices) as PNG.

    Rows and columns are labelled by their integer positions, the colour bar
    by `clabel`.
    """
    # d2l's version takes MXNet arrays only
    if not hasattr(matrices, 'asnumpy'):
        matrices = np.array(matrices)
    d2l.show_heatmaps(matrices, xlabel, ylabel, titles, figsize, cmap)
    *heatmaps, colour_bar = d2l.plt.gcf().axes
    for ax in heatmaps:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    colour_bar.set_ylabel(clabel)
    # d2l switched to SVG; the figure is rendered when the cell ends
    use_png_display()


def show_attention(weights, src_tokens, tgt_tokens, figsize=(4, 3.5),
                   max_labels=20):
    """Heatmap of attention weights, tokens on the axes.

    The weights have shape `(len(tgt_tokens), len(src_tokens))`. An axis with
    more than `max_labels` tokens labels every second (third, ...) one, so
    that the labels do not overlap.
    """
    if weights.shape != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(f'weights have shape {weights.shape}, expected '
                         f'({len(tgt_tokens)}, {len(src_tokens)}) '
                         f'for the tokens given')
    show_heatmaps(weights.reshape((1, 1) + weights.shape),
                  xlabel='source tokens', ylabel='output tokens',
                  figsize=figsize)
    ax = d2l.plt.gcf().axes[0]
    for axis, tokens in [(ax.xaxis, src_tokens), (ax.yaxis, tgt_tokens)]:
        every = -(-len(tokens) // max_labels)  # ceil(len / max_labels)
        positions = range(0, len(tokens), every)
        axis.set_ticks(positions, [tokens[i] for i in positions])
    ax.tick_params(axis='x', labelrotation=90)
