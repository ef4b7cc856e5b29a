"""Distance neurons and what they make possible: *Metric as Transform* (S. Sapkota), sec. 2.

Modules, one idea each (imported on demand, so a notebook depends only on the modules it uses):

* ``distances``: the distance transforms (l^p, stereographic, cosine) as functions and layers; sec. 2.1, 2.4.
* ``lp_kernels``: fused CPU kernels (numba) for the l^p distance layer; sec. 2.4, Table 1.
* ``generalized``: learnable convex, invex and ordinary distances, the Table 1 MLP; sec. 2.5.
* ``resnet``: distance convolutions and the ResNet-20 of Table 2; sec. 2.4.
* ``voronoi``: the partitions that linear and distance layers induce; sec. 2.3, Fig. 3.
* ``inversion``: reconstructing inputs from a layer's outputs; sec. 2.7-2.8.
* ``twins``: inputs that share every contour distance, searched along segments; sec. 2.8, Fig. 9.
* ``axioms``: numerical checks of the metric axioms and the classification of distances; sec. 2.9.
"""
