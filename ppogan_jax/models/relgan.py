"""RelGAN (Nie et al., 2019) as ported by TextGAN-PyTorch and used by PPO-GAN.

docs/reference_code.md §4: a relational-memory (RMC) generator sampled
through the Gumbel-softmax relaxation, its inverse-temperature schedules,
and the multi-representation CNN discriminator (also PPO-GAN's real/fake
classifier C in the text experiments). Token 1 is BOS, token 0 the padding
index.
"""
import functools
import math
from typing import NamedTuple, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from ppogan_jax.models import sequence
from ppogan_jax.models.sequence import BOS, PADDING_IDX
TEMPERATURE_SCHEDULES = ("exp", "lin", "log", "sigmoid", "quad", "sqrt", "no")


def inverse_temperature(step: chex.Numeric, *, maximum: chex.Numeric,
                        schedule: str, horizon: int = 5000) -> chex.Array:
  """Gumbel-softmax inverse temperature β after adversarial epoch i = `step`.

  `helpers.get_fixed_temperature(temper, i, N, adapt)` (docs/reference_code.md
  §4.2) with β_max = `maximum` and N = `horizon`:

    'exp'      β = β_max^(i/N)
    'lin'      β = 1 + i/(N−1)·(β_max − 1)
    'log'      β = 1 + (β_max − 1)/ln N · ln(i + 1)
    'sigmoid'  β = (β_max − 1)/(1 + exp((N/2 − i)·20/N)) + 1
    'quad'     β = (β_max − 1)/(N−1)²·i² + 1
    'sqrt'     β = (β_max − 1)/√(N−1)·√i + 1
    'no'       β = 1

  All start at 1 ('sigmoid' at 1 + (β_max − 1)/(1 + e¹⁰)); 'exp' reaches
  β_max at i = N; 'lin', 'log', 'quad' and 'sqrt' at i = N−1; 'sigmoid' only
  approaches it. The reference hard-codes N = 5000 while running 2000–3000
  epochs, so β never reaches β_max; `horizon` defaults to that 5000. The
  reference sets β after epoch i, so its epoch j samples with
  β(max(j − 1, 0)) (epoch 0 with the initial β = 1); PPOGAN also multiplies
  β by `temp_scale` = 0.2. Both are the caller's choice.

  Args:
    step: the epoch index i; may be traced.
    maximum: β_max (`temperature` in the reference configs); may be traced.
    schedule: one of TEMPERATURE_SCHEDULES (a static Python string).
    horizon: N.

  Returns:
    float32 array shaped like `step`.

  Raises:
    ValueError: for an unknown schedule.
  """
  if schedule not in TEMPERATURE_SCHEDULES:
    raise ValueError(f"unknown temperature schedule {schedule!r}; "
                     f"choose one of {TEMPERATURE_SCHEDULES}")
  i = jnp.asarray(step, jnp.float32)
  beta_max = jnp.asarray(maximum, jnp.float32)
  n = float(horizon)
  if schedule == "exp":
    return beta_max**(i / n)
  if schedule == "lin":
    return 1.0 + i / (n - 1.0) * (beta_max - 1.0)
  if schedule == "log":
    return 1.0 + (beta_max - 1.0) / math.log(n) * jnp.log(i + 1.0)
  if schedule == "sigmoid":
    return (beta_max - 1.0) / (1.0 + jnp.exp((n / 2.0 - i) * 20.0 / n)) + 1.0
  if schedule == "quad":
    return (beta_max - 1.0) / (n - 1.0)**2 * i**2 + 1.0
  if schedule == "sqrt":
    return (beta_max - 1.0) / math.sqrt(n - 1.0) * jnp.sqrt(i) + 1.0
  return jnp.ones_like(i)


def _reference_truncated_normal(std_axis: int) -> nn.initializers.Initializer:
  """N(0, std²) cut at ±2·std, std = 1/√shape[std_axis]
  (`truncated_normal_`).

  As in the reference the cut is not variance-corrected (the resulting std is
  ≈ 0.88·std), unlike `jax.nn.initializers.truncated_normal`.
  """

  def init(key, shape, dtype=jnp.float32):
    std = 1.0 / math.sqrt(shape[std_axis])
    return std * jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)

  return init


# TextGAN `init_params` uses std = 1/√(PyTorch shape[0]). A PyTorch Linear
# weight is [out, in] and a Flax kernel [in, out], so kernels use their last
# axis; biases [out], the embedding [V, E] and the [slots + 1, F] LayerNorm
# scales and offsets use their first.
_kernel_init = _reference_truncated_normal(-1)
_param_init = _reference_truncated_normal(0)


def _dense(features: int, name: str) -> nn.Dense:
  return nn.Dense(features, kernel_init=_kernel_init, bias_init=_param_init,
                  name=name)


def _joint_layer_norm(name: str) -> nn.LayerNorm:
  """PyTorch nn.LayerNorm([slots + 1, F]): over both trailing axes."""
  return nn.LayerNorm(epsilon=1e-5, reduction_axes=(-2, -1),
                      feature_axes=(-2, -1), scale_init=_param_init,
                      bias_init=_param_init, name=name)


def initial_memory(batch_size: int, *, mem_slots: int,
                   mem_size: int) -> chex.Array:
  """RMC initial memory: eye(mem_slots) zero-padded (or cut) to mem_size.

  Returns:
    float32 [batch_size, mem_slots, mem_size]; a constant, not learned.
  """
  memory = jnp.eye(mem_slots, mem_size, dtype=jnp.float32)
  return jnp.broadcast_to(memory[None], (batch_size, mem_slots, mem_size))


class RelationalMemory(nn.Module):
  """One step of TextGAN's relational memory core
  (docs/reference_code.md §4.1).

  With memory M [B, S, D], D = num_heads·head_size, and the projected input
  x = input_projector(input) [B, 1, D]:

    M̃ = [M; x]                                                 [B, S+1, D]
    qkv = LN_qkv(Linear(M̃)); per head q, k, v of size head_size
    A = softmax(q·kᵀ/√head_size)·v, heads concatenated         [B, S+1, D]
    M̃ = LN₁(M̃ + A);   M̃ = LN₂(M̃ + relu(W·relu(W·M̃ + b) + b))
    i, f = split(input_gate(x) + memory_gate(tanh M))
    M' = σ(i + input_bias) ⊙ tanh(M̃[:, :S]) + σ(f + forget_bias) ⊙ M

  W is ONE Linear applied twice (TextGAN's ModuleList of a repeated object).
  LayerNorms normalise jointly over [S+1, F] with parameters of that shape.
  num_blocks = 1 and gate_style 'unit', the only settings RelGAN uses. We
  follow TextGAN where it differs from Sonnet/RelGAN-TF: q scaled by
  head_size^−½ (not qkv_size^−½), biases on every Linear, the
  shared-weight MLP with a trailing ReLU. The attention softmax is computed
  in float32 whatever the memory's dtype.

  Attributes:
    mem_slots: S.
    num_heads: attention heads.
    head_size: key and value size per head.
    attention_mlp_layers: applications of the shared MLP Linear.
    forget_bias: initial value of the trainable scalar forget-gate bias.
    input_bias: initial value of the trainable scalar input-gate bias.
  """
  mem_slots: int = 1
  num_heads: int = 2
  head_size: int = 256
  attention_mlp_layers: int = 2
  forget_bias: float = 1.0
  input_bias: float = 0.0

  @property
  def mem_size(self) -> int:
    return self.num_heads * self.head_size

  def setup(self):
    size = self.mem_size
    self.input_projector = _dense(size, "input_projector")
    self.qkv_projector = _dense(3 * size, "qkv_projector")
    self.qkv_layernorm = _joint_layer_norm("qkv_layernorm")
    self.attention_mlp = _dense(size, "attention_mlp")
    self.attended_memory_layernorm = _joint_layer_norm(
        "attended_memory_layernorm")
    self.attended_memory_layernorm2 = _joint_layer_norm(
        "attended_memory_layernorm2")
    self.input_gate_projector = _dense(2 * size, "input_gate_projector")
    self.memory_gate_projector = _dense(2 * size, "memory_gate_projector")
    self.forget_bias_param = self.param(
        "forget_bias", nn.initializers.constant(self.forget_bias), ())
    self.input_bias_param = self.param(
        "input_bias", nn.initializers.constant(self.input_bias), ())

  def _multihead_attention(self, memory: chex.Array) -> chex.Array:
    batch_size, num_slots, _ = memory.shape
    qkv = self.qkv_layernorm(self.qkv_projector(memory))
    qkv = qkv.reshape(batch_size, num_slots, self.num_heads,
                      3 * self.head_size)
    q, k, v = jnp.split(qkv, 3, axis=-1)
    q = q * self.head_size**-0.5
    scores = jnp.einsum("bnhk,bmhk->bhnm", q, k).astype(jnp.float32)
    weights = jax.nn.softmax(scores, axis=-1).astype(v.dtype)
    attended = jnp.einsum("bhnm,bmhv->bnhv", weights, v)
    return attended.reshape(batch_size, num_slots, self.mem_size)

  def _attend_over_memory(self, memory: chex.Array) -> chex.Array:
    memory = self.attended_memory_layernorm(
        memory + self._multihead_attention(memory))
    mlp = memory
    for _ in range(self.attention_mlp_layers):
      mlp = nn.relu(self.attention_mlp(mlp))
    return self.attended_memory_layernorm2(memory + mlp)

  def __call__(self, inputs: chex.Array,
               memory: chex.Array) -> tuple[chex.Array, chex.Array]:
    """Advances the memory by one input.

    Args:
      inputs: [B, I], the embedded previous token.
      memory: [B, S, D].

    Returns:
      (output [B, S·D], the flattened next memory; next memory [B, S, D]).
    """
    chex.assert_rank([inputs, memory], [2, 3])
    x = self.input_projector(inputs)[:, None, :]
    attended = self._attend_over_memory(jnp.concatenate([memory, x], axis=1))
    candidate = attended[:, :-1]
    gates = (self.input_gate_projector(x)
             + self.memory_gate_projector(jnp.tanh(memory)))
    input_gate, forget_gate = jnp.split(gates, 2, axis=-1)
    input_gate = jax.nn.sigmoid(input_gate + self.input_bias_param)
    forget_gate = jax.nn.sigmoid(forget_gate + self.forget_bias_param)
    next_memory = input_gate * jnp.tanh(candidate) + forget_gate * memory
    return next_memory.reshape(next_memory.shape[0], -1), next_memory


class _RelGANCell(nn.Module):
  """Embedding → RMC → lstm2out: one generator step
  from the previous token."""
  vocab_size: int
  embed_dim: int
  mem_slots: int
  num_heads: int
  head_size: int

  def setup(self):
    self.embedding = self.param("embedding", _param_init,
                                (self.vocab_size, self.embed_dim))
    self.rmc = RelationalMemory(mem_slots=self.mem_slots,
                                num_heads=self.num_heads,
                                head_size=self.head_size)
    self.lstm2out = _dense(self.vocab_size, "lstm2out")

  def core(self, tokens: chex.Array,
           memory: chex.Array) -> tuple[chex.Array, chex.Array]:
    """Embedding → RMC: (previous tokens [B], memory) → (output [B, S·D],
    next memory), without the output projection."""
    embedded = self.embedding[tokens]
    is_padding = (tokens == PADDING_IDX)[:, None]
    embedded = jnp.where(is_padding, jax.lax.stop_gradient(embedded), embedded)
    return self.rmc(embedded, memory)

  def __call__(self, tokens: chex.Array,
               memory: chex.Array) -> tuple[chex.Array, chex.Array]:
    output, memory = self.core(tokens, memory)
    return self.lstm2out(output), memory


def _gumbel_softmax_step(cell: _RelGANCell, carry, noise: chex.Array,
                         beta: chex.Array):
  memory, tokens = carry
  logits, memory = cell(tokens, memory)
  perturbed = logits.astype(jnp.float32) + noise
  next_tokens = jnp.argmax(perturbed, axis=-1).astype(jnp.int32)
  next_tokens = jax.lax.stop_gradient(next_tokens)
  soft_one_hot = jax.nn.softmax(beta * perturbed, axis=-1)
  return (memory, next_tokens), (soft_one_hot, next_tokens)


def _teacher_forced_step(cell: _RelGANCell, memory: chex.Array,
                         tokens: chex.Array):
  output, memory = cell.core(tokens, memory)
  return memory, output


class GeneratorOutput(NamedTuple):
  """A Gumbel-softmax rollout.

  Attributes:
    soft_one_hot: float32 [B, L, V], softmax(β·(o_t + g_t)): the critic's
      input, differentiable.
    tokens: int32 [B, L], argmax(o_t + g_t): exact samples of the generator,
      without gradient.
  """
  soft_one_hot: chex.Array
  tokens: chex.Array


class RelGANGenerator(nn.Module):
  """RelGAN generator G (docs/reference_code.md §4.1–4.2,
  TextGAN `RelGAN_G`).

  At step t, with o_t = lstm2out(RMC(embed(x_{t−1}))) and x_0 = BOS = 1:

    ĝ_t = o_t + g_t,   g_t ~ Gumbel(0, 1)
    x_t = argmax ĝ_t          (stop-gradient; fed back as the next input)
    y_t = softmax(β·ĝ_t)      (soft one-hot, the critic's input)

  G is a deterministic function of the noise g [B, L, V], which the caller
  draws with `jax.random.gumbel(key, (B, L, V))` (the reference uses
  −log(−log(u + 1e-10) + 1e-10)); the train step can treat it like an image
  generator's latent z. `__call__` returns y and x as a `GeneratorOutput`.
  Gradients reach the parameters only through y and the memory chain, as in
  the reference. The time loop is an `nn.scan` over one cell whose parameters
  are broadcast.

  Init (gen_init 'truncated_normal'): every tensor ~ N(0, std²) cut at ±2·std
  with std = 1/√(PyTorch shape[0]): 1/√out_features for Linear weights and
  biases, 1/√V for the embedding, 1/√(mem_slots + 1) for the [slots + 1, F]
  LayerNorm scales and offsets; the scalar forget and input biases start at
  1.0 and 0.0. As with nn.Embedding(padding_idx=0), the embedding row of
  token 0 gets no gradient (it keeps its random init).

  Attributes:
    vocab_size: V.
    max_length: L (max_seq_len).
    embed_dim: gen_embed_dim (32).
    mem_slots: RMC memory slots (1).
    num_heads: RMC heads (2).
    head_size: RMC head size (256, so the memory is 512 wide).
  """
  vocab_size: int
  max_length: int
  embed_dim: int = 32
  mem_slots: int = 1
  num_heads: int = 2
  head_size: int = 256

  def setup(self):
    self.cell = _RelGANCell(vocab_size=self.vocab_size,
                            embed_dim=self.embed_dim,
                            mem_slots=self.mem_slots,
                            num_heads=self.num_heads,
                            head_size=self.head_size)

  def initial_memory(self, batch_size: int) -> chex.Array:
    """The constant initial memory,
    [batch_size, mem_slots, heads·head_size]."""
    return initial_memory(batch_size, mem_slots=self.mem_slots,
                          mem_size=self.num_heads * self.head_size)

  def step(self, tokens: chex.Array,
           memory: chex.Array) -> tuple[chex.Array, chex.Array]:
    """One step: (previous tokens int [B], memory) →
    (logits [B, V], memory)."""
    chex.assert_rank(tokens, 1)
    return self.cell(tokens, memory)

  def __call__(self, gumbel_noise: chex.Array, *,
               inverse_temperature: chex.Numeric,
               train: bool = True) -> GeneratorOutput:
    """Gumbel-softmax rollout of max_length steps from BOS.

    Args:
      gumbel_noise: float [B, max_length, V], i.i.d. Gumbel(0, 1). Its
        dtype is the RMC memory's (bfloat16 under mixed precision); the
        perturbed logits o_t + g_t and their softmax are float32.
      inverse_temperature: scalar β, may be traced (see
        `inverse_temperature`).
      train: unused (no dropout or batch-norm); part of the interface shared
        with the image generators.

    Returns:
      GeneratorOutput(soft_one_hot float32 [B, L, V], tokens int32 [B, L]).
    """
    chex.assert_shape(gumbel_noise, (None, self.max_length, self.vocab_size))
    batch_size = gumbel_noise.shape[0]
    beta = jnp.asarray(inverse_temperature, jnp.float32)
    chex.assert_rank(beta, 0)
    rollout = nn.scan(_gumbel_softmax_step, variable_broadcast="params",
                      split_rngs={"params": False},
                      in_axes=(1, nn.broadcast), out_axes=1)
    carry = (self.initial_memory(batch_size).astype(gumbel_noise.dtype),
             jnp.full((batch_size,), BOS, jnp.int32))
    _, (soft_one_hot, tokens) = rollout(
        self.cell, carry, gumbel_noise.astype(jnp.float32), beta)
    return GeneratorOutput(soft_one_hot=soft_one_hot, tokens=tokens)

  def teacher_forced_logits(self, tokens: chex.Array) -> chex.Array:
    """Logits of p(x_t | x_<t) from the input [BOS, x_1 .. x_{L−1}].

    Used for MLE pre-training and NLL_gen. The scan carries only the RMC;
    lstm2out is applied once to all L outputs (one [B·L, D]×[D, V] matmul
    instead of L small ones inside the loop; same result).

    Args:
      tokens: int [B, L], the targets x_1 .. x_L.

    Returns:
      float32 [B, L, V].
    """
    batch_size = tokens.shape[0]
    inputs = sequence.teacher_forcing_inputs(tokens)
    unroll = nn.scan(_teacher_forced_step, variable_broadcast="params",
                     split_rngs={"params": False}, in_axes=1, out_axes=1)
    _, outputs = unroll(self.cell, self.initial_memory(batch_size), inputs)
    return self.cell.lstm2out(outputs)


def _uniform(scale: float) -> nn.initializers.Initializer:
  """U(−scale, scale) (TextGAN dis_init 'uniform')."""

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -scale, scale)

  return init


def _window_scores(x: chex.Array, kernel: chex.Array,
                   start: chex.Array) -> chex.Array:
  """Σ_{k,j} x[b, r, start[b, r, n] + k, j]·kernel[k, j, n], as a chain of
  selects over the possible starts that XLA fuses into one loop.

  Args: x [B, R, T, d]; kernel [F, d, N]; start int32 [B, R, N] ≤ T − F.
  Returns: [B, R, N].
  """
  width, dim, _ = kernel.shape
  chosen = jnp.zeros(start.shape, x.dtype)
  for t in range(x.shape[2] - width + 1):
    score = sum(x[:, :, t + k, j, None] * kernel[k, j][None, None]
                for k in range(width) for j in range(dim))
    chosen = jnp.where(start == t, score, chosen)
  return chosen


def _window_kernel_grad(x: chex.Array, start: chex.Array, g: chex.Array,
                        width: int) -> chex.Array:
  """Σ_{b,r} g[b, r, n]·x[b, r, start[b, r, n] + k, j], [F, d, N]: the
  gradient of `_window_scores` with respect to the kernel."""
  dim = x.shape[-1]

  def window_input(k, j):
    chosen = jnp.zeros(start.shape, x.dtype)
    for t in range(x.shape[2] - width + 1):
      chosen = jnp.where(start == t, x[:, :, t + k, j, None], chosen)
    return chosen

  return jnp.stack([
      jnp.stack([jnp.sum(g * window_input(k, j), axis=(0, 1))
                 for j in range(dim)]) for k in range(width)])


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _scatter_window_grads(g: chex.Array, kernel: chex.Array,
                          start: chex.Array, length: int) -> chex.Array:
  """Σ_n g[b, r, n]·kernel[k, j, n] added at [b, r, start[b, r, n] + k, j]:
  the gradient of `_window_scores` with respect to x, as one scatter-add
  with (b, r) folded into the index (faster on XLA:CPU than scatter batch
  dimensions).

  Its own gradient (needed by the gradient penalty, which differentiates
  the critic twice) is `_window_scores` and `_window_kernel_grad` of the
  cotangent, instead of the gather + small-axis reductions autodiff would
  produce.

  Args: g [B, R, N]; kernel [F, d, N]; start int32 [B, R, N] ≤ length − F;
    length T (static).
  Returns: [B, R, T, d].
  """
  batch, reps, n = g.shape
  width, dim, _ = kernel.shape
  updates = g[..., None, None] * jnp.transpose(kernel, (2, 0, 1))[None, None]
  rows = jnp.arange(batch * reps, dtype=jnp.int32).reshape(batch, reps, 1)
  flat_start = (rows * length + start).reshape(-1, 1)
  numbers = jax.lax.ScatterDimensionNumbers(
      update_window_dims=(1, 2), inserted_window_dims=(),
      scatter_dims_to_operand_dims=(0,))
  out = jax.lax.scatter_add(
      jnp.zeros((batch * reps * length, dim), g.dtype), flat_start,
      updates.reshape(batch * reps * n, width, dim), numbers,
      mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS)
  return out.reshape(batch, reps, length, dim)


def _scatter_window_grads_fwd(g, kernel, start, length):
  return _scatter_window_grads(g, kernel, start, length), (g, kernel, start)


def _scatter_window_grads_bwd(length, residuals, cotangent):
  del length
  g, kernel, start = residuals
  return (_window_scores(cotangent, kernel, start),
          _window_kernel_grad(cotangent, start, g, kernel.shape[0]), None)


_scatter_window_grads.defvjp(_scatter_window_grads_fwd,
                             _scatter_window_grads_bwd)


def _running_max(x: chex.Array, kernel: chex.Array, last_start: chex.Array,
                 length: int) -> tuple[chex.Array, chex.Array]:
  """max over t ≤ last_start[n] of Σ_{k,d} x[b, r, t + k, d]·kernel[k, d, n]
  and the winning t, [B, R, N] each.

  A running max over the window starts, unrolled: XLA fuses it into one loop
  over [B, R, N] that carries the best score and its start (ties go to the
  first window, as in PyTorch's max-pool), and never materialises the
  [B, R, N, T] scores.
  """
  width, dim, _ = kernel.shape
  best = start = None
  for t in range(length - width + 1):
    score = sum(x[:, :, t + k, j, None] * kernel[k, j][None, None]
                for k in range(width) for j in range(dim))
    if best is None:
      best, start = score, jnp.zeros(score.shape, jnp.int32)
      continue
    better = (score > best) & (t <= last_start)[None, None]
    best = jnp.where(better, score, best)
    start = jnp.where(better, t, start)
  return best, start


def _max_window_product_bwd(length, residuals, g):
  """Only the B·R·N winning windows receive gradient."""
  x, kernel, start = residuals
  return (_scatter_window_grads(g, kernel, start, length),
          _window_kernel_grad(x, start, g, kernel.shape[0]), None)


def _max_window_value(x: chex.Array, kernel: chex.Array,
                      last_start: chex.Array, length: int) -> chex.Array:
  """max over t ≤ last_start[n] of
  Σ_{k,d} x[b, r, t + k, d]·kernel[k, d, n] (`_running_max`).

  The primal of `_max_window_product` and `_max_window_product_winning`,
  whose custom gradients reach only the winning windows.

  Args:
    x: [B, R, T, d], zero-padded so that every window t + k < T.
    kernel: [F, d, N].
    last_start: int32 [N], the last valid window start of each filter.
    length: T (static).

  Returns:
    [B, R, N].
  """
  return _running_max(x, kernel, last_start, length)[0]


# Under a second differentiation (the gradient penalty's), autodiff
# differentiates this forward rule: the running max's tangent is a chain of
# selects over the stored comparisons of every window start.
_max_window_product = jax.custom_vjp(_max_window_value, nondiff_argnums=(3,))


def _max_window_product_fwd(x, kernel, last_start, length):
  best, start = _running_max(x, kernel, last_start, length)
  return best, (x, kernel, start)


_max_window_product.defvjp(_max_window_product_fwd, _max_window_product_bwd)

# The same max whose second derivative is also the winning windows' custom
# gradient: its forward rule returns the function itself, so when the
# gradient penalty differentiates the critic's gradient, the max's derivative
# is again `_max_window_product_bwd` (a scatter-add and a select chain on the
# stored starts; the start, an argmax, has derivative 0). The values and
# first derivatives are those of `_max_window_product`, bit for bit; the
# second derivative is the same arithmetic summed in another order, so it
# agrees to rounding (tests/test_relgan.py). The forward rule's two running
# maxes are the same expression of the same operands, which XLA computes once.
_max_window_product_winning = jax.custom_vjp(_max_window_value,
                                             nondiff_argnums=(3,))


def _max_window_product_winning_fwd(x, kernel, last_start, length):
  start = _running_max(x, kernel, last_start, length)[1]
  return (_max_window_product_winning(x, kernel, last_start, length),
          (x, kernel, start))


_max_window_product_winning.defvjp(_max_window_product_winning_fwd,
                                   _max_window_product_bwd)

MAX_POOL_SECOND_ORDER = {"autodiff": _max_window_product,
                         "winning_window": _max_window_product_winning}


def _conv_max_over_time(embedded: chex.Array, kernels: Sequence[chex.Array],
                        *, second_order: str = "autodiff") -> chex.Array:
  """max_t Σ_{k<f} embedded[:, t+k, r]·kernel[k] for every representation r,
  every kernel (of any height f) and every filter.

  The Conv2d layers with (f, d) kernels and stride d over the [L, R·d]
  embedding, max-pooled over time, without their biases. The kernels are
  zero-padded to the largest height F and evaluated together by
  `_max_window_product`, whose custom gradient touches only the winning
  windows; as in PyTorch's max-pool a tie sends the whole gradient to one
  window (jnp.max would split it). Its gradients equal those of the plain
  max-pool, to second order (the gradient penalty differentiates twice). On
  XLA:CPU at the RelGAN setting (B = 64, L = 20, R = 64, 4 × 300 filters) it
  is several times faster than shifted products + max or a gather of the
  winning windows (benchmarks/NOTES.md).

  Args:
    embedded: [B, L, R, d], d = embed_dim / R.
    kernels: [f, d, n_f] per filter height f (f ≤ L).
    second_order: how a second differentiation treats the max, a key of
      MAX_POOL_SECOND_ORDER: 'autodiff' differentiates the running max,
      'winning_window' reuses the winning windows' custom gradient (faster
      under the gradient penalty; equal to rounding).

  Returns:
    [B, R, Σ n_f], the kernels' filters in order.
  """
  length = embedded.shape[1]
  width = max(k.shape[0] for k in kernels)
  kernel = jnp.concatenate(
      [jnp.pad(k, ((0, width - k.shape[0]), (0, 0), (0, 0))) for k in kernels],
      axis=-1)
  last_start = jnp.concatenate(
      [jnp.full((k.shape[-1],), length - k.shape[0], jnp.int32)
       for k in kernels])
  x = jnp.pad(jnp.transpose(embedded, (0, 2, 1, 3)),
              ((0, 0), (0, 0), (0, width - 1), (0, 0)))
  return MAX_POOL_SECOND_ORDER[second_order](x, kernel, last_start,
                                             x.shape[2])


class RelGANDiscriminator(nn.Module):
  """The multi-representation CNN discriminator (docs/reference_code.md §4.3).

  TextGAN `RelGAN_D`, with d = embed_dim / R (1 in RelGAN):

    e = x·W_emb                       [B, L, R·d], no bias
    c_f[b, t, r] = Σ_{k<f} e[b, t+k, r·d:(r+1)·d]·K_f[k]   per filter size f
    h = concat_f relu(max_t c_f + b_f)                    [B, R, n·#sizes]
    s = Linear(h);
    h = σ(s)·relu(s) + (1 − σ(s))·h    (single-matrix highway)
    logits = Linear_1(Linear_100(dropout(h)))             [B, R]

  relu(max_t c + b) equals the reference's max-pool of relu(c + b) (both
  monotone) and is cheaper. `_conv_max_over_time` evaluates the four
  filter heights together and back-propagates through the winning windows
  only. Token ids use an embedding gather, identical to one_hot(x)·W_emb.
  The reference returns [B·R] logits; we keep [B, R]. All parameters are
  U(−0.05, 0.05).

  Attributes:
    vocab_size: V.
    embed_dim: dis_embed_dim (64).
    num_representations: R (num_rep = 64); must divide embed_dim.
    filter_sizes: convolution heights (2, 3, 4, 5).
    num_filters: n, filters per height (300).
    dropout_rate: 0.25; active when train=True, rng stream 'dropout'.
    max_pool_second_order: 'autodiff' or 'winning_window' (see
      `_conv_max_over_time`).
  """
  vocab_size: int
  embed_dim: int = 64
  num_representations: int = 64
  filter_sizes: Sequence[int] = (2, 3, 4, 5)
  num_filters: int = 300
  dropout_rate: float = 0.25
  max_pool_second_order: str = "autodiff"

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = True) -> chex.Array:
    """Scores token ids int [B, L] or (soft) one-hots float [B, L, V].

    Returns:
      logits [B, num_representations].
    """
    if self.embed_dim % self.num_representations:
      raise ValueError(f"num_representations={self.num_representations} must "
                       f"divide embed_dim={self.embed_dim}")
    init = _uniform(0.05)
    embedding = self.param("embedding", init,
                           (self.vocab_size, self.embed_dim))
    if jnp.issubdtype(x.dtype, jnp.integer):
      chex.assert_rank(x, 2)
      embedded = embedding[x]
    else:
      chex.assert_shape(x, (None, None, self.vocab_size))
      embedded = jnp.einsum("blv,ve->ble", x.astype(embedding.dtype),
                            embedding)
    batch_size, length, _ = embedded.shape
    if length < max(self.filter_sizes):
      raise ValueError(f"length {length} is shorter than the filter sizes "
                       f"{self.filter_sizes}")
    rep_dim = self.embed_dim // self.num_representations
    embedded = embedded.reshape(batch_size, length, self.num_representations,
                                rep_dim)

    kernels, biases = [], []
    for f in self.filter_sizes:
      kernels.append(self.param(f"conv{f}_kernel", init,
                                (f, rep_dim, self.num_filters)))
      biases.append(self.param(f"conv{f}_bias", init, (self.num_filters,)))
    pooled = _conv_max_over_time(embedded, kernels,
                                 second_order=self.max_pool_second_order)
    h = nn.relu(pooled + jnp.concatenate(biases)[None, None])

    s = nn.Dense(h.shape[-1], kernel_init=init, bias_init=init,
                 name="highway")(h)
    gate = jax.nn.sigmoid(s)
    h = gate * nn.relu(s) + (1.0 - gate) * h
    h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    h = nn.Dense(100, kernel_init=init, bias_init=init, name="feature2out")(h)
    logits = nn.Dense(1, kernel_init=init, bias_init=init,
                      name="out2logits")(h)
    return logits[..., 0]
