"""Slate off-policy evaluation: estimators (one per file, maths in each docstring) and ground truth.

| estimator | file | assumption for unbiasedness |
|---|---|---|
| :class:`SlateIPS` | ``ips.py`` | none (absolute continuity) |
| :class:`SlateSNIPS` | ``snips.py`` | none; O(1/n) bias |
| :class:`SlateIIPS` | ``iips.py`` | reward at k depends on the item at k only |
| :class:`SlateRIPS` | ``rips.py`` | cascade: reward at k depends on positions 0..k |
| :class:`SlatePseudoInverse` | ``pseudoinverse.py`` | additive slate reward |
| :class:`SlateCascadeDR` | ``cascade_dr.py`` | cascade, any reward model |

See ``docs/ope.md`` for the table of bias, standard deviation and RMSE against the simulator's truth.
"""

from slategym.ope.base import Estimate, SlateEstimator, SlateOPEData
from slategym.ope.cascade_dr import SlateCascadeDR
from slategym.ope.data import ope_data_from_scores
from slategym.ope.iips import SlateIIPS
from slategym.ope.ips import SlateIPS
from slategym.ope.pseudoinverse import SlatePseudoInverse
from slategym.ope.rips import SlateRIPS
from slategym.ope.snips import SlateSNIPS
from slategym.ope.truth import policy_values

ESTIMATORS: dict[str, type[SlateEstimator]] = {
    "IPS": SlateIPS,
    "SNIPS": SlateSNIPS,
    "IIPS": SlateIIPS,
    "RIPS": SlateRIPS,
    "PI": SlatePseudoInverse,
    "CascadeDR": SlateCascadeDR,
}
"""Estimator name -> class, in report order."""

__all__ = [
    "ESTIMATORS",
    "Estimate",
    "SlateCascadeDR",
    "SlateEstimator",
    "SlateIIPS",
    "SlateIPS",
    "SlateOPEData",
    "SlatePseudoInverse",
    "SlateRIPS",
    "SlateSNIPS",
    "ope_data_from_scores",
    "policy_values",
]
