"""Run in a fresh venv that has only `pip install .`: slategym works without any extra.

Checks that no optional dependency was installed, that `import slategym` pulls none in, and that the
single env, the native vector env and the platform step.
"""

import importlib.util
import sys

import gymnasium as gym
import numpy as np

import slategym

OPTIONAL = (
    "torch", "stable_baselines3", "matplotlib", "tqdm", "tyro", "pandas", "pyarrow", "minari",
    "numba", "llvmlite",
)
installed = [name for name in OPTIONAL if importlib.util.find_spec(name) is not None]
assert not installed, f"the core install pulled optional packages: {installed}"
env = gym.make("SlateRec-v0")
obs, info = env.reset(seed=0)
for _ in range(5):
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
envs = gym.make_vec("SlateRec-v0", 8, vectorization_mode="vector_entry_point")
envs.reset(seed=0)
envs.step(envs.action_space.sample())
platform = slategym.Platform(num_users=50, days=1)
platform.reset(seed=0)
batch = platform.requests() or (platform.next_slot(), platform.requests())[1]
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(OPTIONAL))
assert not loaded, f"slategym imported optional packages: {loaded}"
print(f"core install OK: slategym {slategym.__version__}, numpy {np.__version__}, "
      f"gymnasium {gym.__version__}, no optional package installed or imported")
