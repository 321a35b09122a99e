"""SlateQ (Ie et al., IJCAI 2019): decomposed item values and slate optimisation, split by concept.

* :mod:`agents.slateq.choice` — the conditional choice model (MNL) and its likelihood;
* :mod:`agents.slateq.optimize` — slate optimisation: exact (Dinkelbach / LP / enumeration),
  greedy and top-K;
* :mod:`agents.slateq.targets` — SARSA and Q-learning targets on item values;
* :mod:`agents.slateq.networks` — item-value, null-value and choice heads on the shared encoder;
* :mod:`agents.slateq.buffer` — the replay buffer (with the next served slate, for SARSA);
* :mod:`agents.slateq.config` — :class:`SlateQConfig`;
* :mod:`agents.slateq.agent` — :class:`SlateQ`.

See ``docs/agents/slateq.md``.
"""

from agents.slateq.agent import SlateQ
from agents.slateq.config import SlateQConfig

__all__ = ["SlateQ", "SlateQConfig"]
