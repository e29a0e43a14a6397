"""ASC versus SE-SC in SemCom-TaskOriented-v0 at equal symbols (a measurement, never a test).

Usage::

    .venv/bin/python benchmarks/codec_comparison.py [--samples 4000] [--seed 0] [--out FILE]

Both codecs send ``d0 (1 - o)`` bits at compression ratio ``o`` (SE-SC: ``L = L_tot (1 - o)``
features, ``physics.semantics`` §3), so their delivery probabilities are identical and only the task success
given delivery differs. Left panel: that task success versus ``o``. Right panel: the mean success
probability ``eta(o) P(t <= t0)`` under equal allocation (``B_max / U``, ``P_max / U`` per user) versus
``o`` at ``B_max`` = 10, 20 and 30 MHz, averaged over ``--samples`` user sets drawn as the calibration
does (distances ``U[100, 1000] m``, path loss of the scenario's defaults). Prints the argmax ``o`` per
``B_max`` for each codec and saves the figure (default ``docs/figures/task-oriented-codec-comparison.png``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from semcom_envs.scenarios.task_oriented import O_MAX, TaskOriented  # noqa: E402

CODECS = {"asc": "ASC (ResNet fit)", "se-sc": "SE-SC"}
BUDGETS_HZ = (10e6, 20e6, 30e6)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "task-oriented-codec-comparison.png"


def mean_success(codec: str, bandwidth_max_hz: float, o: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """Mean success probability over users and sampled user sets, per ``o``, under equal allocation."""
    sc = TaskOriented(codec=codec, bandwidth_max_hz=bandwidth_max_hz)
    c = sc.config
    u = c.num_users
    lo, hi = c.distance_range_m
    distance = np.random.default_rng(seed).uniform(lo, hi, size=(samples * u, 1))
    delta2 = sc.channel_variance_at(distance)
    out = sc.success(o[None, :], bandwidth_max_hz / u, c.power_max_w / u, delta2)
    return out["success_prob"].mean(axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4000, help="user sets per point (U users each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    o = np.round(np.arange(0.0, O_MAX + 1e-9, 0.01), 2)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"asc": "-", "se-sc": "--"}
    for codec, label in CODECS.items():
        sc = TaskOriented(codec=codec)
        left.plot(o, sc.task_success(o), styles[codec], color="k", label=label)
    c = TaskOriented(codec="se-sc").config
    left.axvline(1 - c.sesc_l_opt / c.sesc_l_tot, color="grey", lw=0.8, ls=":")
    left.set(xlabel="compression ratio o (equal symbols: d0 (1 - o) bits)", ylabel="task success given delivery",
             title=f"SNR {c.asc_snr_db:g} dB; SE-SC L_opt / L_tot = {c.sesc_l_opt / c.sesc_l_tot:.2f}", ylim=(0, 1.02))
    left.legend(loc="lower left")

    colours = dict(zip(BUDGETS_HZ, ("tab:red", "tab:blue", "tab:green"), strict=True))
    print(f"argmax o of the mean success probability (equal allocation, U = {c.num_users}, {args.samples} user sets):")
    for b in BUDGETS_HZ:
        for codec, label in CODECS.items():
            values = mean_success(codec, b, o, args.samples, args.seed)
            best = int(np.argmax(values))
            right.plot(o, values, styles[codec], color=colours[b], label=f"{label}, {b / 1e6:g} MHz")
            right.plot(o[best], values[best], "o", color=colours[b], ms=4)
            print(f"  B_max = {b / 1e6:2g} MHz  {codec:5s}: o* = {o[best]:.2f}, mean success = {values[best]:.3f}")
    right.set(xlabel="compression ratio o", ylabel="mean success probability eta(o) P(t <= t0)",
              title="equal allocation, U = 10, P_max = 1 W, t0 = 5 ms (o < 0.6: 0)", xlim=(0.6, 1.0), ylim=(0, 1.02))
    right.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=130)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
