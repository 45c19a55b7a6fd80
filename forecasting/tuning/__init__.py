"""Budgeted tuning of a network's settings on Ray (design: section 8 of DESIGN.md).

`space` (the search space as data), `inputs` (covariate subsets as a dimension), `objective`
(mean MASE over rolling-origin folds inside the training part, one network per fold),
`options` (budget, cap, seed, the final model's ensemble), `engine` (the Ray runtime) and
`search` (Ray Tune with Optuna's TPE sampler and ASHA). Importing this package imports
neither Ray nor Keras.
"""

from forecasting.tuning.objective import DEFAULT_FOLDS, Objective, make_objective
from forecasting.tuning.space import DEFAULT_SPACE, Dimension, Space

__all__ = ["DEFAULT_FOLDS", "DEFAULT_SPACE", "Dimension", "Objective", "Space", "make_objective"]
