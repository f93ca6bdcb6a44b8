"""Compiled graphs for blocks that loop over time: one graph per length.

`hybridize()` compiles a `HybridBlock`'s `hybrid_forward` into one static
graph: a large speed-up for small models, where sending every operator from
Python costs more than computing it. A block that loops over time steps
unrolls its loop into that graph, so a graph holds one number of steps: the
encoder's graph for 10 source tokens cannot encode 7.

A `SequenceBlock` therefore keeps one compiled graph per length (per pair of
lengths for an encoder–decoder), each an `Unrolled` block that computes with
the `SequenceBlock`'s own parameters. Switching lengths (training on 10
steps, then decoding one step at a time) builds each graph once. At most
`max_graphs` graphs are kept, the most recently used: each holds memory, and
with `static_alloc` all its arrays; `keep_graph_memory` says when that pays.
"""
import collections
import weakref

import mxnet as mx
from mxnet.gluon import nn

# The most memory the largest arrays of graphs that keep their own may take
# together (see `keep_graph_memory`)
STATIC_BYTES = 64 * 2 ** 20


class Unrolled(nn.HybridBlock):
    """One compiled graph of a `SequenceBlock`, for the lengths it is fed."""

    def __init__(self, block):
        super().__init__()
        self.block = weakref.ref(block)  # not a child: the graph is no part

    def collect_params(self, select=None):
        """The block's parameters: the graph computes with them."""
        return self.block().collect_params(select)

    def hybrid_forward(self, F, *args):
        """Build the graph: the block's `hybrid_forward` on symbols."""
        return nn.HybridBlock.forward(self.block(), *args)


class GraphCache:
    """A block's compiled graphs by lengths, the most recently used last."""

    def __init__(self):
        self.graphs = collections.OrderedDict()

    def __len__(self):
        return len(self.graphs)

    def __contains__(self, lengths):
        return lengths in self.graphs

    def clear(self):
        """Drop every graph (and the memory it holds)."""
        self.graphs.clear()

    def get(self, lengths, build, max_graphs):
        """The graph for `lengths`, built by `build()` if missing.

        Only the `max_graphs` most recently used are kept.
        """
        graph = self.graphs.pop(lengths, None)
        if graph is None:
            graph = build()
            while len(self.graphs) >= max_graphs:
                self.graphs.popitem(last=False)  # the least recently used
        self.graphs[lengths] = graph  # now the most recently used
        return graph


class SequenceBlock(nn.HybridBlock):
    """A `HybridBlock` that loops over time: compiled once per length."""

    max_graphs = 16

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.graphs = GraphCache()  # lengths -> Unrolled
        self.graph_options = None  # hybridize's options, while compiled

    def hybridize(self, active=True, **kwargs):
        """Compile from now on, one graph per length (or stop: False)."""
        super().hybridize(active, **kwargs)
        self.graph_options = dict(kwargs) if active else None
        self.graphs.clear()

    def run(self, lengths, *args):
        """`hybrid_forward(F, *args)`: compiled for `lengths`, if hybridized.

        Inside another block's graph (symbols), or not hybridized, it runs
        `hybrid_forward` directly.
        """
        if (self.graph_options is None
                or any(isinstance(a, mx.sym.Symbol) for a in args)):
            return nn.HybridBlock.forward(self, *args)
        graph = self.graphs.get(lengths, self._compile, self.max_graphs)
        return graph(*args)

    def _compile(self):
        """A new graph, compiled with `hybridize`'s options when first run."""
        graph = Unrolled(self)
        graph.hybridize(True, **self.graph_options)
        return graph


def keep_graph_memory(array_bytes):
    """Whether compiled graphs should keep their own memory (`static_alloc`).

    `array_bytes` holds, for each graph training will build, the size of its
    largest array. Keeping each graph's arrays saves time where the
    operators are small, and costs memory where the arrays are large or the
    graphs many: yes for at most `SequenceBlock.max_graphs` graphs whose
    largest arrays take at most `STATIC_BYTES` together.
    """
    return (len(array_bytes) <= SequenceBlock.max_graphs
            and sum(array_bytes) <= STATIC_BYTES)
