"""Alternatives to the library's speed choices, timed by bench/train_speed.py.

`--configs default+NAME` trains the `default` configuration with the variant
NAME applied in the benchmark's child process before anything runs, so that
each choice the library makes for speed stays measured against the plainer
code it could be (bench/RESULTS.md has the figures):

- `broadcast`: additive attention adds every query to every key by
  broadcasting, instead of `attention.add_each_query_to_each_key` (a product
  with a column of ones);
- `gluon-trainer`: `gluon.Trainer(params, 'adam')` after d2l's clipping of the
  gradients' global norm, computed on the device with the division by the
  token count (no host wait), instead of `optim.ClippedAdam`; one context;
- `softmax-loss`: the cross-entropy as `-log(pick(softmax(scores)))`, whose
  gradient oneDNN computes with its fast softmax kernel, instead of
  `-pick(log_softmax(scores))`, whose gradient runs oneDNN's reference
  kernel under the AVX2 pin (equal in exact arithmetic; in float32 the
  first gives inf where a token's probability underflows, below ~1e-38);
- `system-malloc`: glibc's `malloc` as it comes, each large array on fresh
  pages, instead of `memory.keep_freed_memory` (an environment variable, in
  `ENVIRONMENT`: set before the library loads).
"""

import os


def broadcast():
    """Additive attention adds queries to keys by broadcasting."""
    from seq2seq_attention import attention

    def add_each_query_to_each_key(F, queries, keys):
        return F.np.expand_dims(queries, axis=2) + F.np.expand_dims(
            keys, axis=1
        )

    attention.add_each_query_to_each_key = add_each_query_to_each_key


class TrainerAdam:
    """ClippedAdam's interface over `gluon.Trainer` (one context)."""

    def __init__(self, params, ctxs, lr, theta=1.0, kvstore=None):
        from mxnet import gluon

        assert len(ctxs) == 1 and kvstore is None, 'one context only'
        self.params, self.theta = params, theta
        self.trainer = gluon.Trainer(
            params, 'adam', {'learning_rate': lr}, update_on_kvstore=False
        )

    def step(self, num_tokens):
        """Clip the global norm and divide by the tokens (device), Adam."""
        from mxnet import np

        self.trainer.allreduce_grads()
        norm = np.sqrt(sum((p.grad() ** 2).sum() for p in self.params))
        scale = np.minimum(self.theta / (norm + 1e-12), 1.0) / num_tokens
        for p in self.params:
            grad = p.grad()
            grad *= scale
        self.trainer.update(1)

    def sum_over_workers(self, values):
        """One process: the values as they are."""
        return values


def gluon_trainer():
    """train_s2s updates with `TrainerAdam` instead of `ClippedAdam`."""
    from seq2seq_attention import training

    training.ClippedAdam = TrainerAdam


def softmax_loss():
    """The loss as -log of the picked softmax probability."""
    from seq2seq_attention import loss

    def hybrid_forward(self, F, pred, label, valid_len):
        loss = -F.np.log(F.npx.pick(F.npx.softmax(pred), label))
        loss = F.npx.sequence_mask(
            loss, valid_len, use_sequence_length=True, axis=1
        )
        return loss.sum(axis=1)

    loss.MaskedSoftmaxCELoss.hybrid_forward = hybrid_forward


def environment_only():
    """Nothing to patch: the variant is its `ENVIRONMENT` entry."""


# the variants that set environment variables before the library loads
ENVIRONMENT = {'system-malloc': {'SEQ2SEQ_ATTENTION_MALLOC': 'system'}}
VARIANTS = {
    'broadcast': broadcast,
    'gluon-trainer': gluon_trainer,
    'softmax-loss': softmax_loss,
    **{name: environment_only for name in ENVIRONMENT},
}


def set_environment(config):
    """Set the variables of `config`'s variants (`NAME+VARIANT+...`): call it
    before the library loads."""
    for variant in config.split('+')[1:]:
        os.environ.update(ENVIRONMENT.get(variant, {}))


def apply_variants(config):
    """Apply `config`'s variants (`NAME+VARIANT+...`) once the library has
    loaded."""
    for variant in config.split('+')[1:]:
        VARIANTS[variant]()
