"""Turn the results dict of run.py into readable tables and the one-line RATIOS summary."""

MIB = 1024 * 1024
_shown = set()  # notes already printed: a reason is given once, where it first appears


def labels(env):
    cand = env["candidate"]
    if env.get("compiled"):
        cand = cand + ".compile"
    ref = "torch.compile" if env.get("torch_compiled") else "torch"
    if env["candidate"] == "torch" and not env.get("compiled") and not env.get("torch_compiled"):
        return ("torch(A)", "torch(B)")
    return (cand, ref)


def _num(x, fmt):
    return format(x, fmt) if isinstance(x, (int, float)) else "-"


def _table(title, head, rows, notes):
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print(
            "  " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        )
    for note in notes:
        if note not in _shown:
            print("    " + note)
        _shown.add(note)


def _cell(res, role, value, fmt, notes, name, label):
    """A table cell: the value, or 'unavailable' with the reason added to the notes."""
    err = res.get("error") or (res.get(role + "_error") if role else None)
    if value is not None:
        return _num(value, fmt)
    if err:
        notes.append(f"{name}: {label} unavailable: {err}")
        return "unavailable"
    return "-"


def print_time(results):
    env = results["env"]
    cand, ref = labels(env)
    for n, per in results["time"].items():
        rows, notes = [], []
        for w, res in per.items():
            c = _cell(res, "cand", _ms(res.get("cand_s")), ".3f", notes, w, cand)
            r = _cell(res, "ref", _ms(res.get("ref_s")), ".3f", notes, w, ref) if env["torch"] else "-"
            row = [w, c, r, _num(res.get("ratio"), ".2f"), res.get("pairs", "-")]
            if env.get("compiled"):
                info = res.get("compiled") or {}
                cap, eager = info.get("capture_s"), info.get("eager_step_s")
                row.append(_num(cap / eager if cap and eager else None, ".1f"))
                row.append("yes" if info.get("replays") else "no")
                if info and not info.get("replays"):
                    notes.append(f"{w} compiled runs eagerly: " + "; ".join(info.get("eager_reasons") or ["?"]))
            rows.append(row)
        pin = next((r.get("blas_pinning") for r in per.values() if r.get("blas_pinning")), "?")
        _table(
            f"Step time, median ms ({n} thread{'s' if n != '1' else ''}, NumPy BLAS pinned by {pin});"
            f" ratio = median of per-pair {cand}/{ref}",
            ["workload", cand, ref, "ratio", "pairs"] + (["capture/eager", "replays"] if env.get("compiled") else []),
            rows,
            notes,
        )


def _ms(s):
    return None if s is None else s * 1000


def print_memory(results):
    cand, ref = labels(results["env"])
    rows, notes = [], []
    for w, per in results["memory"].items():
        vals = [per.get(role, {}).get("peak_bytes") for role in ("cand", "ref")]
        cells = [
            _cell(per.get(role, {}), None, None if v is None else v / MIB, ".1f", notes, w, lab)
            for role, v, lab in zip(("cand", "ref"), vals, (cand, ref))
        ]
        rows.append([w, *cells, _num(_ratio(*vals), ".2f")])
    _table(
        "Peak memory, MiB above the RSS after imports (1 thread, own process each)",
        ["workload", cand, ref, "ratio"],
        rows,
        notes,
    )


def print_import(results):
    cand, ref = labels(results["env"])
    imp = results["import"]
    secs = [imp.get(role, {}).get("seconds") for role in ("cand", "ref")]
    notes = []
    cells = [
        _cell(imp.get(role, {}), None, s, ".3f", notes, "import", lab)
        for role, s, lab in zip(("cand", "ref"), secs, (cand, ref))
    ]
    _table(
        "Import time, seconds (median of fresh processes)",
        ["", cand, ref, "ratio"],
        [["import", *cells, _num(_ratio(*secs), ".3f")]],
        notes,
    )


def print_profile(results):
    cand = labels(results["env"])[0]
    rows, notes, tops = [], [], []
    for w, res in results["profile"].items():
        if "error" in res:
            notes.append(f"{w}: unavailable: {res['error']}")
            continue
        sh, sampled = res["shares"], res.get("sampled") or {}
        if "error" in sampled:
            notes.append(f"{w}: sampling failed: {sampled['error']}")
        rows.append(
            [
                w,
                _pct(sampled.get("native")),
                _pct(sampled.get("python")),
                _pct(sh["numpy_c"] + sh["numpy_py"]),
                _pct(sh["retrograd_py"]),
                _pct(sh["workload_py"]),
                _pct(sh["other"]),
                res["steps"],
            ]
        )
        tops.append(f"{w}: " + ", ".join(f"{t['func']} {t['share']:.0%}" for t in res["top"][:5]))
    _table(
        f"Profile of {cand} (1 thread), share of step time. Sampled (py-spy --native): native"
        " NumPy/BLAS code vs Python.\n  cProfile: NumPy calls it sees (not ufuncs/operators,"
        " which count in the caller), Python by package",
        ["workload", "native", "python", "cP:numpy", "cP:retrograd", "cP:workload", "cP:other", "steps"],
        rows,
        notes + (["top cProfile functions by own time:"] if tops else []) + ["  " + t for t in tops],
    )


def _pct(x):
    return "-" if x is None else f"{x:.0%}"


def _ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else None


def print_report(results, has_torch):
    env = results["env"]
    _shown.clear()
    print(
        f"\nretrograd benchmark: {labels(env)[0]} vs torch {env['torch'] or '(not installed)'}, "
        f"numpy {env['numpy']}, python {env['python']}, {env['cpus']} cpus, {results['elapsed_s']:.0f} s"
    )
    print_time(results)
    if "memory" in results:
        print_memory(results)
    if "import" in results:
        print_import(results)
    if "profile" in results:
        print_profile(results)
    print()


def ratios(results):
    """Flat {key: candidate/torch}: `<workload>` at the first thread count, `<workload>@<n>t`
    at the others, `mem:<workload>` for peak memory, `import`; null where unavailable."""
    out = {}
    first = str(results["env"]["threads"][0])
    for n, per in results["time"].items():
        for w, res in per.items():
            r = res.get("ratio")
            out[w if n == first else f"{w}@{n}t"] = None if r is None else round(r, 3)
    for w, per in results.get("memory", {}).items():
        r = _ratio(*(per.get(role, {}).get("peak_bytes") for role in ("cand", "ref")))
        out[f"mem:{w}"] = None if r is None else round(r, 3)
    if "import" in results:
        r = _ratio(*(results["import"].get(role, {}).get("seconds") for role in ("cand", "ref")))
        out["import"] = None if r is None else round(r, 4)
    return out
