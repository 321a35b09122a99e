"""Item models: registration, the catalog from a real feature table, corpus dynamics, bad input."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import slategym
from slategym.catalog import Catalog
from slategym.config import SlateRecConfig
from slategym.items import DefaultItemModel, ItemModel, TableItemModel
from slategym.items.default import draw_default_catalog
from tests.conftest import SMALL

DATA = Path(__file__).resolve().parent / "data" / "rl4rs_item_info" / "item_info.csv"
KUAIRAND = (Path(__file__).resolve().parents[2] / "shared" / "data" / "kuairand_pure"
            / "video_features_basic_pure.csv")  # ../shared beside the checkout, as in CI
RL4RS = {"path": str(DATA), "delimiter": " ", "features": {"item_vec": "vector"},
         "price_column": "price"}  # fmt: skip


def test_default_item_model_draws_the_v0_catalog() -> None:
    config = SlateRecConfig(**SMALL, new_items_per_day=5)
    a = DefaultItemModel().generate(config, np.random.default_rng(3))
    b = draw_default_catalog(200, 10, 8, 2, 5, 0.5, np.random.default_rng(3))
    for name in ("topic", "latent", "quality", "price", "popularity", "features"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.total == 205 and a.duration is None


def test_rl4rs_item_table_runs_through_gym_make() -> None:
    env = gym.make("SlateRec-v0", item_model="table", item_model_kwargs=RL4RS, num_items=283,
                   num_candidates=20, slate_size=4, num_users=50, days=2)  # fmt: skip
    check_env(env.unwrapped)
    catalog = env.unwrapped.sim.catalog
    assert catalog.total == 283 and catalog.latent.shape == (283, 8)
    np.testing.assert_allclose(np.linalg.norm(catalog.latent, axis=1), 1.0)
    table = np.loadtxt(DATA, delimiter=" ", skiprows=1, usecols=2)
    np.testing.assert_array_equal(catalog.price, table)  # the real prices, in table order
    # the latent vectors are the principal directions of the real item vectors: items close in the
    # table's 40-d space are close in the latent space
    vectors = np.array([
        [float(x) for x in line.split(" ")[1].split(",")]
        for line in DATA.read_text().splitlines()[1:]
    ])  # fmt: skip
    far = np.argmax(((vectors - vectors[0]) ** 2).sum(1))
    near = np.argsort(((vectors - vectors[0]) ** 2).sum(1))[1]
    assert catalog.latent[0] @ catalog.latent[near] > catalog.latent[0] @ catalog.latent[far]
    obs, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(200):
        obs, reward, term, trunc, _ = env.step(np.arange(4))
        total += reward
        if term or trunc:
            obs, _ = env.reset()
    assert total > 0


@pytest.mark.skipif(not KUAIRAND.is_file(), reason="the shared KuaiRand table is not on this machine")
def test_kuairand_video_table_with_durations_and_tags() -> None:
    items = TableItemModel(
        path=str(KUAIRAND), topic_column="tag", duration_column="video_duration",
        duration_scale=1 / 60_000, missing="drop",
        features={"video_duration": "log", "server_width": "number", "server_height": "number",
                  "upload_type": "category", "video_type": "category"},
    )  # fmt: skip
    env = gym.make("SlateRec-v0", item_model=items, num_items=5000, num_users=50, days=2)
    catalog = env.unwrapped.sim.catalog
    assert catalog.num_topics == 10 and catalog.duration is not None
    assert 0 < np.median(catalog.duration) < 5  # short videos, in minutes
    env.reset(seed=0)
    env.step(np.arange(6))


def test_table_bad_input_gets_clear_errors(tmp_path: Path) -> None:
    config = SlateRecConfig(num_items=3, num_candidates=2, slate_size=1)
    rng = np.random.default_rng(0)
    path = tmp_path / "items.csv"
    path.write_text("id,a,b,genre\n1,0.5,2,x\n2,,3,y\n3,1.5,nan,x\n4,2.5,1,z\n")
    with pytest.raises(ValueError, match=r"no column\(s\) \['c'\]: its columns are \['id', 'a', 'b', 'genre'\]"):
        TableItemModel(path=str(path), features={"c": "number"}).generate(config, rng)
    with pytest.raises(ValueError, match="column 'a' .* 1 empty or NaN cell.*line 2.*missing='drop'"):
        TableItemModel(path=str(path), features={"a": "number"}).generate(config, rng)
    with pytest.raises(ValueError, match="column 'b' .* 1 empty or NaN cell.*line 3"):
        TableItemModel(path=str(path), features={"b": "number"}).generate(config, rng)
    with pytest.raises(ValueError, match="num_items=3 is not allowed .* 2 usable rows"):
        TableItemModel(path=str(path), features={"a": "number", "b": "log"},
                       missing="drop").generate(config, rng)  # fmt: skip
    ok = TableItemModel(path=str(path), features={"genre": "category"}).generate(config, rng)
    assert ok.total == 3 and ok.num_topics <= 3
    path.write_text("id,a\n1,0.5\n2,high\n")
    with pytest.raises(ValueError, match="column 'a' holds 'high' at line 2: expected a number"):
        TableItemModel(path=str(path), features={"a": "number"}).generate(config, rng)
    with pytest.raises(ValueError, match="features\\['a'\\]='text' is not allowed"):
        TableItemModel(path=str(path), features={"a": "text"})
    with pytest.raises(ValueError, match="missing='skip' is not allowed"):
        TableItemModel(path=str(path), features={"a": "number"}, missing="skip")
    with pytest.raises(ValueError, match="no such file"):
        TableItemModel(path=str(tmp_path / "none.csv"), features={"a": "number"}).read()


def test_unknown_item_model_lists_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"item_model='nope' is not allowed: expected an ItemModel "
                       r"instance or one of the registered names \['default', .*'table'\]"):  # fmt: skip
        gym.make("SlateRec-v0", item_model="nope")
    with pytest.raises(ValueError, match="item_model_kwargs=.* rejected by 'default'"):
        gym.make("SlateRec-v0", item_model="default", item_model_kwargs={"size": 3})
    with pytest.raises(ValueError, match="item_model_kwargs=.* not allowed with a item_model instance"):
        gym.make("SlateRec-v0", item_model=DefaultItemModel(), item_model_kwargs={"size": 3})


@dataclass(frozen=True)
class TwoPriceItems(ItemModel):
    """Half the items cheap, half dear; candidates are always the cheapest live ones (no draw)."""

    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        base = DefaultItemModel().generate(config, rng)
        price = np.where(np.arange(base.total) % 2 == 0, 5.0, 50.0)
        return dataclasses.replace(base, price=price)

    def num_uniforms(self, num_candidates: int) -> int:
        return 0

    def candidates(self, catalog, day, uniforms, num_candidates):  # type: ignore[no-untyped-def]
        start = catalog.window_start(day)[:, None]
        return start + 2 * np.arange(num_candidates)  # the even (cheap) live items


def test_a_registered_item_model_owns_catalog_and_candidates() -> None:
    slategym.register_item_model("test_two_price", TwoPriceItems, overwrite=True)
    assert "test_two_price" in slategym.registered_item_models()
    env = gym.make("SlateRec-v0", item_model="test_two_price", **{**SMALL, "days": 3},
                   new_items_per_day=10)  # fmt: skip
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    for _ in range(100):
        assert np.all(obs["candidate_ids"] % 2 == 0)
        day = int(obs["time"][0])
        assert np.all(obs["candidate_ids"] >= 10 * day)  # retired items are never candidates
        obs, _, term, trunc, _ = env.step(np.arange(4))
        if term or trunc:
            obs, _ = env.reset()
    with pytest.raises(ValueError, match="returned str, expected an ItemModel"):
        slategym.register_item_model("test_broken_items", lambda: "items", overwrite=True)
        gym.make("SlateRec-v0", item_model="test_broken_items")


def test_fixed_candidates_per_episode() -> None:
    """``resample_documents=False``: a row keeps the candidates it started its episode with."""
    env = gym.make("SlateRec-InterestEvolution-v0", num_items=500,
                   item_model_kwargs={"resample_documents": False})  # fmt: skip
    obs, _ = env.reset(seed=1)
    first = obs["candidate_ids"]
    for _ in range(30):
        obs, _, term, trunc, _ = env.step([0, 1])
        assert np.array_equal(obs["candidate_ids"], first)
        assert not (term or trunc)
    obs, _ = env.reset()
    assert not np.array_equal(obs["candidate_ids"], first)


def test_a_catalog_that_breaks_the_contract_is_refused() -> None:
    @dataclass(frozen=True)
    class NanItems(DefaultItemModel):
        def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
            base = super().generate(config, rng)
            quality = base.quality.copy()
            quality[3] = np.nan
            return dataclasses.replace(base, quality=quality)

    with pytest.raises(ValueError, match="catalog.quality holds NaN"):
        gym.make("SlateRec-v0", item_model=NanItems(), **SMALL)


def test_reading_a_table_imports_no_heavy_dependency() -> None:
    """slategym reads CSV with the standard library: no pandas (nor torch) at import or read."""
    import subprocess
    import sys

    code = (
        "import sys, gymnasium as gym, slategym\n"
        f"env = gym.make('SlateRec-v0', item_model='table', item_model_kwargs={RL4RS!r}, "
        "num_items=283, num_candidates=20)\n"
        "env.reset(seed=0)\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'torch', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
