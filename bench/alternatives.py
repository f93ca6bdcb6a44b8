"""Alternatives to the library's speed choices, timed by bench/train_speed.py.

`--configs default+NAME` trains the `default` configuration with the variant
NAME applied in the benchmark's child process before anything runs, so that
each choice the library makes for speed stays measured against the other code
it could have been (bench/RESULTS.md has the figures):

- `broadcast`: additive attention adds every query to every key by
  broadcasting, instead of `attention.add_each_query_to_each_key` (a product
  with a column of ones);
- `fused-adam`: the clipping and Adam as the library did them until December
  2026 (`ClippedAdam`: the norm by one `multi_sum_sq`, every parameter updated
  by one `multi_adamw_update`), instead of `clip_gradients` and
  `gluon.Trainer`; one context only.
"""

import math

import mxnet as mx


def broadcast():
    """Additive attention adds queries to keys by broadcasting."""
    from seq2seq_attention import attention

    def add_each_query_to_each_key(F, queries, keys):
        return F.np.expand_dims(queries, axis=2) + F.np.expand_dims(
            keys, axis=1
        )

    attention.add_each_query_to_each_key = add_each_query_to_each_key


class FusedAdam:
    """The `gluon.Trainer` methods train_s2s calls, as ClippedAdam did them."""

    def __init__(
        self,
        params,
        optimizer,
        optimizer_params,
        kvstore=None,
        update_on_kvstore=None,
    ):
        assert optimizer == 'adam' and kvstore in (None, 'device')
        self.params, self.lr = params, optimizer_params['learning_rate']
        self.beta1, self.beta2, self.epsilon, self.t = 0.9, 0.999, 1e-8, 0
        self.mean = [mx.nd.zeros(p.shape) for p in params]
        self.var = [mx.nd.zeros(p.shape) for p in params]

    def allreduce_grads(self):
        """One context: nothing to sum."""

    def update(self, batch_size):
        """Clip the global norm, divide by the tokens, Adam: fused."""
        self.t += 1
        lr = (
            self.lr
            * math.sqrt(1 - self.beta2**self.t)
            / (1 - self.beta1**self.t)
        )
        grads = [p.grad().as_nd_ndarray() for p in self.params]
        sum_sq = mx.nd.multi_sum_sq(*grads, num_arrays=len(grads))
        norm = sum_sq.sum().sqrt()
        clip = mx.nd.minimum(CLIP['theta'] / (norm + 1e-12), 1.0)
        rescale = (clip / CLIP['num_tokens'].as_nd_ndarray()).reshape(1)
        weights = [p.data().as_nd_ndarray() for p in self.params]
        n = len(self.params)
        mx.nd.contrib.multi_adamw_update(
            weights,
            grads,
            self.mean,
            self.var,
            rescale,
            out=weights,
            lrs=(lr,) * n,
            wds=(0.0,) * n,
            etas=(1.0,) * n,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
        )


CLIP = {}


def fused_adam():
    """train_s2s clips and updates with `FusedAdam`."""
    from mxnet import gluon
    from seq2seq_attention import training

    def clip_gradients(params, theta, num_tokens):
        CLIP.update(theta=theta, num_tokens=num_tokens)  # FusedAdam clips

    gluon.Trainer = FusedAdam
    training.clip_gradients = clip_gradients


VARIANTS = {'broadcast': broadcast, 'fused-adam': fused_adam}
