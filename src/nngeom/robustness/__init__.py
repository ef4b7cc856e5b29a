"""Mechanisms of neural robustness: *Exploring mechanisms of Neural Robustness* (sec. 2-3, Appendices A-D).

Modules, one idea each (imported on demand, so a notebook depends only on the modules it uses):

* ``krotov``: the Krotov-Hopfield local learning rule and layer; sec. 2, eq. 3-5, Appendix A.
* ``fast_matmul``: split-bfloat16 float32 products on the CPU, used only where verified accurate.
* ``regularizers``: the L2, Jacobian and spectral regularisers of the hidden layer; sec. 2, Appendix D.
* ``spectrum``: ordered covariance spectra and power-law exponents; sec. 2-3, Appendix C.
* ``perturbations``: random noise, FGSM and PGD over an epsilon grid; relative accuracy; sec. 2-3, Fig. 1.
* ``landscape``: decision landscapes and hidden-Jacobian maps on a random plane; sec. 3, Fig. 4.
* ``models``: the single-hidden-layer perceptron of eq. 1 and its regularised loss.
* ``experiments``: the document's training settings and the five trained models, cached and shared.
* ``causes``: the causes of a `differs` built from the run (the scale actually trained, the L2 model's guard).
"""
