"""Instance: validation naming the field, read-only data, JSON round trip with a content hash, the library."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import numpy as np
import pytest

import instances
from instances import InputError, Instance, units
from instances.instance import CANONICAL_UNITS, DEFAULT_POWER_MODEL


def base_kwargs(**over):
    kw = dict(name="tiny", ap_pos=[[0.0, 0.0], [100.0, 0.0]], ue_pos=[[10.0, 5.0], [60.0, -20.0], [90.0, 40.0]],
              beta=[[1e-9, 2e-11, 3e-12], [4e-12, 5e-11, 6e-10]], noise_w=6.3e-13,
              p_ue_max_w=[0.1, 0.1, 0.1], p_pilot_w=[0.1, 0.1, 0.1], p_ap_max_w=[0.2, 0.2], antennas=[1, 2],
              tau_p=2, tau_c=200, bandwidth_hz=20e6, pilots=[0, 1, 0], qos={"se_min_bps_hz": 0.5},
              meta={"generator": "hand", "seed": None, "units": {"beta": "1", "ap_pos": "m"}},
              card={"problems": ["uplink-ee"], "optimum": {"uplink-ee": 1.25},
                    "certified_by": {"uplink-ee": "scip 10.0.0"}})
    kw.update(over)
    return kw


@pytest.fixture
def tiny() -> Instance:
    return Instance(**base_kwargs())


def assert_same(a: Instance, b: Instance):
    for f in dataclasses.fields(Instance):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


# ------------------------------------------------------------------------------------------------ construction
def test_fields_are_converted_and_properties(tiny):
    assert (tiny.M, tiny.K) == (2, 3)
    assert tiny.beta.dtype == float and tiny.antennas.dtype == np.int64 and tiny.pilots.dtype == np.int64
    np.testing.assert_allclose(tiny.beta_db, 10 * np.log10(tiny.beta))
    np.testing.assert_allclose(tiny.noise_normalised_beta, tiny.beta / 6.3e-13)
    assert tiny.noise_dbm == pytest.approx(10 * np.log10(6.3e-13) + 30)
    assert tiny.sizes == {"M": 2, "K": 3, "antennas": [1, 2], "tau_p": 2, "tau_c": 200}
    assert dict(tiny.power_model) == DEFAULT_POWER_MODEL


def test_create_broadcasts_scalars_and_fills_units():
    kw = base_kwargs(p_ue_max_w=0.1, p_pilot_w=0.05, p_ap_max_w=0.2, antennas=4, meta={})
    inst = Instance.create(**kw)
    np.testing.assert_array_equal(inst.p_ue_max_w, [0.1] * 3)
    np.testing.assert_array_equal(inst.p_pilot_w, [0.05] * 3)
    np.testing.assert_array_equal(inst.antennas, [4, 4])
    for k, u in CANONICAL_UNITS.items():
        assert inst.meta["units"][k] == u
    assert inst.meta["units"]["power_model.p_cpu_decode_w_per_gbps"] == "W/(Gbit/s)"


def test_arrays_and_mappings_are_read_only(tiny):
    for name in ("ap_pos", "ue_pos", "beta", "p_ue_max_w", "p_pilot_w", "p_ap_max_w", "antennas", "pilots"):
        arr = getattr(tiny, name)
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.noise_w = 1.0
    with pytest.raises(TypeError):
        tiny.meta["seed"] = 3
    with pytest.raises(TypeError):
        tiny.meta["units"]["beta"] = "dB"
    with pytest.raises(TypeError):
        tiny.power_model["zeta"] = 1.0
    with pytest.raises(TypeError):
        tiny.qos["se_min_bps_hz"] = 0.0
    per_ue = Instance(**base_kwargs(qos={"se_min_bps_hz": [0.1, 0.2, 0.3]}))
    assert not per_ue.qos["se_min_bps_hz"].flags.writeable


def test_caller_arrays_are_copied():
    beta = np.array([[1e-9, 2e-11, 3e-12], [4e-12, 5e-11, 6e-10]])
    meta = {"units": {"beta": "1"}}
    inst = Instance(**base_kwargs(beta=beta, meta=meta))
    h = inst.content_hash
    beta[0, 0] = 5.0
    meta["units"]["beta"] = "dB"
    assert inst.beta[0, 0] == 1e-9 and inst.meta["units"]["beta"] == "1"
    assert Instance(**base_kwargs(meta={"units": {"beta": "1"}})).content_hash == h


# -------------------------------------------------------------------------------------------------- validation
BAD = [
    ("beta", dict(beta=[[np.nan, 2e-11, 3e-12], [4e-12, 5e-11, 6e-10]]), "NaN"),
    ("beta", dict(beta=[[np.inf, 2e-11, 3e-12], [4e-12, 5e-11, 6e-10]]), "infinite"),
    ("beta", dict(beta=[[1e-9, -2e-11, 3e-12], [4e-12, 5e-11, 6e-10]]), "negative"),
    ("beta", dict(beta=[[1e-9, 2e-11], [4e-12, 5e-11]]), "(2, 2)"),
    ("beta", dict(beta="1e-9"), "array"),
    ("beta", dict(beta=[[1e-9, "x", 3e-12], [4e-12, 5e-11, 6e-10]]), "dtype"),
    ("beta", dict(beta=[[1e-9, 2e-11, 3e-12], [4e-12, 5e-11]]), "rectangular"),
    ("p_ue_max_w", dict(p_ue_max_w=[0.1, 0.0, 0.1]), "non-positive"),
    ("p_pilot_w", dict(p_pilot_w=[0.1, -0.1, 0.1]), "non-positive"),
    ("p_ap_max_w", dict(p_ap_max_w=[0.2, 0.0]), "non-positive"),
    ("p_ue_max_w", dict(p_ue_max_w=[0.1, 0.1]), "(2,)"),
    ("noise_w", dict(noise_w=0.0), "positive"),
    ("noise_w", dict(noise_w=float("nan")), "positive"),
    ("noise_w", dict(noise_w="1e-13"), "number"),
    ("bandwidth_hz", dict(bandwidth_hz=-20e6), "positive"),
    ("ap_pos", dict(ap_pos=[0.0, 0.0]), "shape"),
    ("ue_pos", dict(ue_pos=[[0.0, 0.0, 1.0]] * 3), "shape"),
    ("antennas", dict(antennas=[1, 0]), "non-positive"),
    ("antennas", dict(antennas=[1, 1.5]), "integers"),
    ("tau_p", dict(tau_p=201), "exceeds tau_c"),
    ("tau_p", dict(tau_p=0), "≥ 1"),
    ("tau_c", dict(tau_c=0, tau_p=1), "≥ 1"),
    ("pilots", dict(pilots=[0, 2, 0]), "outside"),
    ("pilots", dict(pilots=[0, 1]), "(2,)"),
    ("meta.units.beta", dict(meta={"units": {"beta": "furlong"}}), "unknown unit"),
    ("meta.units.ap_pos", dict(meta={"units": {"ap_pos": "km"}}), "stores ap_pos in 'm'"),
    ("meta.bad", dict(meta={"bad": object()}), "JSON"),
    ("meta", dict(meta={"bad": float("nan")}), "JSON"),
    ("power_model.zeta", dict(power_model={"zeta": 1.5}), "(0, 1]"),
    ("power_model.p_fh_fixed_w", dict(power_model={"p_fh_fixed_w": -1}), "≥ 0"),
    ("qos.se_min_bps_hz", dict(qos={"se_min_bps_hz": float("nan")}), "finite"),
    ("card.optimum", dict(card={"problems": [], "optimum": {"uplink-ee": 1.0}}), "not in card.problems"),
    ("card.certified_by", dict(card={"problems": ["x"], "certified_by": {"x": "scip"}}), "no card.optimum"),
    ("name", dict(name=""), "non-empty"),
]


@pytest.mark.parametrize("field, change, words", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_field(field, change, words):
    with pytest.raises(InputError) as exc:
        Instance(**base_kwargs(**change))
    assert exc.value.field == field
    assert str(exc.value).startswith(f"{field}: ")
    assert words in exc.value.message


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(InputError) as exc:
        Instance(**base_kwargs(beta=np.ones((2, 4)) * 1e-10))
    assert exc.value.field == "beta"
    assert "(2, 4)" in exc.value.message and "(2, 3)" in exc.value.message


def test_check_does_not_correct(tiny):
    before = tiny.to_dict()
    assert tiny.check() is tiny
    assert tiny.to_dict() == before
    # zero fading (no link) is allowed: beta is a gain >= 0, never clipped or replaced
    z = Instance(**base_kwargs(beta=[[0.0, 2e-11, 3e-12], [4e-12, 5e-11, 6e-10]]))
    assert z.beta[0, 0] == 0.0 and z.beta_db[0, 0] == -np.inf


def test_replace_validates(tiny):
    new = tiny.replace(noise_w=1e-12)
    assert new.noise_w == 1e-12 and tiny.noise_w == 6.3e-13
    assert new.content_hash != tiny.content_hash and new.card == tiny.card
    with pytest.raises(InputError) as exc:
        tiny.replace(p_ue_max_w=[0.1, 0.1, -1.0])
    assert exc.value.field == "p_ue_max_w"
    with pytest.raises(InputError) as exc:
        tiny.replace(colour="red")
    assert exc.value.field == "colour"


# ------------------------------------------------------------------------------------------------ serialisation
def test_json_round_trip_preserves_everything_and_hash(tiny, tmp_path):
    path = tiny.save(tmp_path / "tiny.json")
    back = Instance.load(path)
    assert_same(tiny, back)
    assert back == tiny and back.content_hash == tiny.content_hash
    assert json.loads(path.read_text())["content_hash"] == tiny.content_hash
    assert not back.beta.flags.writeable
    assert_same(Instance.from_dict(tiny.to_dict()), tiny)
    # floats survive bit-for-bit
    gen = instances.generate("ngo2017", seed=11, aps=7, users=4, antennas=2)
    back = Instance.load(gen.save(tmp_path / "gen.json"))
    assert_same(gen, back)
    assert back.content_hash == gen.content_hash


def test_pickle_and_deepcopy_round_trip(tiny):
    for copy_of in (lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy):
        back = copy_of(tiny)
        assert back == tiny and back.content_hash == tiny.content_hash
        assert_same(back, tiny)
        assert not back.beta.flags.writeable


def test_hash_covers_physics_and_meta_not_name_or_card(tiny):
    h = tiny.content_hash
    assert len(h) == 16 and int(h, 16) >= 0
    assert tiny.replace(name="other").content_hash == h
    assert tiny.replace(card={}).content_hash == h
    assert tiny.replace(meta={"generator": "hand", "seed": 1}).content_hash != h
    assert tiny.replace(tau_p=1, pilots=[0, 0, 0]).content_hash != h
    assert tiny.replace(qos={}).content_hash != h


def _edit_first_beta(text: str, factor: float) -> str:
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith('  "beta"'))
    row_text = lines[i + 1].strip()
    comma = row_text.endswith(",")
    row = json.loads(row_text.rstrip(","))
    row[0] *= factor
    lines[i + 1] = "    " + json.dumps(row) + ("," if comma else "")
    return "\n".join(lines) + "\n"


def test_hand_corrupted_file_is_rejected(tiny, tmp_path):
    path = tiny.save(tmp_path / "tiny.json")
    path.write_text(_edit_first_beta(path.read_text(), 1.001))
    with pytest.raises(InputError) as exc:
        Instance.load(path)
    assert exc.value.field == "content_hash"
    assert str(path) in exc.value.message
    # a deliberate hand edit: drop the stored hash and the file loads (with a new hash)
    data = json.loads(path.read_text())
    del data["content_hash"]
    path.write_text(json.dumps(data))
    edited = Instance.load(path)
    assert edited.beta[0, 0] == pytest.approx(1e-9 * 1.001)
    assert edited.content_hash != tiny.content_hash


def test_corrupted_value_is_rejected_even_without_hash(tiny, tmp_path):
    data = tiny.to_dict()
    del data["content_hash"]
    data["beta"][1][2] = -1e-10
    path = tmp_path / "neg.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as exc:
        Instance.load(path)
    assert exc.value.field == "beta"


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("beta"), "beta"),
    (lambda d: d.pop("tau_c"), "tau_c"),
    (lambda d: d.update(beta="oops"), "beta"),
    (lambda d: d.update(tau_p="2"), "tau_p"),
    (lambda d: d.update(meta=[1, 2]), "meta"),
    (lambda d: d.update(card="none"), "card"),
    (lambda d: d.update(power_model={"zeta": "0.4"}), "power_model.zeta"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(format_version=99), "format_version"),
    (lambda d: d.update(content_hash=12), "content_hash"),
])
def test_malformed_dict_names_the_field(tiny, mutate, field):
    data = tiny.to_dict()
    mutate(data)
    with pytest.raises(InputError) as exc:
        Instance.from_dict(data)
    assert exc.value.field == field


def test_unreadable_or_non_json_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", ')
    with pytest.raises(InputError) as exc:
        Instance.load(bad)
    assert exc.value.field == "file" and "not valid JSON" in exc.value.message
    with pytest.raises(InputError) as exc:
        Instance.load(tmp_path / "missing.json")
    assert exc.value.field == "file"
    with pytest.raises(InputError) as exc:
        Instance.load(tmp_path)  # a directory
    assert exc.value.field == "file"
    lst = tmp_path / "list.json"
    lst.write_text("[1, 2]")
    with pytest.raises(InputError) as exc:
        Instance.load(lst)
    assert exc.value.field == "instance"
    with pytest.raises(InputError) as exc:
        Instance(**base_kwargs()).save(tmp_path / "no" / "dir" / "x.json")
    assert exc.value.field == "file"


# ------------------------------------------------------------------------------------------------------- units
def test_units_conversions_are_vectorised_and_consistent():
    x = np.array([-30.0, 0.0, 3.0, 20.0])
    np.testing.assert_allclose(units.lin_to_db(units.db_to_lin(x)), x)
    np.testing.assert_allclose(units.dbm_to_w([30.0, 0.0, -30.0]), [1.0, 1e-3, 1e-6])
    np.testing.assert_allclose(units.w_to_dbm(units.dbm_to_w(x)), x)
    assert units.w_to_mw(0.2) == pytest.approx(200.0) and units.mw_to_w(100) == pytest.approx(0.1)
    assert units.km_to_m(1.0) == 1000.0 and units.m_to_km(50.0) == 0.05
    assert float(units.w_to_dbm(units.noise_power_w(20e6, 9.0))) == pytest.approx(-174 + 10 * np.log10(2e7) + 9)
    np.testing.assert_allclose(units.w_to_dbm(units.noise_power_w([1e6, 1e7], 0.0)), [-114.0, -104.0])
    with pytest.raises(InputError) as exc:
        units.noise_power_w(0.0, 9.0)
    assert exc.value.field == "bandwidth_hz"


def test_check_unit():
    assert units.check_unit("x", "dBm") == "dBm"
    with pytest.raises(InputError) as exc:
        units.check_unit("meta.units.p", "hp")
    assert exc.value.field == "meta.units.p" and "known:" in exc.value.message


# ----------------------------------------------------------------------------------------------------- library
def test_library_load_list_and_errors(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(instances.library, "LIBRARY_DIR", tmp_path)
    assert instances.list_library() == []
    with pytest.raises(InputError) as exc:
        instances.load("tiny")
    assert exc.value.field == "instance" and "empty" in exc.value.message

    instances.save(tiny, tmp_path / "tiny.json")
    gen = instances.generate("ngo2017", seed=2, aps=5, users=3)
    gen.save(tmp_path / "gen5.json")
    lst = instances.list_library()
    assert [e["name"] for e in lst] == ["gen5", "tiny"]
    e = lst[1]
    assert e["problems"] == ["uplink-ee"] and e["optimum"] == {"uplink-ee": 1.25}
    assert e["certified_by"] == {"uplink-ee": "scip 10.0.0"}
    assert e["sizes"] == {"M": 2, "K": 3, "antennas": [1, 2], "tau_p": 2, "tau_c": 200}
    assert lst[0]["problems"] == [] and lst[0]["optimum"] == {} and lst[0]["sizes"]["antennas"] == 1
    json.dumps(lst)  # the `cfopt instances list --json` payload

    assert instances.load("tiny") == tiny
    assert instances.load(str(tmp_path / "gen5.json")) == gen
    assert instances.load(tmp_path / "gen5.json") == gen
    with pytest.raises(InputError) as exc:
        instances.load("nope")
    assert exc.value.field == "instance" and "gen5, tiny" in exc.value.message
    with pytest.raises(InputError) as exc:
        instances.load("/no/such/file.json")
    assert exc.value.field == "instance" and "no such file" in exc.value.message


def test_library_dir_argument(tiny, tmp_path):
    tiny.save(tmp_path / "t.json")
    assert [e["name"] for e in instances.list_library(tmp_path)] == ["t"]
    assert instances.load("t", library_dir=tmp_path) == tiny


def test_generate_dispatch_errors():
    with pytest.raises(InputError) as exc:
        instances.generate("hexagon", seed=0, aps=2, users=2)
    assert exc.value.field == "scenario" and "ngo2017" in exc.value.message
    with pytest.raises(InputError) as exc:
        instances.generate("ngo2017", seed=0, aps=2, users=2, colour="red")
    assert exc.value.field == "colour"
    # every module of instances/generators registers its generator(s); no list names them
    import pkgutil

    import instances.generators as gens

    modules = {f"instances.generators.{m.name}" for m in pkgutil.iter_modules(gens.__path__)}
    assert {"ngo2017", "rao2020"} <= set(instances.GENERATORS)
    assert {g.__module__ for g in instances.GENERATORS.values()} == modules


# ----------------------------------------------------------------------------------------- blocks and registration
def test_blocks_are_typed_checked_and_hashed(tiny):
    from instances.blocks import BLOCKS, PilotBlock

    assert "pilots" in BLOCKS and tiny.blocks == {} and tiny.block("pilots") is None and tiny.pilot_seqs is None
    psi = np.eye(tiny.tau_p, tiny.K, dtype=complex)[:, [0, 1, 0]] if tiny.tau_p < tiny.K else np.eye(tiny.K)
    with_block = tiny.replace(blocks={"pilots": PilotBlock(psi)})
    assert with_block.content_hash != tiny.content_hash
    assert with_block == tiny.replace(pilot_seqs=psi)                     # the legacy keyword sets the same block
    assert with_block.replace(blocks={}).content_hash == tiny.content_hash
    d = with_block.to_dict()
    assert set(d["blocks"]) == {"pilots"} and "pilot_seqs" not in d and "blocks" not in tiny.to_dict()
    assert Instance.from_dict(d) == with_block
    with pytest.raises(InputError) as exc:
        tiny.replace(blocks={"nosuchblock": {"groups": [0]}})
    assert exc.value.field == "blocks.nosuchblock"
    with pytest.raises(InputError) as exc:
        Instance.from_dict({**d, "blocks": {"pilots": {"sequences": d["blocks"]["pilots"]["sequences"], "x": 1}}})
    assert exc.value.field == "blocks.pilots.x"


def test_generators_register_themselves():
    from instances.generators import discover, register_generator

    reg = discover()
    assert reg["ngo2017"] is instances.ngo2017.generate and reg["rao2020"] is instances.generators.rao2020.generate
    with pytest.raises(ValueError):
        register_generator("ngo2017")(lambda *, seed: None)
    with pytest.raises(InputError) as exc:
        instances.generate("hexagon", seed=0)
    assert exc.value.field == "scenario" and "ngo2017" in exc.value.message
