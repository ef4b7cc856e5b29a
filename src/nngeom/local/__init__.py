"""Locally activating neurons: *Metric as Transform* sec. 3 and *On my search for locally activating neurons*.

Modules, one idea each (imported on demand, so a notebook depends only on the modules it uses):

* ``similarity``: normalisations that turn distances into local activations, the epsilon-softmax; MaT sec. 3.1.
* ``dictionary``: dictionary (key-value) layers and networks built on them; MaT sec. 3.1-3.3, LAN sec. 3.
* ``experiments``: the trained epsilon-softmax dictionary MLPs, cached and shared by the two documents.
* ``rejection``: the epsilon neuron's rejection metrics and the epsilon sweep; MaT sec. 3.2, Figs. 15-16.
* ``attacks``: the adversarial attacks of the rejection experiments (foolbox and ours); MaT sec. 3.2.
* ``centre_search``: noisy centre search without back-propagation; MaT sec. 3.3, Fig. 20.
"""
