"""Text style transfer on Yelp (PPO-GAN Table 4, Figure 4).

The reference code is described in docs/reference_code.md §8. Modules: data
(corpora, sampler), model (Flax modules), losses, train (fused step and
loop), evaluate (metrics, separately trained style classifier).
"""
