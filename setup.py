"""ppogan_jax: PPO-GAN (Wu et al., NeurIPS 2020) and its baselines in JAX/Flax."""
import setuptools

setuptools.setup(
    name="ppogan_jax",
    version="0.1.0",
    description=(
        "Probability ratio clipping and sample re-weighting for GANs (PPO-GAN), "
        "WGAN-GP, CT-GAN and RelGAN in JAX/Flax."
    ),
    packages=setuptools.find_packages(include=["ppogan_jax", "ppogan_jax.*"]),
    python_requires=">=3.10",
    install_requires=[
        "jax>=0.7",
        "flax>=0.10",
        "optax>=0.2.4",
        "orbax-checkpoint>=0.11",
        "chex>=0.1.88",
        "tensorflow-datasets>=4.9.7",
        # tfds.data_source's random-access reader (MNIST, CIFAR-10).
        "array-record",
        "ml-collections>=1.0",
        "absl-py",
        "numpy",
        # TensorBoard event files without TensorFlow.
        "tensorboardX>=2.6",
        # Sample plots and grids written during training.
        "matplotlib",
        # FID's matrix square root (also a JAX dependency).
        "scipy",
        # The bundled 8x8 `digits` image dataset (no download).
        "scikit-learn",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist",
                 # tests/test_notebooks.py executes notebooks/*.ipynb.
                 "nbclient", "nbformat", "ipykernel",
                 # The BLEU tests compare against nltk's implementation.
                 "nltk"],
    },
)
