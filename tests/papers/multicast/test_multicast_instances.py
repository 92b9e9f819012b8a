"""The ``multicast`` generator and block (paper 001, spec unicast_multicast.md §1, §9.2): determinism, the
ngo2017 geometry, the orthogonal pilot pattern τ_t = K_u + G, the block's JSON round trip and hash, its checks,
and ZF with N ≤ K_u + G exiting 2 naming ``antennas`` at the command line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import instances
from instances import InputError, Instance
from instances.generators import multicast as gen
from instances.generators import ngo2017

PARAMS = dict(aps=6, antennas=8, unicast=3, groups=2, group_size=3)


def test_same_seed_same_instance_and_ngo2017_geometry():
    a = instances.generate("multicast", seed=4, **PARAMS)
    b = instances.generate("multicast", seed=4, **PARAMS)
    c = instances.generate("multicast", seed=5, **PARAMS)
    assert a == b and a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash
    base = ngo2017.generate(aps=6, users=9, antennas=8, seed=4, tau_p=5, pilot_power_w=0.2, ap_power_w=1.0)
    np.testing.assert_array_equal(a.beta, base.beta)
    np.testing.assert_array_equal(a.ue_pos, base.ue_pos)


def test_users_pilots_and_block():
    inst = instances.generate("multicast", seed=1, weight_multicast=2.5, **PARAMS)
    blk = inst.block("multicast")
    assert isinstance(blk, gen.MulticastBlock)
    assert blk.group.tolist() == [-1, -1, -1, 0, 0, 0, 1, 1, 1] and blk.G == 2
    assert blk.weights.tolist() == [1.0] * 3 + [2.5] * 6
    assert inst.tau_p == 5 and inst.K == 9
    assert inst.pilots.tolist() == [0, 1, 2, 3, 3, 3, 4, 4, 4]
    assert dict(inst.qos) == {}
    np.testing.assert_allclose(inst.p_ap_max_w, 1.0)
    np.testing.assert_allclose(inst.p_pilot_w, 0.2)
    q = instances.generate("multicast", seed=1, se_min_unicast_bps_hz=0.5, se_min_multicast_bps_hz=0.2,
                           fronthaul_bps_hz=6.0, max_streams_per_ap=3, **PARAMS).qos
    assert dict(q) == {"se_min_unicast_bps_hz": 0.5, "se_min_multicast_bps_hz": 0.2, "fronthaul_bps_hz": 6.0,
                       "max_streams_per_ap": 3.0}


def test_block_json_round_trip_and_hash(tmp_path):
    inst = instances.generate("multicast", seed=2, fronthaul_bps_hz=4.0, **PARAMS)
    path = inst.save(tmp_path / "mc.json")
    stored = json.loads(path.read_text())
    assert stored["blocks"]["multicast"] == inst.block("multicast").to_json()
    back = Instance.load(path)
    assert back == inst and back.content_hash == inst.content_hash
    assert back.block("multicast") == inst.block("multicast")
    # the block is in the hash: other weights, other hash
    other = inst.replace(blocks={"multicast": gen.MulticastBlock(inst.block("multicast").group, np.full(9, 2.0))})
    assert other.content_hash != inst.content_hash


def test_block_checks_name_the_field():
    inst = instances.generate("multicast", seed=2, **PARAMS)
    blk = inst.block("multicast")
    cases = [(gen.MulticastBlock(blk.group[:-1], blk.weights[:-1]), "multicast.group"),
             (gen.MulticastBlock(np.where(blk.group == 1, 2, blk.group), blk.weights), "multicast.group"),
             (gen.MulticastBlock(blk.group, -blk.weights), "multicast.weights"),
             (gen.MulticastBlock(np.where(blk.group == 1, -1, blk.group), blk.weights), "tau_p")]
    for bad, field in cases:
        with pytest.raises(InputError) as exc:
            inst.replace(blocks={"multicast": bad})
        assert exc.value.field == field, (field, exc.value)
    with pytest.raises(InputError) as exc:                      # a group member on another pilot
        inst.replace(pilots=[0, 1, 2, 3, 3, 4, 4, 4, 4])
    assert exc.value.field == "pilots"
    with pytest.raises(InputError) as exc:
        gen.MulticastBlock.from_json({"group": [-1], "weight": [1]})
    assert exc.value.field == "blocks.multicast.weight"


@pytest.mark.parametrize("kw, field", [({"aps": 0}, "aps"), ({"group_size": 0}, "group_size"),
                                       ({"precoding": "mmse"}, "precoding"),
                                       ({"se_min_unicast_bps_hz": -1.0}, "se_min_unicast_bps_hz"),
                                       ({"tau_c": 4}, "tau_c"), ({"precoding": "zf", "antennas": 5}, "antennas")])
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(InputError) as exc:
        instances.generate("multicast", seed=0, **{**PARAMS, **kw})
    assert exc.value.field == field
    instances.generate("multicast", seed=0, **{**PARAMS, "precoding": "zf", "antennas": 6})   # N = S + 1 is fine


def _cfopt(*args):
    exe = shutil.which("cfopt")
    cmd = [exe, *args] if exe else [sys.executable, "-m", "experiments.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_cli_zf_with_too_few_antennas_exits_2_naming_antennas(tmp_path):
    out = tmp_path / "zf.json"
    p = _cfopt("instances", "make", "multicast", "-p", "aps=4", "-p", "antennas=3", "-p", "unicast=2",
               "-p", "groups=1", "-p", "group_size=2", "-p", "precoding=zf", "-o", str(out))
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "antennas" in lines[0] and "Traceback" not in p.stderr
    assert not out.exists()
    p = _cfopt("instances", "make", "multicast", "-p", "aps=4", "-p", "antennas=4", "-p", "unicast=2",
               "-p", "groups=1", "-p", "group_size=2", "-p", "precoding=zf", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert Instance.load(out).block("multicast").G == 1
