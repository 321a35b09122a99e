"""SlateQ's replay buffer: transitions, and (for SARSA) the slate served at the next state.

A transition is what one user saw and did at one step: the observation, the slate, the choice
(position clicked, or ``K`` for no click), the reward, the next observation and whether the episode
ended. Q-learning needs nothing more; SARSA also needs the slate the *same user* was served at the
next step, which arrives only with a later feedback. The buffer links them without help from the
loop: a transition whose episode goes on waits, keyed by its next observation (profile, candidate ids,
history ids, moment: the exact request the user will make next), until a later push contains an
observation with that key; the slate served there completes it. Transitions that end an episode need
no next slate. At most ``capacity`` transitions wait; the oldest are dropped first.

Transitions are stored in an :class:`agents.replay.Ring` of ``capacity`` rows and sampled uniformly
with an explicit ``np.random.Generator``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from agents.replay import Ring
from agents.tensors import OBS_KEYS

__all__ = ["TransitionBuffer", "request_keys"]

_KEY_FIELDS = ("user", "candidate_ids", "history_ids", "time")


def request_keys(observations: dict[str, np.ndarray]) -> list[bytes]:
    """One key per row: the bytes of the row's profile, candidate ids, history ids and moment."""
    parts = [np.asarray(observations[k], np.float64).reshape(len(observations[k]), -1)
             for k in _KEY_FIELDS]  # fmt: skip
    rows = np.ascontiguousarray(np.concatenate(parts, axis=1))
    return [row.tobytes() for row in rows]


class TransitionBuffer:
    """See the module docstring. ``link=True`` (SARSA) waits for each transition's next slate."""

    def __init__(self, capacity: int, link: bool) -> None:
        self.ring = Ring(capacity)
        self.link = bool(link)
        self._waiting: OrderedDict[bytes, dict[str, np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ring)

    @property
    def waiting(self) -> int:
        """Transitions waiting for their next slate (SARSA)."""
        return len(self._waiting)

    def push(
        self,
        observations: dict[str, np.ndarray],
        slates: np.ndarray,
        choice: np.ndarray,
        reward: np.ndarray,
        next_observations: dict[str, np.ndarray],
        dones: np.ndarray,
    ) -> None:
        """Store the ``n`` transitions of one feedback (arrays with a leading axis of ``n``)."""
        slates = np.asarray(slates, np.int64)
        fields = {f"obs_{k}": np.asarray(observations[k]) for k in OBS_KEYS}
        fields.update({f"next_{k}": np.asarray(next_observations[k]) for k in OBS_KEYS})
        fields.update(slates=slates, choice=np.asarray(choice, np.int64),
                      reward=np.asarray(reward, np.float64), done=np.asarray(dones, bool),
                      next_slates=np.zeros_like(slates))  # fmt: skip
        if not self.link:
            self.ring.push(fields)
            return
        # Complete the transitions waiting for these requests, then queue the new ones.
        done_rows: list[dict[str, np.ndarray]] = []
        for row, key in enumerate(request_keys(observations)):
            waiting = self._waiting.pop(key, None)
            if waiting is not None:
                waiting["next_slates"] = slates[row]
                done_rows.append(waiting)
        if done_rows:
            self.ring.push({k: np.stack([r[k] for r in done_rows]) for k in fields})
        ended = fields["done"]
        if ended.any():
            self.ring.push({k: v[ended] for k, v in fields.items()})
        going_on = np.flatnonzero(~ended)
        next_keys = request_keys({k: np.asarray(next_observations[k])[going_on] for k in _KEY_FIELDS})
        for i, key in enumerate(next_keys):
            self._waiting[key] = {k: v[going_on[i]] for k, v in fields.items()}
            self._waiting.move_to_end(key)
        while len(self._waiting) > self.ring.capacity:
            self._waiting.popitem(last=False)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``batch_size`` transitions drawn uniformly with replacement."""
        return self.ring.get(self.ring.uniform(batch_size, rng))
