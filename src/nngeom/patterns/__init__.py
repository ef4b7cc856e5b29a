"""Activation patterns of ReLU networks: *Study on Activation Patterns* (Swiniarski, Bruna, Cho).

Modules, one idea each (imported on demand, so a notebook depends only on the modules it uses):

* ``recording``: bit-packed 0-1 activation patterns recorded by hooks; sec. 2.
* ``hamming``: pairwise, paired and nearest-neighbour Hamming distances; sec. 2-4.
* ``nullmodel``: the Bernoulli null model, p-values, the constellation curve and the folded-normal fit; sec. 4.
* ``linear_maps``: exact local linear maps W_{a,x}, b_{a,x}; singular values, decomposition, angles; sec. 6.
* ``geodesic``: Algorithm 1 and the midpoint algorithms for shortest paths in pattern space; sec. 5.
* ``polytope``: noisy exploration of one linear region; sec. 6.
* ``regions``: counting linear regions, f(n, r); sec. 6-7.
* ``models``: the networks (MLPs with normalisation choices, the sec. 5 convnet); ``experiments``: their cached
  training.
"""
