"""Times the public PyTorch PPO-GAN CIFAR-10 code (Holmeswww/PPOGAN, cifar10/) on CPU.

Setup (once; GIT_DIR is what the `fetch` tool returns for github:Holmeswww/PPOGAN, e.g.
/work/.mirror/Holmeswww+PPOGAN/repo; the reference commit measured is 09331da):

  /work/shared/tools/ref_bench/setup.sh GIT_DIR     # ~/.cache/ppogan-ref/{venv,src}: CPU torch, text tree
  git --git-dir=GIT_DIR archive HEAD cifar10 | tar -x -C ~/.cache/ppogan-ref/src   # setup.sh extracts only
                                                    # the text folder (and wipes src/ when rerun)
Run (nothing else on the machine; one full iteration at B=32 takes minutes on 2 cores):

  ~/.cache/ppogan-ref/venv/bin/python benchmarks/ref_cifar_bench.py \
      --ref=~/.cache/ppogan-ref/src/cifar10 [--workloads=iteration,critic,ppo] [--repeats=3]

Options: --batch_size (32, conf.yml's BS), --repeats (3), --warmup (1), --threads (2; torch.set_num_threads),
--workloads (comma list of iteration, critic, ppo; default iteration), --seed (default: conf.yml's SEED 430156;
seeds the reference's random.seed/torch.manual_seed and the random data).
Protocol (as benchmarks/harness.py and ref_text_bench.py): --warmup untimed calls, then median/min/max over
--repeats calls. Each workload starts from a freshly built reference state (models and optimisers). One JSON line
per workload on stdout, with the keys of ref_text_bench.py ("workload", "median_ms", "min_ms", "max_ms",
"repeats", "torch", "threads", "peak_rss_gib") plus "cpu", "batch_size", "n_critic", "n_gen", "ref_code"
(the main.py lines that the timed call runs); progress goes to stderr.

Workloads (conf.yml: G width G_SIZE 256, critic and classifier width int(256 * D_SCALE 1.3) = 332, nz 128,
Diters 5, PPO_iters 5, LAMBDA (GP) 5, LAMBDA2 (CT) 2, Factor_M 0, clip_param 0.4, max_grad_norm 0.5,
LR 1e-4 for the critic and LR / PPO_iters = 2e-5 for G and the classifier, Adam betas (0, 0.9)):
  cifar_critic_step_B<B>  one pass of the body of main.py's `while j < CONF['Diters'] ...` loop: a real batch,
                          netD twice on it (critic dropout 0.2/0.5/0.5 each time) with the re-weighted WGAN loss
                          and the CT consistency term, a fresh fake batch from netG, softmax re-weighting
                          W = B * softmax(D(fake)), calc_gradient_penalty (LAMBDA 5), optimizerD.step().
  cifar_ppo_step_B<B>     one pass of the body of the `while j < CONF['PPO_iters'] ...` loop: one BCE step of
                          the classifier D (Discriminator_D, BatchNorm) on a real and a fresh fake batch, grad-norm
                          clip 0.5, optimizerD_D.step(); then the generator's clipped-ratio step (ratio from D and
                          the frozen P0, advantage netD(fake)), optimizerG.step(). P0 (the `with torch.no_grad()`
                          block before that loop) and the fake batch it needs are computed once, untimed.
  cifar_iteration_B<B>    one pass of the body of `while i < len(dataloader)`: 5 critic steps, P0, 5 PPO steps,
                          the (stubbed) tensorboard scalars, the every-1000-iterations FID/IS branch (not taken),
                          G_progress += 1 and the three LambdaLR scheduler steps. Also reports the critic-phase
                          and generator-phase medians.

What runs is the reference's own main.py: it is parsed with `ast`, its top-level statements before the training
loop are executed (the model classes, calc_gradient_penalty, netG/netD/D, the optimisers and schedulers, as
written), and the timed calls execute the loop-body statements above, compiled from main.py with main.py's file
name and line numbers, in that same namespace. Nothing of the reference is copied here. Glue:
  * torch.Tensor.cuda and nn.Module.cuda are the identity (main.py calls .cuda() unconditionally; CPU-only
    torch), and `device` (main.py: torch.device("cuda:0")) is replaced by the CPU right after its assignment;
  * the statement `sys.stderr = open(output_dir/err.txt, 'w')` is skipped; main.py's argparse sees
    --output_dir=REF (where conf.yml is) --id=bench; printlib's prints during set-up are discarded;
  * conf.yml is read by main.py's own `yaml.load`; when PyYAML is not installed (setup.sh does not install it) a
    stand-in `yaml` module parses the file's top-level scalars (the `checkpoints` list, unused by main.py, is
    read as []). After that statement CONF['BS'] = --batch_size and, if given, CONF['SEED'] = --seed;
  * stand-ins, never timed: torchvision (transforms; datasets.CIFAR10 -> a 50,000-item random dataset, so
    len(dataloader) is the reference's 1563 at B=32), torch.utils.tensorboard.SummaryWriter (no-op: the
    add_scalar/add_histogram calls inside the loop bodies still run but write nothing; their arguments, e.g.
    `ratio.data.cpu().numpy()`, are still evaluated), utils.BenchMark/CheckPoint (FID/IS; the reference's utils.py
    needs scipy, torchvision and Inception weights);
  * data: `data_iter` is an object whose .next() (what main.py calls) returns pre-made [images, labels]
    batches, images uniform in [-1, 1] of shape [B, 3, 32, 32] (CIFAR-10 after Normalize(0.5, 0.5)), cycling over
    Diters + PPO_iters batches; the reference's DataLoader (2 workers, decode, ToTensor, Normalize) is not timed.
    Before each timed call `i` = `j` = 0 (so `i < len(dataloader)` never ends an epoch mid-call) and, before the first,
    G_progress = 1 (so the FID/IS/checkpoint branch, taken when G_progress % 1000 == 0, is never entered);
  * two fixes without which current torch raises in the loop bodies, each computing what the older torch the
    code was written for computed: `one` and `mone` (FloatTensor([1]), [-1]) are made 0-dimensional, because
    backward(grad) on a 0-dim loss now rejects a [1]-shaped grad ("Mismatch in shape"); `criterion`
    (nn.BCELoss) casts its target to the input's dtype and shape, because torch.full((B,), 1) is now int64 and a
    [B] target for a [B, 1] input is now a ValueError (older torch returned float and paired the B elements in
    order, with a deprecation warning).
Deviations from a training run: random data instead of CIFAR-10; no data loading, logging, FID/IS or
checkpointing; `i` is reset, so every iteration has the full 5 + 5 steps (in the reference, at B=32, each
1563-batch epoch ends with an iteration of 3 critic steps and no PPO step). Everything in the loop bodies,
including the reference's quirks, runs as written: e.g. the generator step reuses the last critic step's
`noise`, and ct_penalty broadcasts [B, 1] + [B] to [B, B] before its mean.
Comparable JAX workload (same machine, run separately): benchmarks/image_step.py --batch_sizes=32
(cifar10_resnet_ppogan_ppogan_5d5g_B32_*), against cifar_iteration_B32 here.
"""
import argparse
import ast
import contextlib
import importlib.util
import io
import json
import os
import resource
import statistics
import sys
import time
import types

MAIN = "main.py"


def parse_args():
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--ref", default=os.path.expanduser("~/.cache/ppogan-ref/src/cifar10"),
                 help="the reference's cifar10 folder (main.py, conf.yml, printlib.py)")
  p.add_argument("--batch_size", type=int, default=32)
  p.add_argument("--repeats", type=int, default=3)
  p.add_argument("--warmup", type=int, default=1)
  p.add_argument("--threads", type=int, default=2)
  p.add_argument("--workloads", default="iteration", help="comma list of: iteration, critic, ppo")
  p.add_argument("--seed", type=int, default=None, help="default: conf.yml's SEED")
  args = p.parse_args()
  args.ref = os.path.abspath(os.path.expanduser(args.ref))
  return args


def cpu_model():
  try:
    with open("/proc/cpuinfo") as f:
      return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
  except (OSError, StopIteration):
    import platform
    return platform.processor() or platform.machine()


def peak_rss_gib():
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


# ----------------------------------------------------------------------------------------------------------------
# Stand-ins for what main.py imports but the timed code does not need (installed once, before main.py runs).

def _module(name, **attrs):
  m = types.ModuleType(name)
  m.__dict__.update(attrs)
  sys.modules[name] = m
  return m


def install_stand_ins(torch):
  class RandomCIFAR10(torch.utils.data.Dataset):
    """Stands in for torchvision.datasets.CIFAR10(train): 50,000 random items (never iterated by the timing)."""

    def __init__(self, *a, **k):
      pass

    def __len__(self):
      return 50000

    def __getitem__(self, idx):
      return torch.rand(3, 32, 32) * 2 - 1, idx % 10

  def _transform(*a, **k):
    return lambda x: x

  datasets = _module("torchvision.datasets", CIFAR10=RandomCIFAR10)
  transforms = _module("torchvision.transforms", Compose=_transform, Resize=_transform, CenterCrop=_transform,
                       ToTensor=_transform, Normalize=_transform)
  vutils = _module("torchvision.utils", make_grid=lambda *a, **k: None)
  _module("torchvision", datasets=datasets, transforms=transforms, utils=vutils)

  class SummaryWriter:
    """No-op tensorboard writer: every method accepts anything and writes nothing."""

    def __init__(self, *a, **k):
      pass

    def __getattr__(self, name):
      return lambda *a, **k: None

  _module("torch.utils.tensorboard", SummaryWriter=SummaryWriter)

  class BenchMark:
    """Stands in for utils.BenchMark (Inception FID/IS); the benchmark never reaches its call."""

    def __init__(self, *a, **k):
      pass

    def calculate_fid_IS(self, *a, **k):
      raise RuntimeError("FID/IS evaluation is not part of the benchmark (G_progress % 1000 == 0 reached)")

  class CheckPoint:
    def __init__(self, *a, **k):
      pass

  _module("utils", BenchMark=BenchMark, CheckPoint=CheckPoint)

  if importlib.util.find_spec("yaml") is None:  # else main.py uses PyYAML
    def load(stream, Loader=None):
      """Top-level `key: scalar` lines of a flat YAML file; keys with a nested block (a list) map to []."""
      conf = {}
      for line in stream.read().splitlines():
        if not line or line[0] in " -#":
          continue
        key, _, value = line.partition(":")
        value = value.strip()
        if not value:
          conf[key.strip()] = []
          continue
        for cast in (int, float):
          try:
            value = cast(value)
            break
          except ValueError:
            pass
        conf[key.strip()] = value
      return conf

    _module("yaml", load=load, FullLoader=None)


# ----------------------------------------------------------------------------------------------------------------
# main.py, parsed: its set-up statements and the loop bodies to time.

def _assigns(node, name):
  return isinstance(node, ast.Assign) and any(
      isinstance(t, ast.Name) and t.id == name for t in node.targets)


def _one(nodes, what):
  if len(nodes) != 1:
    raise SystemExit(f"{MAIN}: expected exactly one {what}, found {len(nodes)} (different reference version?)")
  return nodes[0]


class Reference:
  """main.py's statements, split into its set-up and its training-loop pieces."""

  def __init__(self, ref):
    self.path = os.path.join(ref, MAIN)
    tree = ast.parse(open(self.path).read(), filename=self.path)
    outer = _one([n for n in tree.body if isinstance(n, ast.While) and "G_progress" in ast.unparse(n.test)],
                 "top-level `while G_progress < ...` loop")
    self.setup = tree.body[:tree.body.index(outer)]
    inner = _one([n for n in outer.body if isinstance(n, ast.While)
                  and ast.unparse(n.test) == "i < len(dataloader)"], "`while i < len(dataloader)` loop")
    body = inner.body
    critic = _one([n for n in body if isinstance(n, ast.While) and "CONF['Diters']" in ast.unparse(n.test)],
                  "critic loop `while j < CONF['Diters'] ...`")
    ppo = _one([n for n in body if isinstance(n, ast.While) and "CONF['PPO_iters']" in ast.unparse(n.test)],
               "generator loop `while j < CONF['PPO_iters'] ...`")
    p0 = _one([n for n in body if isinstance(n, ast.With) and "P0" in ast.unparse(n)], "P0 `with` block")
    ci, pi = body.index(critic), body.index(ppo)
    assert ci < body.index(p0) < pi
    self.pieces = {
        "critic_body": critic.body,          # one critic step
        "p0": [p0],                          # frozen classifier odds before the PPO steps
        "ppo_body": ppo.body,                # one classifier step + one generator step
        "critic_phase": body[:ci + 1],       # j = 0; while j < Diters ...: critic steps
        "gen_phase": body[ci + 1:pi + 1],    # j = 0; with no_grad: P0; while j < PPO_iters ...
        "tail": body[pi + 1:],               # writer scalars, FID branch, G_progress += 1, schedulers
        "iteration": body,
    }
    self.code = {k: self.compile(v) for k, v in self.pieces.items()}

  def compile(self, stmts):
    return compile(ast.Module(body=list(stmts), type_ignores=[]), self.path, "exec")

  def lines(self, name):
    stmts = self.pieces[name]
    return f"{MAIN}:{stmts[0].lineno}-{stmts[-1].end_lineno}"


class DataIter:
  """`data_iter` for the loop bodies: .next() returns pre-made [images, labels] batches, cycling."""

  def __init__(self, torch, batch_size, num_batches, seed):
    g = torch.Generator().manual_seed(seed)
    self.batches = [[torch.rand(batch_size, 3, 32, 32, generator=g) * 2 - 1,
                     torch.randint(0, 10, (batch_size,), generator=g)] for _ in range(num_batches)]
    self.k = 0

  def next(self):
    batch = self.batches[self.k % len(self.batches)]
    self.k += 1
    return batch

  __next__ = next


def build_state(ref, args, torch):
  """Runs main.py's set-up statements (all top-level statements before the training loop) with the glue."""
  ns = {"__name__": "ppogan_ref_main", "__file__": ref.path, "__builtins__": __builtins__}
  argv = sys.argv
  sys.argv = [ref.path, f"--output_dir={args.ref}", "--id=bench"]
  try:
    with contextlib.redirect_stdout(io.StringIO()):  # printlib prints CONF and the models to stdout
      for node in ref.setup:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "sys.stderr":
          continue  # would send stderr to output_dir/err.txt
        exec(ref.compile([node]), ns)
        if _assigns(node, "CONF"):
          ns["CONF"]["BS"] = args.batch_size
          if args.seed is not None:
            ns["CONF"]["SEED"] = args.seed
        elif _assigns(node, "device"):
          ns["device"] = torch.device("cpu")
  finally:
    sys.argv = argv
  # Current torch: a 0-dim loss takes only a 0-dim grad in backward(); same values as the [1]-shaped ones.
  ns["one"], ns["mone"] = ns["one"].reshape(()), ns["mone"].reshape(())
  # Current torch: torch.full((B,), 1) is int64, and BCELoss wants target.shape == input.shape ([B, 1]).
  bce = ns["criterion"]
  ns["criterion"] = lambda output, label: bce(output, label.to(output.dtype).view_as(output))
  conf = ns["CONF"]
  ns["data_iter"] = DataIter(torch, args.batch_size, conf["Diters"] + conf["PPO_iters"],
                             conf["SEED"] + 1)
  ns["i"] = ns["j"] = 0
  ns["G_progress"] = 1
  return ns


def check_settings(ns):
  """The settings this benchmark is about (conf.yml as published), restated for the record."""
  c = ns["CONF"]
  got = {k: c[k] for k in ("G_SIZE", "D_SCALE", "nz", "Diters", "PPO_iters", "LAMBDA", "LAMBDA2", "Factor_M",
                           "LR", "clip_param", "max_grad_norm", "ImageSize", "Dset")}
  want = {"G_SIZE": 256, "D_SCALE": 1.3, "nz": 128, "Diters": 5, "PPO_iters": 5, "LAMBDA": 5, "LAMBDA2": 2,
          "Factor_M": 0, "LR": 1e-4, "clip_param": 0.4, "max_grad_norm": 0.5, "ImageSize": 32, "Dset": "cifar10"}
  if got != want:
    print(f"# note: conf.yml differs from the published one: {got}", file=sys.stderr)
  assert ns["DISC_SIZE"] == int(c["G_SIZE"] * c["D_SCALE"])
  for opt in ("optimizerD", "optimizerD_D", "optimizerG"):
    g = ns[opt].param_groups[0]
    print(f"# {opt}: lr {g['lr']:.3g}, betas {g['betas']}", file=sys.stderr)
  n = lambda m: sum(p.numel() for p in m.parameters())
  print(f"# netG {n(ns['netG']) / 1e6:.2f} M params (width {ns['GEN_SIZE']}), netD {n(ns['netD']) / 1e6:.2f} M "
        f"(width {ns['DISC_SIZE']}), D {n(ns['D']) / 1e6:.2f} M, len(dataloader) {len(ns['dataloader'])}",
        file=sys.stderr, flush=True)


def summarize(name, times_s, args, torch, ns, ref_code, extra=None):
  conf = ns["CONF"]
  out = {"workload": name, "median_ms": round(1e3 * statistics.median(times_s), 1),
         "min_ms": round(1e3 * min(times_s), 1), "max_ms": round(1e3 * max(times_s), 1),
         "repeats": len(times_s), "torch": torch.__version__, "threads": torch.get_num_threads(),
         "cpu": cpu_model(), "batch_size": args.batch_size, "n_critic": conf["Diters"],
         "n_gen": conf["PPO_iters"], "ref_code": ref_code}
  if extra:
    out.update(extra)
  out["peak_rss_gib"] = round(peak_rss_gib(), 2)
  return out


def _call(ns, code):
  ns["i"] = ns["j"] = 0  # the loop bodies count `i += 1; j += 1`; the phases set j = 0 themselves
  t = time.perf_counter()
  exec(code, ns)
  return time.perf_counter() - t


def _loss_note(ns, *names):
  return ", ".join(f"{k} {ns[k].item():.4f}" for k in names if k in ns)


def bench_step(ref, args, torch, which):
  ns = build_state(ref, args, torch)
  check_settings(ns)
  if which == "ppo":  # the PPO body needs `noise` and P0 from a critic phase: one critic step and P0, untimed
    _call(ns, ref.code["critic_body"])
    _call(ns, ref.code["p0"])
  piece = "critic_body" if which == "critic" else "ppo_body"
  times = []
  for k in range(args.warmup + args.repeats):
    dt = _call(ns, ref.code[piece])
    if k >= args.warmup:
      times.append(dt)
    losses = _loss_note(ns, *(("errD", "gradient_penalty", "ct_penalty") if which == "critic"
                              else ("errDD_real", "errDD_fake", "errG")))
    print(f"# {which} call {k}{' (warm-up)' if k < args.warmup else ''}: {1e3 * dt:.1f} ms, {losses}",
          file=sys.stderr, flush=True)
  name = f"cifar_{'critic' if which == 'critic' else 'ppo'}_step_B{args.batch_size}"
  return summarize(name, times, args, torch, ns, ref.lines(piece))


def bench_iteration(ref, args, torch):
  ns = build_state(ref, args, torch)
  check_settings(ns)
  times, critic_times, gen_times = [], [], []
  for k in range(args.warmup + args.repeats):
    t_critic = _call(ns, ref.code["critic_phase"])
    t_gen = _call(ns, ref.code["gen_phase"])
    t_tail = _call(ns, ref.code["tail"])
    total = t_critic + t_gen + t_tail
    if k >= args.warmup:
      times.append(total)
      critic_times.append(t_critic)
      gen_times.append(t_gen)
    print(f"# iteration {k}{' (warm-up)' if k < args.warmup else ''}: {total:.2f} s (critic phase "
          f"{t_critic:.2f} s, generator phase {t_gen:.2f} s, rest {1e3 * t_tail:.1f} ms), "
          f"{_loss_note(ns, 'errD', 'gradient_penalty', 'errG')}", file=sys.stderr, flush=True)
  return summarize(f"cifar_iteration_B{args.batch_size}", times, args, torch, ns, ref.lines("iteration"),
                   {"critic_phase_median_ms": round(1e3 * statistics.median(critic_times), 1),
                    "gen_phase_median_ms": round(1e3 * statistics.median(gen_times), 1)})


def main():
  args = parse_args()
  if args.repeats < 1:
    raise SystemExit("--repeats must be >= 1")
  workloads = args.workloads.split(",")
  for w in workloads:
    if w not in ("iteration", "critic", "ppo"):
      raise SystemExit(f"unknown workload {w!r} (use iteration, critic, ppo)")
  if not os.path.exists(os.path.join(args.ref, MAIN)):
    raise SystemExit(f"{args.ref}/{MAIN} not found: extract the reference's cifar10/ there (see --help)")
  import torch
  import torch.nn as nn
  torch.set_num_threads(args.threads)
  # main.py calls .cuda() unconditionally (models, alpha/interpolates/ones in the GP, one/mone); CPU-only torch.
  torch.Tensor.cuda = lambda self, *a, **k: self
  nn.Module.cuda = lambda self, *a, **k: self
  install_stand_ins(torch)
  sys.path.insert(0, args.ref)  # main.py's `from printlib import print_normal as print`
  ref = Reference(args.ref)
  print(f"# reference {ref.path}: set-up {MAIN}:1-{ref.setup[-1].end_lineno}, "
        f"critic step {ref.lines('critic_body')}, P0 {ref.lines('p0')}, PPO step {ref.lines('ppo_body')}, "
        f"iteration {ref.lines('iteration')}", file=sys.stderr, flush=True)
  for w in workloads:
    r = bench_iteration(ref, args, torch) if w == "iteration" else bench_step(ref, args, torch, w)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
  main()
