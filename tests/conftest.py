"""Suite-wide JAX settings: 8 simulated CPU devices and strict rank promotion."""
import os

# The 8 simulated devices' collectives rendezvous on threads of a 2-core
# machine; under load (pytest -n 2) a device can be descheduled for longer
# than XLA's 40 s default, after which XLA aborts the process.
os.environ.setdefault("XLA_FLAGS", " ".join([
    "--xla_force_host_platform_device_count=8",
    "--xla_cpu_collective_call_terminate_timeout_seconds=1800",
    "--xla_cpu_collective_timeout_seconds=1800"]))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
