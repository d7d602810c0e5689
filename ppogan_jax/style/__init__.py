"""Text style transfer on Yelp (PPO-GAN Table 4, Figure 4; REFERENCE_SPEC §8).

Modules: data (corpora, sampler), model (Flax modules), losses, train (fused
step and loop), evaluate (metrics, separately trained style classifier).
"""
