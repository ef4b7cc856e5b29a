"""The machinery that runs the book, apart from the science: nothing here imports a science module.

* `settings`: profiles and parameters of a notebook;
* `checks` and `ledger`: the reproduction ledger (claims, kinds, sources, causes, statistical tolerances);
* `cache`: trained models and embeddings keyed by the call that builds them;
* `runtime` and `environment`: devices, seeds, folders, versions and the environment fingerprint;
* `imports`: which package sources a notebook or a builder depends on;
* `runner` and `execution`: executing notebooks incrementally; `report`: the reproduction report pages.
"""
