"""Fuzzer-found bad inputs (issue 10 point 5): each exits with code 2 and one line naming the field, no traceback,
before any work starts. The CLI runs in-process (``experiments.cli.main``)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import instances
from experiments import pareto
from experiments.cli import main
from experiments.paths import check_writable
from instances import InputError, Instance

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "iot_uplink_small.toml"


def user_error(capsys, argv, field):
    """Run the CLI; assert exit 2 and exactly one stderr line ``cfopt: error: <field>...``; return that line."""
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert rc == 2, (rc, out.out, out.err)
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith(f"cfopt: error: {field}"), lines[0]
    return lines[0]


@pytest.fixture
def instance_dict():
    """A small valid instance as the JSON dict of a file, without content_hash (hand edits allowed)."""
    d = instances.generate("ngo2017", seed=1, aps=3, users=2).to_dict()
    del d["content_hash"]
    return d


def write(tmp_path, data, name="bad.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


# ------------------------------------------------------------------------------- 1. numbers beyond the float range
BIG = 10 ** 400


@pytest.mark.parametrize("field, edit", [
    ("beta", lambda d: d["beta"][0].__setitem__(1, BIG)),
    ("ap_pos", lambda d: d["ap_pos"][2].__setitem__(0, -BIG)),
    ("noise_w", lambda d: d.__setitem__("noise_w", BIG)),
    ("bandwidth_hz", lambda d: d.__setitem__("bandwidth_hz", BIG)),
    ("tau_c", lambda d: d.__setitem__("tau_c", BIG)),
    ("antennas", lambda d: d.__setitem__("antennas", [1, BIG, 1])),
    ("pilots", lambda d: d.__setitem__("pilots", [0, BIG])),
    ("power_model.zeta", lambda d: d["power_model"].__setitem__("zeta", BIG)),
    ("qos.sum_se_min_bps_hz", lambda d: d.__setitem__("qos", {"sum_se_min_bps_hz": BIG})),
    ("qos.sinr_target", lambda d: d.__setitem__("qos", {"sinr_target": [1.5, BIG]})),
    ("card.optimum.uplink-ee", lambda d: d.__setitem__("card", {"problems": ["uplink-ee"],
                                                                "optimum": {"uplink-ee": BIG}})),
])
def test_400_digit_integers_name_the_field(tmp_path, capsys, instance_dict, field, edit):
    edit(instance_dict)
    line = user_error(capsys, ["instances", "show", write(tmp_path, instance_dict)], field)
    assert len(line) < 300                        # the 400 digits are not echoed


@pytest.mark.parametrize("field, key", [("noise_w", "noise_w"), ("beta", "beta"), ("tau_c", "tau_c"),
                                        ("p_ue_max_w", "p_ue_max_w"), ("power_model.zeta", "power_model"),
                                        ("qos.sum_se_min_bps_hz", "qos")])
def test_json_1e400_is_infinite_and_rejected(tmp_path, capsys, instance_dict, field, key):
    marker = "__HUGE__"
    if key == "beta":
        instance_dict["beta"][1][0] = marker
    elif key == "p_ue_max_w":
        instance_dict["p_ue_max_w"][1] = marker
    elif key == "power_model":
        instance_dict["power_model"]["zeta"] = marker
    elif key == "qos":
        instance_dict["qos"] = {"sum_se_min_bps_hz": marker}
    else:
        instance_dict[key] = marker
    text = json.dumps(instance_dict).replace(f'"{marker}"', "1e400")   # json.loads reads 1e400 as inf
    user_error(capsys, ["instances", "show", write(tmp_path, text)], field)


def test_python_api_names_the_overflowing_field(instance_dict):
    instance_dict["p_ap_max_w"] = [1.0, 2.0, BIG]
    with pytest.raises(InputError) as exc:
        Instance.from_dict(instance_dict)
    assert exc.value.field == "p_ap_max_w" and "too large" in exc.value.message


# ------------------------------------------------------------------------------- 2. deeply nested files
@pytest.mark.parametrize("text", ["[" * 200_000 + "]" * 200_000,
                                  '{"name": ' + "[" * 200_000 + "]" * 200_000 + "}"])
def test_file_nested_200000_deep(tmp_path, capsys, text):
    line = user_error(capsys, ["instances", "show", write(tmp_path, text)], "file")
    assert "nested too deeply" in line


# ------------------------------------------------------------------------------- 3. sizes that cannot fit in memory
GIB_ESTIMATE = re.compile(r"would need ~[0-9.e+]+ GiB of memory, more than the [0-9.e+]+ GiB available")


@pytest.mark.parametrize("argv, field", [
    (["ngo2017", "--aps", 10 ** 12, "--users", 4], "--aps"),
    (["ngo2017", "--aps", 4, "--users", 10 ** 12, "--tau-p", 4], "--users"),
    (["rao2020", "--aps", 4, "--users", 4, "--tau-p", 10 ** 12, "--tau-c", 10 ** 12], "--tau-p"),
])
def test_absurd_sizes_are_refused_with_an_estimate(tmp_path, capsys, argv, field):
    out = tmp_path / "x.json"
    line = user_error(capsys, ["instances", "make", *argv, "-o", out], field)
    assert GIB_ESTIMATE.search(line), line
    assert not out.exists()


@pytest.mark.parametrize("area", ["1e308", "1e5", "0", "-1", "inf", "nan"])
def test_area_km_must_be_finite_positive_and_capped(tmp_path, capsys, area):
    user_error(capsys, ["instances", "make", "ngo2017", "--aps", 3, "--users", 2, "--area-km", area,
                        "-o", tmp_path / "x.json"], "--area-km")


def test_generators_refuse_the_same_through_the_python_api(monkeypatch):
    for scenario, kw, field in [("ngo2017", dict(aps=10 ** 12, users=4), "aps"),
                                ("ngo2017", dict(aps=10 ** 400, users=4), "aps"),
                                ("rao2020", dict(aps=4, users=4, tau_p=10 ** 12, tau_c=10 ** 12), "tau_p"),
                                ("ngo2017", dict(aps=3, users=2, area_km=1e308), "area_km")]:
        with pytest.raises(InputError) as exc:
            instances.generate(scenario, seed=0, **kw)
        assert exc.value.field == field and len(str(exc.value)) < 300
    # the estimate is compared with what is available: 40 APs × 30 UEs need ~0.4 MB, refused below that
    monkeypatch.setattr(instances.memory, "available_bytes", lambda: 1e5)
    with pytest.raises(InputError, match=r"aps: ngo2017 with aps = 40, users = 30 would need ~0\.000"):
        instances.generate("ngo2017", seed=0, aps=40, users=30)
    monkeypatch.setattr(instances.memory, "available_bytes", lambda: 1e9)
    assert instances.generate("ngo2017", seed=0, aps=40, users=30).M == 40


# ------------------------------------------------------------------------------- 4. negative seed
def test_pareto_negative_seed(capsys):
    user_error(capsys, ["pareto", "uplink-ee", "--instance", "tiny-ulee-01", "--method", "exact", "--seed", -1,
                        "--quiet"], "--seed")
    with pytest.raises(InputError) as exc:
        pareto.sweep("uplink-ee", "tiny-ulee-01", "exact", 3, seed=-1)
    assert exc.value.field == "--seed"


# ------------------------------------------------------------------------------- 5. output paths
@pytest.fixture
def afile(tmp_path):
    f = tmp_path / "somefile.txt"
    f.write_text("a regular file\n")
    return f


def _pareto(*opts):
    return ["pareto", "uplink-ee", "--instance", "tiny-ulee-01", "--method", "exact", "--quiet", *opts]


@pytest.mark.parametrize("make_argv, field", [
    (lambda f: _pareto("--out", f / "x.csv"), "--out"),
    (lambda f: _pareto("--plot", f / "x.png"), "--plot"),
    (lambda f: _pareto("--out", f.parent), "--out"),                       # a directory, not a file
    (lambda f: ["reproduce", "khan-fig2", "--out", f / "sub", "--quiet"], "--out"),
    (lambda f: ["reproduce", "khan-fig2", "--out", f, "--quiet"], "--out"),   # a file, not a directory
    (lambda f: ["reproduce", "khan-fig2", "--out", f.parent / "out", "--db", f / "x.sqlite", "--quiet"], "--db"),
    (lambda f: ["reproduce", "khan-fig2", "--replot", "--out", f / "sub"], "--out"),
    (lambda f: ["sweep", STUDY, "--db", f / "x.sqlite", "--quiet"], "--db"),
    (lambda f: ["results", STUDY, "--csv", f / "x.csv"], "--csv"),
    (lambda f: ["results", STUDY, "--summary-csv", f / "deeper" / "s.csv"], "--summary-csv"),
    (lambda f: ["instances", "make", "ngo2017", "--aps", 3, "--users", 2, "-o", f / "x.json"], "-o"),
])
def test_output_path_under_a_regular_file(tmp_path, capsys, monkeypatch, afile, make_argv, field):
    def computed(*a, **k):
        raise AssertionError("the path should have been refused before any computation")

    monkeypatch.setattr(pareto, "sweep", computed)
    line = user_error(capsys, make_argv(afile), field)
    assert str(afile.name) in line or str(tmp_path) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["somefile.txt"]     # nothing created


def test_check_writable_accepts_what_can_be_written(tmp_path, afile):
    assert check_writable(tmp_path / "new" / "deeper" / "x.csv", "--out") == tmp_path / "new" / "deeper" / "x.csv"
    assert check_writable(afile, "--out") == afile                              # overwriting a file is fine
    assert check_writable(tmp_path, "--out", directory=True) == tmp_path
    assert not (tmp_path / "new").exists()                                    # the check creates nothing
    with pytest.raises(InputError, match="--out: empty path"):
        check_writable("", "--out")


# ------------------------------------------------------------------------------- 6. QoS fields of the wrong type
@pytest.mark.parametrize("qos, field", [
    ({"sum_se_min_bps_hz": [1.0, 2.0]}, "qos.sum_se_min_bps_hz"),     # a list where one number is expected
    ({"sum_se_min_bps_hz": True}, "qos.sum_se_min_bps_hz"),
    ({"sum_se_min_bps_hz": "2.5"}, "qos.sum_se_min_bps_hz"),
    ({"sum_se_min_bps_hz": {"x": 1}}, "qos.sum_se_min_bps_hz"),
    ({"sum_se_min_bps_hz": None}, "qos.sum_se_min_bps_hz"),
    ({"sum_se_min_bps_hz": -1.0}, "qos.sum_se_min_bps_hz"),
    ({"sinr_target": [0.5, 0.5, 0.5]}, "qos.sinr_target"),             # K = 2 UEs
    ({"sinr_target": [[0.5], [0.5]]}, "qos.sinr_target"),
    ({"sinr_target": [True, True]}, "qos.sinr_target"),
    ({"sinr_target": [0.5, 0.0]}, "qos.sinr_target"),                  # targets must be > 0
    ({"sinr_target": -2}, "qos.sinr_target"),
    ({"se_min_bps_hz": [0.1, "a"]}, "qos.se_min_bps_hz"),
])
def test_qos_fields_of_the_wrong_type(tmp_path, capsys, instance_dict, qos, field):
    instance_dict["qos"] = qos
    user_error(capsys, ["instances", "show", write(tmp_path, instance_dict)], field)


def test_qos_fields_of_the_right_type_load(tmp_path, instance_dict):
    for qos in ({"sum_se_min_bps_hz": 2}, {"sum_se_min_bps_hz": 0.0}, {"sinr_target": 0.3},
                {"sinr_target": [0.3, 1]}, {"se_min_bps_hz": [0.1, 0.2]}):
        instance_dict["qos"] = qos
        assert set(Instance.load(write(tmp_path, instance_dict)).qos) == set(qos)
