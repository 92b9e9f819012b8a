"""``cfopt instances list|show|make`` through experiments.cli_instances (parser built with add_parser).

User mistakes raise InputError with the option as typed; the main CLI maps that to exit code 2 and one line.
"""
from __future__ import annotations

import argparse
import json

import pytest

import instances
from experiments import cli_instances
from instances import InputError, Instance


@pytest.fixture
def cli(capsys):
    parser = argparse.ArgumentParser(prog="cfopt")
    sub = parser.add_subparsers(dest="command")
    cli_instances.add_parser(sub)

    def call(*argv):
        args = parser.parse_args(["instances", *map(str, argv)])
        rc = args.run(args)
        out = capsys.readouterr()
        return rc, out.out, out.err
    return call


@pytest.fixture
def library(tmp_path, monkeypatch):
    lib = tmp_path / "library"
    lib.mkdir()
    monkeypatch.setattr(instances.library, "LIBRARY_DIR", lib)
    return lib


def test_make_writes_the_generated_instance(cli, tmp_path):
    out = tmp_path / "inst.json"
    rc, stdout, _ = cli("make", "ngo2017", "--aps", 12, "--users", 5, "--antennas", 2, "--seed", 3,
                        "--tau-p", 4, "--shadowing", "uncorrelated", "-o", out)
    assert rc == 0
    inst = Instance.load(out)
    ref = instances.generate("ngo2017", seed=3, aps=12, users=5, antennas=2, tau_p=4, shadowing="uncorrelated")
    assert inst == ref
    assert inst.content_hash in stdout and f"wrote {out}" in stdout
    header, row = stdout.splitlines()[:2]
    assert header.split() == ["name", "M", "K", "N", "tau_p", "tau_c", "beta_dB", "noise_dBm", "hash", "seed"]
    assert row.split()[1:6] == ["12", "5", "2", "4", "200"] and row.split()[-1] == "3"
    assert "-91.99" in row


def test_make_json(cli, tmp_path):
    rc, stdout, _ = cli("make", "ngo2017", "--aps", 3, "--users", 2, "-o", tmp_path / "a.json", "--json")
    assert rc == 0
    s = json.loads(stdout)
    assert s["M"] == 3 and s["K"] == 2 and s["seed"] == 0 and s["path"] == str(tmp_path / "a.json")


def test_show_path_and_name(cli, tmp_path, library):
    inst = instances.generate("ngo2017", seed=8, aps=6, users=4)
    inst = inst.replace(card={"problems": ["uplink-ee"], "optimum": {"uplink-ee": 2.5},
                              "certified_by": {"uplink-ee": "scip 10.0.0"}})
    path = inst.save(library / "six.json")
    rc, stdout, _ = cli("show", path)
    assert rc == 0
    assert inst.content_hash in stdout and inst.name in stdout
    assert "uplink-ee: optimum 2.5 (certified by scip 10.0.0)" in stdout
    rc, stdout, _ = cli("show", "six", "--json")
    s = json.loads(stdout)
    assert s["content_hash"] == inst.content_hash and s["M"] == 6 and s["K"] == 4 and s["seed"] == 8
    assert s["beta_db_min"] <= s["beta_db_max"] and s["noise_dbm"] == pytest.approx(-91.99, abs=0.01)
    assert s["optimum"] == {"uplink-ee": 2.5}


def test_list_empty_and_filled(cli, tmp_path, library):
    rc, stdout, _ = cli("list", "--json")
    assert rc == 0 and json.loads(stdout) == []
    rc, stdout, _ = cli("list")
    assert rc == 0 and "empty" in stdout

    a = instances.generate("ngo2017", seed=1, aps=4, users=2)
    a.replace(card={"problems": ["uplink-ee"], "optimum": {"uplink-ee": 1.5}}).save(library / "a.json")
    instances.generate("ngo2017", seed=2, aps=5, users=3, antennas=4).save(library / "b.json")
    rc, stdout, _ = cli("list", "--json")
    lst = json.loads(stdout)
    assert [e["name"] for e in lst] == ["a", "b"]
    for e in lst:
        assert {"name", "problems", "sizes", "optimum", "certified_by"} <= set(e)
    assert lst[0]["optimum"] == {"uplink-ee": 1.5} and lst[0]["certified_by"] == {}
    assert lst[1]["sizes"]["antennas"] == 4
    rc, stdout, _ = cli("list")
    assert rc == 0 and "uplink-ee=1.5?" in stdout and "not certified" in stdout

    other = tmp_path / "other"
    other.mkdir()
    a.save(other / "z.json")
    rc, stdout, _ = cli("list", "--json", "--library", other)
    assert [e["name"] for e in json.loads(stdout)] == ["z"]


@pytest.mark.parametrize("argv, field", [
    (["make", "ngo2017", "--aps", "0", "--users", "3"], "--aps"),
    (["make", "ngo2017", "--aps", "-3", "--users", "3"], "--aps"),
    (["make", "ngo2017", "--aps", "abc", "--users", "3"], "--aps"),
    (["make", "ngo2017", "--aps", "3", "--users", "0"], "--users"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--antennas", "0"], "--antennas"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--seed", "-1"], "--seed"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--tau-p", "300"], "--tau-p"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--tau-c", "x"], "--tau-c"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--area-km", "inf"], "--area-km"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--shadowing", "foo"], "--shadowing"),
    (["make", "ngo2017", "--aps", "3", "--users", "3", "--pilot-assignment", "greedy"], "--pilot-assignment"),
    (["make", "hexagon", "--aps", "3", "--users", "3"], "SCENARIO"),
])
def test_make_errors_name_the_option(cli, tmp_path, argv, field):
    with pytest.raises(InputError) as exc:
        cli(*argv, "-o", tmp_path / "x.json")
    assert exc.value.field == field
    assert len(str(exc.value).splitlines()) == 1
    assert not (tmp_path / "x.json").exists()


def test_make_unwritable_output(cli, tmp_path):
    with pytest.raises(InputError) as exc:
        cli("make", "ngo2017", "--aps", 3, "--users", 2, "-o", tmp_path / "missing" / "x.json")
    assert exc.value.field == "-o"


def test_show_errors(cli, tmp_path, library):
    with pytest.raises(InputError) as exc:
        cli("show", "/no/such/file.json")
    assert exc.value.field == "instance"
    with pytest.raises(InputError) as exc:
        cli("show", "nope")
    assert exc.value.field == "instance"
    path = instances.generate("ngo2017", seed=1, aps=3, users=2).save(tmp_path / "c.json")
    path.write_text(path.read_text().replace('"tau_c": 200', '"tau_c": 199'))
    with pytest.raises(InputError) as exc:
        cli("show", path)
    assert exc.value.field == "content_hash"
    path.write_text("{not json")
    with pytest.raises(InputError) as exc:
        cli("show", path)
    assert exc.value.field == "file"


# ------------------------------------------------------------------------------- -p NAME=VALUE from the signature
def test_make_with_params_equals_the_aliases(cli, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("make", "rao2020", "-p", "aps=6", "-p", "users=4", "-p", "tau_p=2", "-p", "area_km=0.3",
               "-p", "ue_power_w=0.01", "-p", "pilots=qpsk", "-p", "seed=5", "-o", a)[0] == 0
    assert cli("make", "rao2020", "--aps", 6, "--users", 4, "--tau-p", 2, "--area-km", 0.3, "-p", "ue_power_w=0.01",
               "--pilots", "qpsk", "--seed", 5, "-o", b)[0] == 0
    ia, ib = Instance.load(a), Instance.load(b)
    ref = instances.generate("rao2020", seed=5, aps=6, users=4, tau_p=2, area_km=0.3, ue_power_w=0.01, pilots="qpsk")
    assert ia == ib == ref and ia.pilot_seqs is not None
    # a mapping parameter takes JSON; "none" for an optional one
    c = tmp_path / "c.json"
    assert cli("make", "ngo2017", "-p", "aps=3", "-p", "users=2", "-p", 'qos={"se_min_bps_hz": 0.5}',
               "-p", "tau_p=none", "-o", c)[0] == 0
    assert dict(Instance.load(c).qos) == {"se_min_bps_hz": 0.5}


@pytest.mark.parametrize("argv, field, words", [
    (["-p", "aps=3", "-p", "users=2", "-p", "colour=red"], "-p colour", "not a parameter of ngo2017"),
    (["-p", "aps=three", "-p", "users=2"], "-p aps", "expected an integer"),
    (["-p", "aps=3", "-p", "users=2", "-p", "area_km=nan"], "-p area_km", "finite number"),
    (["-p", "aps=3", "-p", "users=2", "-p", "qos=[1]"], "-p qos", "JSON object"),
    (["-p", "aps=3", "-p", "users=2", "-p", "aps=4"], "-p aps", "given twice"),
    (["--aps", "3", "-p", "users=2", "-p", "aps=4"], "-p aps", "given twice"),
    (["-p", "users=2"], "--aps", "missing"),
    (["-p", "aps"], "-p", "NAME=VALUE"),
    (["-p", "aps=0", "-p", "users=2"], "-p aps", ""),              # the generator's own check, named as typed
])
def test_make_param_errors_name_the_field(cli, tmp_path, argv, field, words):
    with pytest.raises(InputError) as exc:
        cli("make", "ngo2017", *argv, "-o", tmp_path / "x.json")
    assert exc.value.field == field and words in exc.value.message
    assert not (tmp_path / "x.json").exists()


def test_list_params_is_generated_from_the_signature(cli):
    rc, stdout, _ = cli("make", "rao2020", "--list-params")
    assert rc == 0
    lines = stdout.splitlines()
    assert lines[0].startswith("rao2020: A seeded Rao 2020 instance")
    assert "  aps (int; required)" in lines and "  pilots (str; default 'random')" in lines
    assert "  tau_c (int; default 200)" in lines and "  name (str | none; default None)" in lines
    with pytest.raises(InputError) as exc:
        cli("make", "hexagon", "--list-params")
    assert exc.value.field == "SCENARIO"
    with pytest.raises(InputError) as exc:
        cli("make", "ngo2017", "--aps", 3, "--users", 2)
    assert exc.value.field == "-o"
