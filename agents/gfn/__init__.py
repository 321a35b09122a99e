"""GFlowNet slate policies (GFN4Rec, Liu et al., KDD 2023), split by concept.

* :mod:`agents.gfn.losses` — detailed- and trajectory-balance residuals (pure tensor functions);
* :mod:`agents.gfn.networks` — item embedding, user-state encoder, policy / flow / log Z heads;
* :mod:`agents.gfn.sampler` — the autoregressive masked sampler and teacher-forced scoring;
* :mod:`agents.gfn.buffer` — the replay buffer ("latest" or "mixed");
* :mod:`agents.gfn.agent` — :class:`SlateGFN_DB`, :class:`SlateGFN_TB` and :class:`GFNConfig`.

See ``docs/agents/slategfn.md``.
"""

from agents.gfn.agent import GFNConfig, SlateGFN, SlateGFN_DB, SlateGFN_TB
from agents.gfn.losses import db_loss, tb_loss

__all__ = ["GFNConfig", "SlateGFN", "SlateGFN_DB", "SlateGFN_TB", "db_loss", "tb_loss"]
