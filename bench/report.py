"""Markdown tables from build/bench.json (the figures `make bench` measured), for
docs/performance.md, with the issue's targets checked against them.

    /usr/bin/python3 bench/report.py [build/bench.json]
"""
import json
import sys


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build/bench.json"
    b = json.load(open(path))
    pk = b["peak_gflops"]
    print(f"Measured {b.get('date_utc', '?')} UTC, load average {', '.join(f'{x:.1f}' for x in b.get('load_average', []))};"
          f" kernels `{b['isa']}`, OpenBLAS core {b['openblas_core']}.\n")
    print(f"FMA peak ({b.get('peak_width', '?')}): {pk['1']:.1f} GFLOP/s on 1 thread, {pk['2']:.1f} on 2"
          f" (other width: {b['peak_gflops_other_width']['1']:.1f}, {b['peak_gflops_other_width']['2']:.1f}).\n")
    skx = {(r["name"], r["threads"]): r for r in b.get("layers_openblas_skylakex", [])}
    print("GFLOP/s and % peak count the direct convolution's FLOPs; layers marked (Winograd) do fewer multiplies,"
          " so theirs are effective figures.\n")
    print("| layer | thr | ferc ms | GFLOP/s | % peak | x OpenBLAS (Haswell) | x OpenBLAS (SkylakeX) | x scalar | tolerance used |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in b["layers"]:
        s = skx.get((r["name"], r["threads"]))
        xs = f"{s['x_openblas']:.2f}" if s else "-"
        xsc = f"{r['x_scalar']:.1f}" if r.get("x_scalar") is not None else "-"
        name = r["name"] + (" (Winograd)" if r.get("winograd") else "")
        print(f"| {name} | {r['threads']} | {r['ms']:.4f} | {r['gflops']:.1f} | {r['pct_peak']:.1f} | "
              f"{r['x_openblas']:.2f} | {xs} | {xsc} | {r.get('tolerance_used', float('nan')):.3f} |")
    print()
    print("| model | batch | thr | ferc ms | PyTorch ms | OpenCV ms | x PyTorch | x OpenCV | ferc images/s | ferc context MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in b["models"]:
        print(f"| {r['name']} | {r['batch']} | {r['threads']} | {r['ms_ferc']:.3f} | {r['ms_torch']:.3f} | "
              f"{r['ms_opencv']:.3f} | {r['ms_torch'] / r['ms_ferc']:.2f} | {r['ms_opencv'] / r['ms_ferc']:.2f} | "
              f"{r['batch'] / r['ms_ferc'] * 1e3:.0f} | {r['ferc_context_bytes'] / 2**20:.2f} |")
    print("\nTargets (issue 4):\n")
    big = [r for r in b["layers"] if r["threads"] == 1 and " 3x3 " in f" {r['name']} " and "dw" not in r["name"]
           and all(int(c) >= 64 for c in r["shape"].split()[1].split("x")[2].split("->"))]
    for r in big:
        ok = r["pct_peak"] >= 85 and r["x_openblas"] >= 1.15
        print(f"- {r['name']}: {r['pct_peak']:.1f}% of peak, {r['x_openblas']:.2f}x OpenBLAS -> {'met' if ok else 'NOT met'}")
    thin = [r for r in b["layers"] if r["threads"] == 1 and any(t in r["name"] for t in ("1->", "dw", "1x1", "head", " b1"))]
    for r in thin:
        print(f"- thin {r['name']}: {r['x_openblas']:.2f}x OpenBLAS -> {'met' if r['x_openblas'] >= 2 else 'NOT met'}")
    for name in sorted({r["name"] for r in b["models"]}):
        m = {(r["batch"], r["threads"]): r for r in b["models"] if r["name"] == name}
        r1, r64, r64_1 = m.get((1, 1)), m.get((64, 2)), m.get((64, 1))
        if r1:
            print(f"- {name}, batch 1, 1 thread: {r1['ms_opencv'] / r1['ms_ferc']:.2f}x OpenCV (target 1.5), "
                  f"{r1['ms_torch'] / r1['ms_ferc']:.2f}x PyTorch (target 2)")
        if r64:
            print(f"- {name}, batch 64, 2 threads: {r64['ms_opencv'] / r64['ms_ferc']:.2f}x OpenCV, "
                  f"{r64['ms_torch'] / r64['ms_ferc']:.2f}x PyTorch (target 1.3)")
        if r64 and r64_1:
            print(f"- {name}, batch 64: 2 threads {r64_1['ms_ferc'] / r64['ms_ferc']:.2f}x one thread (target 1.8)")


if __name__ == "__main__":
    main()
