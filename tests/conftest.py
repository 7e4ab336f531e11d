"""Shared fixtures: the cell catalogue, float64 on demand, a norm-relative comparison."""

import dataclasses
import os
import sys
from pathlib import Path

# Set before jax is first imported; every flag here is added to a given XLA_FLAGS unless it
# sets that flag already, and the processes that tests start inherit them.
# - Single-threaded Eigen was faster for small recurrent matmuls on 2 cores (see Makefile),
#   collective timeouts as in rnnlab/engine/devices.py.
# - LLVM at -O0: the suite is compile-bound (tiny shapes, thousands of programs); -O0 cut
#   the CPU time of tests/test_unroll.py's LSTM and GRU cases from 71 s to 49 s. XLA's HLO
#   passes still run and fast-math stays off; benchmarks (bench/) never pass through here.
TEST_XLA_FLAGS = (
    "--xla_cpu_multi_thread_eigen=false",
    "--xla_cpu_collective_timeout_seconds=3600",
    "--xla_cpu_collective_call_terminate_timeout_seconds=3600",
    "--xla_backend_optimization_level=0",
)
_flags = os.environ.get("XLA_FLAGS", "").split()
_flags += [f for f in TEST_XLA_FLAGS if not any(g.split("=")[0] == f.split("=")[0] for g in _flags)]
os.environ["XLA_FLAGS"] = " ".join(_flags)
# Two CPU host devices, as the CLI makes of two cores: the engine's tests compare a
# batch split over 2 devices with 1 device. Every pytest-xdist worker sets its own.
os.environ.setdefault("JAX_NUM_CPU_DEVICES", "2")


def _xla_cache_dir():
    """JAX's persistent compilation cache for the tests: ``$RNNLAB_CACHE/xla``, else
    ``xla-cache`` in the virtual environment that runs them (``make clean`` drops it), else
    none. Shared by pytest-xdist's workers and by later runs; every program is kept, since
    most compile in well under JAX's default threshold of 1 s. A warm cache cut
    tests/test_unroll.py from 167 s to 41 s of CPU. Workers write entries without a lock: an
    entry read while another worker writes it is reported as a warning and compiled again."""
    if os.environ.get("RNNLAB_CACHE"):
        return Path(os.environ["RNNLAB_CACHE"]) / "xla"
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "xla-cache"
    return None


if _xla_cache_dir() is not None:
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_xla_cache_dir()))
if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# The page tests' browser: defined once here, since Playwright's sync API runs one
# instance per thread (a second session fixture imported into another module fails).
from _browser import browser, new_page  # noqa: E402, F401

import rnnlab  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Drop JAX's compiled functions after each test module. The suite compiles thousands
    of programs in one process, and each keeps its code mapped: past Linux's limit of
    65,530 memory mappings a process, the next compile crashes inside LLVM."""
    yield
    jax.clear_caches()


# Fixed data of a cell, not trained: never perturbed, never expected to get gradients.
FROZEN = frozenset({"tau", "mask_ih", "mask_hh"})


@dataclasses.dataclass(frozen=True)
class Spec:
    """One cell variant of the catalogue: ``rnnlab.make_cell(name, D, H, **kwargs)``."""

    id: str
    name: str
    kwargs: dict

    def make(self, input_size, hidden_size, seed, *, dtype=jnp.float32, randomize=True):
        """The cell; with ``randomize``, every trainable array is redrawn from N(0, 0.5^2)
        (non-zero biases and peepholes, dense MTRNN weights that the cell must mask).
        Test data comes from NumPy: jax.random would compile for every new shape."""
        # Built in float32 even under x64 (then cast): one random-init compile per shape.
        with jax.enable_x64(False):
            cell = rnnlab.make_cell(
                self.name, input_size, hidden_size, key=jax.random.key(seed), **self.kwargs
            )
        if randomize:
            cell = self.replace(cell, _random_like(self.params(cell), seed))
        return jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), cell)

    @staticmethod
    def params(cell):
        """The trainable arrays of ``cell``, by field name."""
        return {n: getattr(cell, n) for n in trainable_names(cell)}

    @staticmethod
    def replace(cell, params):
        """``cell`` with the arrays of ``params`` (a dict as from :meth:`params`)."""
        names = list(params)
        return eqx.tree_at(lambda c: [getattr(c, n) for n in names], cell, list(params.values()))


# MTRNN with io_size=2 so that every group (io, fast, slow) is non-empty at H=5.
SPECS = [
    Spec("elman", "elman", {}),
    Spec("jordan", "jordan", {}),
    Spec("jordan_mu", "jordan", {"mu": 0.5}),
    Spec("lstm", "lstm", {}),
    Spec("lstm1997", "lstm1997", {}),
    Spec("lstm1997_paper", "lstm1997", {"squash": "paper"}),
    Spec("peephole", "peephole", {}),
    Spec("cifg", "cifg", {}),
    Spec("gru", "gru", {}),
    Spec("gru_reset_before", "gru", {"reset_after": False}),
    Spec("mtrnn", "mtrnn", {"io_size": 2}),
]


SPEC_BY_ID = {s.id: s for s in SPECS}


@pytest.fixture(params=SPECS, ids=[s.id for s in SPECS])
def spec(request):
    """Every cell variant; a test narrows it to some with
    ``@pytest.mark.parametrize("spec", ["elman", "lstm"], indirect=True)``."""
    p = request.param
    return SPEC_BY_ID[p] if isinstance(p, str) else p


@pytest.fixture
def x64():
    """float64 inside the test only; restored afterwards so other modules stay float32."""
    with jax.enable_x64(True):
        yield
    assert not jax.config.jax_enable_x64, "float64 leaked out of the test"


def trainable_names(cell):
    """Names of the array fields that are parameters (not None, not fixed data)."""
    return [
        f.name
        for f in dataclasses.fields(cell)
        if f.name not in FROZEN and isinstance(getattr(cell, f.name), jax.Array)
    ]


def max_rel_err(a, b):
    """max|a - b| / max|b| over every leaf of two pytrees (0 when both are zero)."""
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    num = max(
        float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)), initial=0.0))
        for x, y in zip(la, lb, strict=True)
    )
    den = max(float(np.max(np.abs(np.asarray(y, np.float64)), initial=0.0)) for y in lb)
    return num / den if den > 0 else num


def _assert_close(a, b, rtol=1e-5, atol=1e-30):
    """Norm-relative: max|a - b| <= rtol * max|b| + atol, leaf by leaf over pytrees."""
    ta, tb = jax.tree_util.tree_structure(a), jax.tree_util.tree_structure(b)
    assert ta == tb, f"structures differ: {ta} vs {tb}"
    for i, (x, y) in enumerate(
        zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True)
    ):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        assert x.shape == y.shape, f"leaf {i}: shape {x.shape} vs {y.shape}"
        err, scale = np.max(np.abs(x - y), initial=0.0), np.max(np.abs(y), initial=0.0)
        assert err <= rtol * scale + atol, f"leaf {i}: max|a-b| = {err:.3g}, max|b| = {scale:.3g}"


@pytest.fixture
def close():
    """``close(a, b, rtol=1e-5, atol=1e-30)`` asserts pytrees equal to a norm-relative tolerance."""
    return _assert_close


def _random_like(tree, seed, scale=0.5):
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(scale * rng.standard_normal(np.shape(x)), jnp.asarray(x).dtype),
        tree,
    )


@pytest.fixture
def random_like():
    """``random_like(tree, seed, scale=0.5)``: N(0, scale^2) arrays shaped like ``tree``."""
    return _random_like


def _weighted_sum(tree, weights):
    """sum(tree * weights) over matching pytrees: a scalar loss that touches every entry."""
    return sum(
        jnp.sum(a * w)
        for a, w in zip(
            jax.tree_util.tree_leaves(tree), jax.tree_util.tree_leaves(weights), strict=True
        )
    )


@pytest.fixture
def weighted_sum():
    return _weighted_sum


@pytest.fixture
def all_specs():
    """Every cell variant of the catalogue (to check it covers ``rnnlab.CELLS``)."""
    return SPECS
