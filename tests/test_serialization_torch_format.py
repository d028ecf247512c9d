"""PyTorch's checkpoint format without PyTorch: the zip archive ``torch.save`` writes (and the
legacy pre-1.6 format), read by a restricted unpickler and written by ``retrograd.save`` for
``.pt``/``.pth`` paths or ``format="torch"``. Files written by PyTorch itself are tested in
tests/parity/test_serialization_torch.py."""

import io
import pickle
import struct
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, serialization
from retrograd.serialization import InvalidCheckpointError


@pytest.fixture(autouse=True)
def _no_leftover_safe_globals():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


# ---------------------------------------------------------------- hand-made pickles
def _s(text):
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(v):
    return b"J" + struct.pack("<i", v)


def _tup(*parts):
    return b"(" + b"".join(parts) + b"t"


def _tensor_pkl(key="0", storage="FloatStorage", numel=6, offset=0, size=(2, 3), stride=(3, 1), extra=b""):
    """The opcodes ``torch.save`` writes for one tensor: a rebuild call on a persistent id."""
    pid = _tup(_s("storage"), b"ctorch\n" + storage.encode() + b"\n", _s(key), _s("cpu"), _int(numel))
    return (
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        + pid
        + b"Q"
        + _int(offset)
        + _tup(*map(_int, size))
        + _tup(*map(_int, stride))
        + b"\x89"
        + b"ccollections\nOrderedDict\n)R"
        + extra
        + b"tR"
    )


def _archive(path, pkl, storages=(), name="archive", compress=zipfile.ZIP_STORED, byteorder="little"):
    with zipfile.ZipFile(path, "w", compress) as z:
        z.writestr(f"{name}/data.pkl", pkl)
        z.writestr(f"{name}/byteorder", byteorder)
        for key, raw in storages:
            z.writestr(f"{name}/data/{key}", raw)
        z.writestr(f"{name}/version", "3\n")
    return path


def _dict_pkl(**items):
    return b"\x80\x02}(" + b"".join(_s(k) + v for k, v in items.items()) + b"u."


# ---------------------------------------------------------------- round trips
def test_pt_suffix_writes_pytorchs_zip_and_reads_it_back(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    sd = model.state_dict()
    for suffix in (".pt", ".pth", ".PT"):
        path = tmp_path / f"m{suffix}"
        rg.save(sd, path)
        assert zipfile.is_zipfile(path)
        names = zipfile.ZipFile(path).namelist()
        assert "archive/data.pkl" in names and "archive/byteorder" in names
        out = rg.load(path)
        assert list(out) == list(sd) and type(out) is type(sd)
        for k, v in sd.items():
            assert out[k].dtype == v.dtype
            np.testing.assert_array_equal(out[k].numpy(), v.numpy())
    twin = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    twin.load_state_dict(rg.load(tmp_path / "m.pt"))
    model.eval(), twin.eval()
    x = rg.randn(5, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), twin(x).detach().numpy())


def test_other_suffixes_stay_safetensors_and_format_chooses(tmp_path):
    sd = {"w": rg.ones(2)}
    rg.save(sd, tmp_path / "a.ckpt")
    assert not zipfile.is_zipfile(tmp_path / "a.ckpt")
    rg.save(sd, tmp_path / "b.ckpt", format="torch")
    assert zipfile.is_zipfile(tmp_path / "b.ckpt")
    rg.save(sd, tmp_path / "c.pt", format="safetensors")
    assert not zipfile.is_zipfile(tmp_path / "c.pt")
    buf = io.BytesIO()
    rg.save(sd, buf, format="torch")
    buf.seek(0)
    assert rg.load(buf)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="format must be"):
        rg.save(sd, tmp_path / "d.pt", format="pickle")


def test_views_share_one_storage_and_keep_their_strides(tmp_path):
    w = rg.arange(24.0).reshape(4, 6)
    obj = {
        "w": w,
        "wt": w.t(),
        "row": w[1],
        "col": w[:, 2],
        "flip": w.flip(0),
        "i": rg.arange(3),
        "b": rg.tensor([True, False]),
        "h": rg.ones(2, dtype=rg.float16),
        "x": [1, 2.5, None, "s", (True, -7, 2**40)],
        "dt": rg.int16,
    }
    path = rg.save(obj, tmp_path / "v.pt") or tmp_path / "v.pt"
    storages = [n for n in zipfile.ZipFile(path).namelist() if "/data/" in n]
    assert len(storages) == 5  # w and its 3 views share one; flip, i, b, h get their own
    out = rg.load(path)
    for k in ("w", "wt", "row", "col", "flip", "i", "b", "h"):
        assert out[k].dtype == obj[k].dtype
        np.testing.assert_array_equal(out[k].numpy(), obj[k].numpy())
    assert out["x"] == [1, 2.5, None, "s", (True, -7, 2**40)] and out["dt"] is rg.int16
    assert np.shares_memory(out["w"].numpy(), out["wt"].numpy())
    assert np.shares_memory(out["w"].numpy(), out["col"].numpy())
    assert out["wt"].stride() == (1, 6) and out["col"].stride() == (6,)


def test_requires_grad_parameters_and_shared_tensors(tmp_path):
    p = nn.Parameter(rg.randn(3))
    t = rg.randn(2)
    rg.save({"p": p, "a": t, "b": t}, tmp_path / "p.pt")
    out = rg.load(tmp_path / "p.pt")
    assert isinstance(out["p"], nn.Parameter) and out["p"].requires_grad
    assert not out["a"].requires_grad
    assert out["a"] is out["b"]


def test_mmap_maps_the_storages(tmp_path):
    rg.save({"w": rg.arange(10.0)}, tmp_path / "m.pt")
    out = rg.load(tmp_path / "m.pt", mmap=True)
    a = out["w"].numpy()
    base = a
    while getattr(base, "base", None) is not None:  # through as_strided's wrapper
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    assert type(base).__name__ == "mmap"
    out["w"].add_(1)  # copy-on-write: the file is unchanged
    assert rg.load(tmp_path / "m.pt")["w"].tolist() == list(np.arange(10.0))


def test_storages_are_64_byte_aligned(tmp_path):
    rg.save({"a": rg.ones(3), "b": rg.ones(5, dtype=rg.float64), "c": rg.ones(1)}, tmp_path / "a.pt")
    with zipfile.ZipFile(tmp_path / "a.pt") as z, open(tmp_path / "a.pt", "rb") as fh:
        for info in z.infolist():
            fh.seek(info.header_offset + 26)
            n, m = struct.unpack("<HH", fh.read(4))
            assert (info.header_offset + 30 + n + m) % 64 == 0, info.filename


def test_a_module_is_written_as_a_pickle_that_the_weights_only_reader_refuses(tmp_path):
    rg.save({"model": nn.Linear(2, 2), "step": 3}, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        rg.load(tmp_path / "m.pt")
    out = rg.load(tmp_path / "m.pt", weights_only=False)
    assert type(out["model"]) is nn.Linear and out["step"] == 3
    rg.save({"a": rg.ones(2)}, tmp_path / "m.pt")  # plain data keeps PyTorch's exact layout
    assert rg.load(tmp_path / "m.pt")["a"].tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- reading hand-made files
def test_a_hand_made_archive_with_big_endian_storage_and_another_folder_name(tmp_path):
    pkl = _dict_pkl(w=_tensor_pkl(size=(3, 2), stride=(1, 3)))
    data = np.arange(6, dtype=">f4").tobytes()
    path = _archive(tmp_path / "h.pt", pkl, [("0", data)], name="mymodel", byteorder="big")
    out = rg.load(path)
    assert out["w"].tolist() == [[0, 3], [1, 4], [2, 5]]


def test_compressed_records_are_read(tmp_path):
    pkl = _dict_pkl(w=_tensor_pkl())
    path = _archive(tmp_path / "z.pt", pkl, [("0", np.arange(6, dtype="<f4").tobytes())], compress=zipfile.ZIP_DEFLATED)
    assert rg.load(path)["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert rg.load(path, mmap=True)["w"].tolist() == [[0, 1, 2], [3, 4, 5]]


def _marker_pickle(marker, protocol):
    class Evil:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    return pickle.dumps({"w": Evil()}, protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_global_that_is_not_allowed_is_refused_by_name_and_nothing_runs(tmp_path, protocol):
    marker = tmp_path / "ran"
    path = _archive(tmp_path / "evil.pt", _marker_pickle(marker, protocol))
    with pytest.raises(pickle.UnpicklingError) as e:
        rg.load(path)
    msg = str(e.value)
    assert "builtins.exec" in msg and "evil.pt" in msg and "add_safe_globals" in msg
    assert not marker.exists()
    rg.load(path, weights_only=False)  # the user's explicit choice: full pickle
    assert marker.exists()


def test_os_system_is_refused():
    pkl = b"\x80\x02cos\nsystem\n" + _s("echo owned") + b"\x85R."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"global os\.system, which is not allowed"):
        rg.load(buf)


def test_add_safe_globals_and_the_context_manager(tmp_path):
    path = _archive(tmp_path / "c.pt", pickle.dumps(Counter(a=2), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="collections.Counter"):
        rg.load(path)
    with serialization.safe_globals([Counter]):
        assert serialization.get_safe_globals() == [Counter]
        assert rg.load(path) == Counter(a=2)
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="collections.Counter"):
        rg.load(path)
    serialization.add_safe_globals([(Counter, "collections.Counter")])
    assert rg.load(path) == Counter(a=2)
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    assert rg.load(path, weights_only=False) == Counter(a=2)
    with pytest.raises(TypeError, match="add_safe_globals"):
        serialization.add_safe_globals([3])


@pytest.mark.parametrize(
    "pkl, match",
    [
        (b"\x80\x02cbuiltins\ngetattr\n.", "builtins.getattr"),
        # an allowed class's state may not be set unless the user allowed the class
        (b"\x80\x02cbuiltins\nset\n)R}b.", "sets the state of a set"),
        # INST and OBJ opcodes run constructors: refused
        (b"(ibuiltins\nlist\n.", "opcode b'i'"),
        (b"\x80\x02csubprocess\nPopen\n.", "subprocess.Popen"),
        # a storage type is not a function
        (b"\x80\x02ctorch\nFloatStorage\n)R.", "torch.FloatStorage, which is not an allowed"),
    ],
)
def test_other_unsafe_pickles_are_refused(tmp_path, pkl, match):
    with pytest.raises(pickle.UnpicklingError, match=match):
        rg.load(_archive(tmp_path / "u.pt", pkl))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _dict_pkl(w=_tensor_pkl(offset=1)), "reaches past its storage"),
        (lambda: _dict_pkl(w=_tensor_pkl(key="7")), "no record archive/data/7"),
        (
            lambda: _dict_pkl(w=_tensor_pkl(storage="ComplexHalfStorage")),
            r"cannot be loaded: it holds a torch\.ComplexHalfStorage",
        ),
        (lambda: _dict_pkl(w=_tensor_pkl(stride=(-3, 1))), "stride"),
        (lambda: _dict_pkl(w=_tensor_pkl(numel=7)), "should hold 28 bytes"),
        (lambda: _dict_pkl(w=_tensor_pkl())[:-3], "truncated"),
        (lambda: b"\x80\x02h\x05.", "memo entry 5"),
        (lambda: b"\x80\x02ccollections\nOrderedDict\n)R}" + _s("__class__") + b"Nsb.", "'__class__'"),
        (lambda: b"\x80\x02cbuiltins\nfrozenset\nK\x05\x85\x81.", "malformed at"),
        (lambda: b"\x80\x02N(.", "malformed stack"),
    ],
)
def test_inconsistent_archives_are_invalid(tmp_path, make, match):
    path = _archive(tmp_path / "bad.pt", make(), [("0", np.zeros(6, "<f4").tobytes())])
    with pytest.raises(InvalidCheckpointError, match=match) as e:
        rg.load(path)
    assert "bad.pt" in str(e.value)


def test_truncated_archives_are_invalid(tmp_path):
    rg.save({"w": rg.ones(100), "b": rg.zeros(3)}, tmp_path / "full.pt")
    raw = (tmp_path / "full.pt").read_bytes()
    for cut in (10, len(raw) // 2, len(raw) - 30):
        (tmp_path / "cut.pt").write_bytes(raw[:cut])
        with pytest.raises(InvalidCheckpointError, match="cut.pt"):
            rg.load(tmp_path / "cut.pt")
    # a storage whose bytes were damaged fails its CRC check
    damaged = bytearray(raw)
    start = raw.index(np.ones(100, "<f4").tobytes())
    damaged[start + 8] ^= 0xFF
    (tmp_path / "crc.pt").write_bytes(bytes(damaged))
    with pytest.raises(InvalidCheckpointError, match="crc.pt"):
        rg.load(tmp_path / "crc.pt")


def _legacy(obj_pkl, storages, keys):
    parts = [
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"little_endian": True}, protocol=2),
        obj_pkl,
        pickle.dumps(keys, protocol=2),
    ]
    for raw, numel in storages:
        parts.append(struct.pack("<q", numel) + raw)
    return b"".join(parts)


def test_legacy_files_are_read(tmp_path):
    data = np.arange(6, dtype="<f4").tobytes()
    (tmp_path / "old.pt").write_bytes(_legacy(_dict_pkl(w=_tensor_pkl(size=(6,), stride=(1,))), [(data, 6)], ["0"]))
    assert rg.load(tmp_path / "old.pt")["w"].tolist() == [0, 1, 2, 3, 4, 5]
    assert rg.load(tmp_path / "old.pt", weights_only=False)["w"].tolist() == [0, 1, 2, 3, 4, 5]
    (tmp_path / "short.pt").write_bytes(_legacy(_dict_pkl(w=_tensor_pkl()), [(data[:8], 6)], ["0"]))
    with pytest.raises(InvalidCheckpointError, match="short.pt"):
        rg.load(tmp_path / "short.pt")
    (tmp_path / "evil.pt").write_bytes(_legacy(_marker_pickle(tmp_path / "ran", 2), [], []))
    with pytest.raises(pickle.UnpicklingError, match="builtins.exec"):
        rg.load(tmp_path / "evil.pt")
    assert not (tmp_path / "ran").exists()


def test_plain_pickles_are_still_refused(tmp_path):
    (tmp_path / "p.pt").write_bytes(pickle.dumps(OrderedDict(a=1), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        rg.load(tmp_path / "p.pt")


def test_map_location_keeps_a_state_dicts_type_and_metadata(tmp_path):
    sd = nn.Linear(2, 3).state_dict()
    sd._metadata = OrderedDict([("", {"version": 1})])
    rg.save(sd, tmp_path / "l.pt")
    out = rg.load(tmp_path / "l.pt", map_location="cpu")
    assert type(out) is OrderedDict and out._metadata == {"": {"version": 1}}
    assert list(out) == ["weight", "bias"]


@pytest.mark.parametrize(
    "pkl, match",
    [
        (b"\x80\x02cbuiltins\nbytearray\nJ\x00\x00\x00\x40\x85R.", "bytearray is called with a int"),
    ],
)
def test_allowed_globals_cannot_allocate_at_will(tmp_path, pkl, match):
    with pytest.raises(InvalidCheckpointError, match=match):
        rg.load(_archive(tmp_path / "b.pt", pkl))


def test_a_record_claiming_more_bytes_than_the_file_is_refused_before_allocating(tmp_path):
    path = _archive(tmp_path / "big.pt", _dict_pkl(w=_tensor_pkl(numel=6)), [("0", np.zeros(6, "<f4").tobytes())])
    raw = bytearray(path.read_bytes())
    # patch the central directory's sizes of archive/data/0 to claim 2**31 bytes (stored)
    entry = raw.index(b"PK\x01\x02", raw.index(b"PK\x01\x02") + 4)
    entry = raw.index(b"PK\x01\x02", entry + 4)  # data.pkl, byteorder, then data/0
    assert raw[entry + 46 : entry + 46 + 14] == b"archive/data/0"
    raw[entry + 20 : entry + 28] = struct.pack("<II", 2**31 - 1, 2**31 - 1)
    path.write_bytes(bytes(raw))
    with pytest.raises(InvalidCheckpointError, match="claims 2147483647 bytes"):
        rg.load(path)
