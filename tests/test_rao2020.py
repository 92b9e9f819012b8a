"""The Rao 2020 generator (spec iot_nonorthogonal.md §3.1, §3.10) and the ``pilot_seqs`` field of an Instance."""
from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

import instances
from instances import InputError, Instance
from instances.generators import ngo2017
from instances.generators import rao2020


@pytest.fixture(scope="module")
def rnd() -> Instance:
    return rao2020.generate(aps=20, users=12, seed=5, tau_p=6)


def assert_same(a: Instance, b: Instance):
    assert a == b and a.content_hash == b.content_hash
    assert b.pilot_seqs.dtype == np.complex128 and not b.pilot_seqs.flags.writeable
    assert np.array_equal(a.pilot_seqs, b.pilot_seqs)  # bit for bit


# ----------------------------------------------------------------------------------------------------- generator
@pytest.mark.parametrize("mode", rao2020.PILOT_MODES)
def test_pilot_columns_have_unit_norm(mode):
    inst = rao2020.generate(aps=8, users=5, seed=2, tau_p=5 if mode == "orthonormal" else 3, pilots=mode)
    psi = inst.pilot_matrix()
    assert psi.shape == (inst.tau_p, 5) and psi.dtype == np.complex128
    np.testing.assert_allclose(np.linalg.norm(psi, axis=0), 1.0, atol=1e-12)
    assert inst.meta["generator"] == "rao2020" and inst.meta["params"]["pilots"] == mode
    assert inst.name == f"rao2020-M8-K5-tp{inst.tau_p}-s2"


def test_random_pilots_non_orthogonal_and_seeded(rnd):
    psi = rnd.pilot_seqs
    gram = psi.conj().T @ psi
    off = np.abs(gram[~np.eye(rnd.K, dtype=bool)])
    assert off.min() > 0 and off.max() < 1 - 1e-6      # non-orthogonal, yet all distinct
    assert rnd.pilots is None
    again = rao2020.generate(aps=20, users=12, seed=5, tau_p=6)
    assert np.array_equal(again.pilot_seqs, psi) and again.content_hash == rnd.content_hash
    other = rao2020.generate(aps=20, users=12, seed=6, tau_p=6)
    assert not np.allclose(other.pilot_seqs, psi)
    # the pilot stream is independent of the geometry's: the shadowing mode does not change the pilots
    assert np.array_equal(rao2020.generate(aps=20, users=12, seed=5, tau_p=6, shadowing="correlated").pilot_seqs,
                          psi)


def test_random_pilots_are_isotropic():
    """Uniform on the complex unit sphere: E[ψ ψ^H] = I/τ_p and the phase of each entry is uniform."""
    tau_p = 4
    psi = rao2020.random_pilots(tau_p, 20000, np.random.default_rng(0))
    cov = psi @ psi.conj().T / psi.shape[1]
    np.testing.assert_allclose(cov, np.eye(tau_p) / tau_p, atol=0.01)
    assert abs(np.mean(psi)) < 0.01


def test_qpsk_pilots_alphabet():
    inst = rao2020.generate(aps=5, users=10, seed=3, tau_p=4, pilots="qpsk")
    psi = inst.pilot_seqs
    scale = np.sqrt(2 * 4)
    np.testing.assert_allclose(np.abs(psi.real * scale), 1.0)
    np.testing.assert_allclose(np.abs(psi.imag * scale), 1.0)
    assert inst.pilots is None


def test_beta_and_geometry_equal_ngo2017():
    for shadowing in ("uncorrelated", "correlated"):
        kw = dict(aps=15, users=9, seed=11, tau_p=4, shadowing=shadowing, tau_c=150)
        r = rao2020.generate(**kw)
        n = ngo2017.generate(**kw)
        for f in ("ap_pos", "ue_pos", "beta", "p_ue_max_w", "p_pilot_w", "p_ap_max_w", "antennas"):
            assert np.array_equal(getattr(r, f), getattr(n, f)), f
        assert (r.noise_w, r.tau_p, r.tau_c, r.bandwidth_hz) == (n.noise_w, n.tau_p, n.tau_c, n.bandwidth_hz)


def test_orthonormal_pilots():
    inst = rao2020.generate(aps=6, users=4, seed=0, tau_p=5, pilots="orthonormal")
    psi = inst.pilot_matrix()
    np.testing.assert_array_equal(psi.conj().T @ psi, np.eye(4))
    assert inst.pilots.tolist() == [0, 1, 2, 3]
    with pytest.raises(InputError) as exc:
        rao2020.generate(aps=6, users=4, seed=0, tau_p=3, pilots="orthonormal")
    assert exc.value.field == "tau_p"


def test_dispatch_and_parameter_errors():
    inst = instances.generate("rao2020", seed=1, aps=10, users=8, tau_p=4)
    assert (inst.M, inst.K, inst.tau_p) == (10, 8, 4) and inst.pilot_seqs.shape == (4, 8)
    with pytest.raises(InputError) as exc:
        instances.generate("rao2020", seed=1, aps=10, users=8, tau_p=4, pilots="gold")
    assert exc.value.field == "pilots" and "random" in exc.value.message
    for bad, field in ((dict(aps=0), "aps"), (dict(tau_p=0), "tau_p"), (dict(tau_p=300), "tau_p"),
                       (dict(seed=-1), "seed"), (dict(shadowing="x"), "shadowing"),
                       (dict(ue_power_w=0.0), "ue_power_w"), (dict(area_km=-1.0), "area_km")):
        kw = dict(aps=10, users=8, seed=1, tau_p=4)
        kw.update(bad)
        with pytest.raises(InputError) as exc:
            rao2020.generate(**kw)
        assert exc.value.field == field, bad


# -------------------------------------------------------------------------------------------------- pilot_seqs
def test_json_round_trip_and_pickle(rnd, tmp_path):
    path = rnd.save(tmp_path / "r.json")
    data = json.loads(path.read_text())
    assert np.shape(data["blocks"]["pilots"]["sequences"]) == (rnd.tau_p, rnd.K, 2)
    assert "pilot_seqs" not in data             # written as the pilots block
    assert data["content_hash"] == rnd.content_hash and data["pilots"] is None
    assert_same(rnd, Instance.load(path))
    assert_same(rnd, Instance.from_dict(rnd.to_dict()))
    for copy_of in (lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy):
        assert_same(rnd, copy_of(rnd))
    # editing one pilot entry breaks the stored hash
    data["blocks"]["pilots"]["sequences"][0][0][0] *= -1
    with pytest.raises(InputError) as exc:
        Instance.from_dict(data)
    assert exc.value.field in ("content_hash", "pilot_seqs")


def test_old_files_with_top_level_pilot_seqs_load_with_the_same_hash(rnd, tmp_path):
    """Files written before the pilots block (top-level ``pilot_seqs`` [tau_p][K][2]) load into the block, and
    the hash (pinned by cards and tests) is the one stored in the file."""
    data = rnd.to_dict()
    data["pilot_seqs"] = data.pop("blocks")["pilots"]["sequences"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    back = Instance.load(old)
    assert back.content_hash == rnd.content_hash == data["content_hash"]
    assert np.array_equal(back.pilot_seqs, rnd.pilot_seqs) and back.block("pilots") == rnd.block("pilots")
    assert not back.pilot_seqs.flags.writeable
    with pytest.raises(AttributeError):
        back.pilot_seqs = None                    # a read-only property now
    data["pilot_seqs"][0][0][0] *= -1
    with pytest.raises(InputError) as exc:
        Instance.from_dict(data)
    assert exc.value.field == "content_hash"
    both = dict(data, blocks={"pilots": {"sequences": data["pilot_seqs"]}})
    with pytest.raises(InputError) as exc:
        Instance.from_dict(both)
    assert exc.value.field == "pilot_seqs"


#: content hashes of the library's rao2020 instances, stored before the pilots block existed
_IOT_HASHES = {"tiny-iot-01": "f0e148a0fc770874", "tiny-iot-02": "d11d7e5d1d046f90",
               "tiny-iot-03": "4faf20172259d578", "tiny-iot-04": "5d67acde3f87e4d7",
               "tiny-iot-05": "92c171df5c107422", "tiny-iot-06": "9dcf0ec248590c5e"}


@pytest.mark.parametrize("name", sorted(_IOT_HASHES))
def test_library_pilot_block_hashes_unchanged(name):
    inst = instances.load(name)
    assert inst.content_hash == _IOT_HASHES[name] and inst.pilot_seqs is not None


def test_hash_and_file_unchanged_without_pilot_seqs(rnd):
    lib = instances.load("tiny-ulee-01")            # stored hash still valid
    assert lib.pilot_seqs is None and "pilot_seqs" not in lib.to_dict()
    assert "pilot_seqs" not in lib._canonical
    # setting the field changes the hash; setting it back restores it
    psi = lib.pilot_matrix()
    with_seqs = lib.replace(pilot_seqs=psi)
    assert with_seqs.content_hash != lib.content_hash
    assert with_seqs.replace(pilot_seqs=None).content_hash == lib.content_hash


def test_both_pilots_and_pilot_seqs_allowed_seqs_win():
    inst = rao2020.generate(aps=4, users=3, seed=0, tau_p=3, pilots="orthonormal")
    psi = rao2020.random_pilots(3, 3, np.random.default_rng(1))
    both = inst.replace(pilot_seqs=psi)
    assert both.pilots is not None
    np.testing.assert_array_equal(both.pilot_matrix(), psi)


def test_pilot_matrix_from_indices_is_one_hot():
    inst = ngo2017.generate(aps=4, users=5, seed=3, tau_p=3, pilot_assignment="random")
    psi = inst.pilot_matrix()
    assert psi.shape == (3, 5) and psi.dtype == np.complex128 and not psi.flags.writeable
    expected = np.zeros((3, 5))
    expected[inst.pilots, np.arange(5)] = 1.0
    np.testing.assert_array_equal(psi, expected)
    with pytest.raises(InputError) as exc:
        inst.replace(pilots=None).pilot_matrix()
    assert exc.value.field == "pilots"


def test_accepts_complex_and_pair_forms(rnd):
    psi = np.asarray(rnd.pilot_seqs)
    pairs = np.stack([psi.real, psi.imag], axis=-1).tolist()
    assert np.array_equal(rnd.replace(pilot_seqs=pairs).pilot_seqs, psi)
    assert np.array_equal(rnd.replace(pilot_seqs=psi.tolist()).pilot_seqs, psi)   # Python complex lists
    real = np.eye(rnd.tau_p)[:, np.arange(rnd.K) % rnd.tau_p]                       # real entries
    assert rnd.replace(pilot_seqs=real).pilot_seqs.dtype == np.complex128


@pytest.mark.parametrize("change, words", [
    (lambda p: p * 1.01, "column 0"),
    (lambda p: np.concatenate([p[:, :1], 2 * p[:, 1:2], p[:, 2:]], axis=1), "column 1"),
    (lambda p: p[:, :-1], "shape"),
    (lambda p: p[:-1], "shape"),
    (lambda p: np.where(np.arange(p.shape[1]) == 2, np.nan, p), "non-finite"),
    (lambda p: "psi", "array"),
])
def test_bad_pilot_seqs_name_the_field(rnd, change, words):
    with pytest.raises(InputError) as exc:
        rnd.replace(pilot_seqs=change(np.asarray(rnd.pilot_seqs)))
    assert exc.value.field == "pilot_seqs"
    assert words in exc.value.message
    with pytest.raises(InputError) as exc:      # tau_p no longer matches the pilot length
        rnd.replace(tau_p=rnd.tau_p + 1)
    assert exc.value.field == "pilot_seqs"
