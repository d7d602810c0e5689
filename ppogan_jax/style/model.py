"""Flax modules of the style-transfer model (docs/reference_code.md §8, §1.3).

The generator is Tikhonov et al.'s (2019) "zclassifiershiftedae" model on
Hu et al.'s texar ctrl-gen code: a GRU encoder whose final state splits into
a style part (the first `style_dim` units, discarded) and a content code z;
a label connector c = Dense(label); the decoder's initial state
Dense([c, z]); a GRU decoder with Bahdanau attention over the encoder
outputs whose cell input ignores the attention context. Three unrolls share
the decoder: teacher-forced (reconstruction), Gumbel-softmax with
temperature γ (soft one-hot samples, fed back through the embedding) and
greedy (evaluation).

Differences from the TF reference: Flax's GRUCell places the reset gate as
in Cho et al. (2014) like TF's, but its parameterisation (separate input and
hidden kernels) differs; decodes always run their full length (a sequence's
length is where its argmax first hits EOS, inclusive), as texar's helpers
emit outputs after the end too.
"""
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
from flax import linen as nn

from ppogan_jax.style.data import BOS, EOS

Array = jax.Array


def soft_or_hard_embed(table: Array, tokens: Array) -> Array:
  """Embeds ids [B, T] by lookup or soft one-hots [B, T, V] by `soft @ E`.

  Returns:
    [B, T, E].
  """
  if jnp.issubdtype(tokens.dtype, jnp.integer):
    return jnp.take(table, tokens, axis=0)
  return jnp.einsum("btv,ve->bte", tokens, table)


def length_mask(lengths: Array, width: int) -> Array:
  """mask[b, t] = t < lengths[b]; bool [B, width]."""
  return jnp.arange(width)[None, :] < lengths[:, None]


def decoded_lengths(ids: Array) -> Array:
  """Steps up to and including the first EOS (the full width if none); [B]."""
  is_eos = ids == EOS
  first = jnp.argmax(is_eos, axis=1)
  return jnp.where(jnp.any(is_eos, axis=1), first + 1,
                   ids.shape[1]).astype(jnp.int32)


class ConvClassifier(nn.Module):
  """texar Conv1DClassifier over word embeddings (docs/reference_code.md §8.2).

  Embedding → for each kernel size a 'same'-padded Conv1D with ReLU and
  global max-pooling over time, concatenated → dropout → `num_dense` ReLU
  dense layers → Dense(num_outputs). Positions at or past a sequence's
  length are zeroed before the convolutions.

  The critic uses kernels (3, 4, 5) × 128 filters, no dense layer, 2 outputs
  (style logit, critic logit); the evaluation classifiers 256 filters, one
  dense layer, 1 output.
  """
  vocab_size: int
  embed_dim: int
  num_filters: int
  num_outputs: int
  kernel_sizes: Sequence[int] = (3, 4, 5)
  num_dense: int = 0
  dense_size: int = 128
  dropout_rate: float = 0.5

  def setup(self):
    self.embedding = nn.Embed(self.vocab_size, self.embed_dim)
    self.convs = [nn.Conv(self.num_filters, (k,), padding="SAME")
                  for k in self.kernel_sizes]
    self.dense = [nn.Dense(self.dense_size) for _ in range(self.num_dense)]
    self.output = nn.Dense(self.num_outputs)
    self.dropout = nn.Dropout(self.dropout_rate)

  def embed(self, tokens: Array) -> Array:
    """Ids [B, T] or soft one-hots [B, T, V] → embeddings [B, T, E]."""
    return soft_or_hard_embed(self.embedding.embedding, tokens)

  def score(self, embedded: Array, lengths: Array, *, train: bool) -> Array:
    """Logits [B, num_outputs] of embedded sequences [B, T, E]."""
    mask = length_mask(lengths, embedded.shape[1])
    x = jnp.where(mask[..., None], embedded, 0.0)
    pooled = [jnp.max(nn.relu(conv(x)), axis=1) for conv in self.convs]
    h = self.dropout(jnp.concatenate(pooled, axis=-1), deterministic=not train)
    for layer in self.dense:
      h = nn.relu(layer(h))
    return self.output(h)

  def __call__(self, tokens: Array, *, lengths: Array, train: bool) -> Array:
    return self.score(self.embed(tokens), lengths, train=train)


class LatentClassifier(nn.Module):
  """The z-classifier: z → 256 (sigmoid) → 64 (sigmoid) → 1 logit
  (§8.1)."""
  hidden_sizes: Sequence[int] = (256, 64)

  @nn.compact
  def __call__(self, z: Array, *, train: bool = False) -> Array:
    """Style logits [B] of content codes z [B, D]."""
    del train
    h = z
    for size in self.hidden_sizes:
      h = nn.sigmoid(nn.Dense(size)(h))
    return nn.Dense(1)(h)[:, 0]


class AttentionDecoderCell(nn.Module):
  """One step of the GRU decoder with Bahdanau attention (§8.1).

  The cell input is the (dropped-out) word embedding only; the attention
  query is the new GRU state; the output is Dense([state, context]) with no
  bias (TF's attention layer, `output_attention=True`), dropped out and
  projected to the vocabulary.
  """
  hidden_size: int
  attention_size: int
  vocab_size: int
  dropout_rate: float = 0.5

  @nn.compact
  def __call__(self, state: Array, inputs: Array, memory: Array, keys: Array,
               mask: Array, *, train: bool) -> tuple[Array, Array]:
    """(state [B, H], inputs [B, E]) → (new state [B, H], logits [B, V]).

    Args:
      memory: encoder outputs [B, S, H]; keys: their projection [B, S, A];
        mask: valid memory positions, bool [B, S].
    """
    x = nn.Dropout(self.dropout_rate)(inputs, deterministic=not train)
    state, _ = nn.GRUCell(self.hidden_size, name="gru")(state, x)
    query = nn.Dense(self.attention_size, use_bias=False, name="query")(state)
    v = self.param("attention_v", nn.initializers.lecun_normal(),
                   (self.attention_size, 1))
    scores = (jnp.tanh(keys + query[:, None, :]) @ v)[..., 0]
    scores = jnp.where(mask, scores, jnp.finfo(scores.dtype).min)
    context = jnp.einsum("bs,bsh->bh", jax.nn.softmax(scores, axis=-1), memory)
    attention = nn.Dense(self.attention_size, use_bias=False,
                         name="attention_layer")(
                             jnp.concatenate([state, context], axis=-1))
    attention = nn.Dropout(self.dropout_rate)(attention,
                                              deterministic=not train)
    return state, nn.Dense(self.vocab_size, name="output")(attention)


class Encoding(NamedTuple):
  outputs: Array  # [B, S, H], the attention memory.
  mask: Array  # bool [B, S].
  content: Array  # z, [B, H − style_dim].


class TrainOutputs(NamedTuple):
  content: Array  # z of the source, [B, Dz].
  ae_logits: Array  # teacher-forced logits, [B, T, V].
  transferred: Array  # Gumbel soft one-hots from h_ = [c_, z], [B, T', V].
  transferred_lengths: Array  # [B].
  reconstructed: Array  # Gumbel soft one-hots from h = [c, z], [B, T', V].
  reconstructed_lengths: Array  # [B].
  transferred_content: Array  # z re-encoded from `transferred`, [B, Dz].
  reconstructed_content: Array  # z re-encoded from `reconstructed`, [B, Dz].


class StyleTransferGenerator(nn.Module):
  """Encoder, connectors and attention decoder of §8.1 (sizes in the config).

  Inputs are data rows ids [B, W] = [BOS, words, EOS, PAD ..] with lengths
  (BOS and EOS counted) and binary labels [B].
  """
  vocab_size: int
  embed_dim: int = 100
  hidden_size: int = 700
  style_dim: int = 200
  attention_size: int = 700
  dropout_rate: float = 0.5
  train_length: int = 21
  infer_length: int = 20

  def setup(self):
    self.embedding = nn.Embed(self.vocab_size, self.embed_dim)
    self.encoder = nn.RNN(nn.GRUCell(self.hidden_size), return_carry=True)
    self.encoder_dropout = nn.Dropout(self.dropout_rate)
    self.label_connector = nn.Dense(self.style_dim)
    self.connector = nn.Dense(self.hidden_size)
    self.memory_layer = nn.Dense(self.attention_size, use_bias=False)
    self.cell = AttentionDecoderCell(self.hidden_size, self.attention_size,
                                     self.vocab_size, self.dropout_rate)

  def encode(self, tokens: Array, lengths: Array, *, train: bool) -> Encoding:
    """GRU encoding of ids [B, S] or soft one-hots [B, S, V] of `lengths`."""
    x = soft_or_hard_embed(self.embedding.embedding, tokens)
    x = self.encoder_dropout(x, deterministic=not train)
    final, outputs = self.encoder(x, seq_lengths=lengths)
    return Encoding(outputs, length_mask(lengths, x.shape[1]),
                    final[:, self.style_dim:])

  def initial_state(self, content: Array, labels: Array) -> Array:
    """Decoder state Dense([c, z]) with c = Dense(label); [B, H]."""
    c = self.label_connector(labels[:, None].astype(content.dtype))
    return self.connector(jnp.concatenate([c, content], axis=-1))

  def _unroll(self, step: Callable, carry, xs, enc: Encoding, length: int):
    """Scans `step(cell, carry, x, memory, keys, mask)` over `length` steps."""
    keys = self.memory_layer(enc.outputs)
    scan = nn.scan(step, variable_broadcast="params",
                   split_rngs={"params": False, "dropout": True,
                               "gumbel": True},
                   in_axes=(0, nn.broadcast, nn.broadcast, nn.broadcast),
                   length=length)
    return scan(self.cell, carry, xs, enc.outputs, keys, enc.mask)

  def teacher_forced(self, enc: Encoding, state: Array, inputs: Array, *,
                     train: bool) -> Array:
    """Logits [B, T, V] of the decoder fed ids `inputs` [B, T]."""
    embedded = jnp.swapaxes(self.embedding(inputs), 0, 1)

    def step(cell, h, x, memory, keys, mask):
      return cell(h, x, memory, keys, mask, train=train)

    _, logits = self._unroll(step, state, embedded, enc, inputs.shape[1])
    return jnp.swapaxes(logits, 0, 1)

  def _start(self, state: Array):
    table = self.embedding.embedding
    return state, jnp.broadcast_to(table[BOS], (state.shape[0], table.shape[1]))

  def gumbel_decode(self, enc: Encoding, state: Array, gamma: Array, *,
                    train: bool) -> tuple[Array, Array]:
    """Gumbel-softmax samples y_t = softmax((logits_t + g_t)/γ), fed back as
    y_t @ E (texar GumbelSoftmaxEmbeddingHelper, not straight-through).

    Returns:
      (soft one-hots [B, train_length, V], lengths [B]).
    """
    table = self.embedding.embedding

    def step(cell, carry, _, memory, keys, mask):
      h, x = carry
      h, logits = cell(h, x, memory, keys, mask, train=train)
      logits = logits.astype(jnp.float32)
      noise = jax.random.gumbel(cell.make_rng("gumbel"), logits.shape,
                                jnp.float32)
      y = jax.nn.softmax((logits + noise) / gamma, axis=-1)
      return (h, y @ table), y

    _, soft = self._unroll(step, self._start(state),
                           jnp.arange(self.train_length), enc,
                           self.train_length)
    soft = jnp.swapaxes(soft, 0, 1)
    return soft, decoded_lengths(jnp.argmax(soft, axis=-1))

  def greedy_decode(self, enc: Encoding, state: Array) -> tuple[Array, Array]:
    """Argmax decoding without dropout; (ids [B, infer_length], lengths)."""
    table = self.embedding.embedding

    def step(cell, carry, _, memory, keys, mask):
      h, x = carry
      h, logits = cell(h, x, memory, keys, mask, train=False)
      ids = jnp.argmax(logits, axis=-1)
      return (h, jnp.take(table, ids, axis=0)), ids

    _, ids = self._unroll(step, self._start(state),
                          jnp.arange(self.infer_length), enc,
                          self.infer_length)
    ids = jnp.swapaxes(ids, 0, 1).astype(jnp.int32)
    return ids, decoded_lengths(ids)

  def autoencode(self, ids: Array, lengths: Array, labels: Array, *,
                 train: bool) -> Array:
    """Teacher-forced reconstruction logits [B, W − 1, V] of data rows (uses
    every parameter: the cheap path for `init`)."""
    enc = self.encode(ids[:, 1:], lengths - 1, train=train)
    return self.teacher_forced(enc, self.initial_state(enc.content, labels),
                               ids[:, :-1], train=train)

  def content_code(self, ids: Array, lengths: Array, *, train: bool) -> Array:
    """z of data rows; [B, Dz]."""
    return self.encode(ids[:, 1:], lengths - 1, train=train).content

  def transfer_sample(self, ids: Array, lengths: Array, labels: Array,
                      gamma: Array, *, train: bool) -> tuple[Array, Array]:
    """Gumbel-softmax decode from h_ = [c(1 − label), z]: the fakes."""
    enc = self.encode(ids[:, 1:], lengths - 1, train=train)
    return self.gumbel_decode(enc, self.initial_state(enc.content, 1 - labels),
                              gamma, train=train)

  def transfer_greedy(self, ids: Array, lengths: Array,
                      labels: Array) -> tuple[Array, Array]:
    """Greedy decode from h_ = [c(1 − label), z] in eval mode."""
    enc = self.encode(ids[:, 1:], lengths - 1, train=False)
    return self.greedy_decode(enc, self.initial_state(enc.content, 1 - labels))

  def __call__(self, ids: Array, *, lengths: Array, labels: Array,
               gamma: Array, train: bool) -> TrainOutputs:
    """Everything the generator loss needs (§8.1, decodes and losses)."""
    enc = self.encode(ids[:, 1:], lengths - 1, train=train)
    state = self.initial_state(enc.content, labels)
    state_ = self.initial_state(enc.content, 1 - labels)
    ae_logits = self.teacher_forced(enc, state, ids[:, :-1], train=train)
    soft_, len_ = self.gumbel_decode(enc, state_, gamma, train=train)
    soft, len_r = self.gumbel_decode(enc, state, gamma, train=train)
    return TrainOutputs(
        content=enc.content, ae_logits=ae_logits,
        transferred=soft_, transferred_lengths=len_,
        reconstructed=soft, reconstructed_lengths=len_r,
        transferred_content=self.encode(soft_, len_, train=train).content,
        reconstructed_content=self.encode(soft, len_r, train=train).content)
