"""GFlowNet slate policies (GFN4Rec, Liu et al., KDD 2023), split by concept.

* :mod:`agents.gfn.losses` — detailed- and trajectory-balance residuals (pure tensor functions);
* :mod:`agents.gfn.networks` — policy / flow / log Z heads on the shared encoder;
* :mod:`agents.gfn.sampler` — the autoregressive masked sampler and teacher-forced scoring;
* :mod:`agents.gfn.buffer` — the replay buffer ("latest" or "mixed");
* :mod:`agents.gfn.config` — :class:`GFNConfig` and GFN4Rec's presets;
* :mod:`agents.gfn.agent` — :class:`SlateGFN_DB` and :class:`SlateGFN_TB`.

See ``docs/agents/slategfn.md``.
"""

from agents.gfn.agent import SlateGFN, SlateGFN_DB, SlateGFN_TB
from agents.gfn.config import PRESETS, GFNConfig
from agents.gfn.losses import db_loss, tb_loss

__all__ = ["PRESETS", "GFNConfig", "SlateGFN", "SlateGFN_DB", "SlateGFN_TB", "db_loss", "tb_loss"]
