"""Rendering shared by all scenarios: a per-step text table (``ansi``/``human``) and figure helpers.

Figures use matplotlib's Agg backend, so rendering never needs a display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def ansi_table(agents: Sequence[str], infos: Mapping[str, np.ndarray] | None, index: int, slot: int) -> str:
    """A text table of copy ``index``'s last-step infos: a row per agent, then network-wide values."""
    if not infos:
        return f"slot {slot}: episode start (no step evaluated yet)\n"
    per_agent = [k for k, v in infos.items() if np.ndim(v) == 2]
    network = [k for k, v in infos.items() if np.ndim(v) == 1]
    width = max(10, *(len(k) for k in per_agent))
    lines = [f"slot {slot}", "agent".ljust(8) + "".join(k.rjust(width + 1) for k in per_agent)]
    for i, agent in enumerate(agents):
        lines.append(agent.ljust(8) + "".join(_fmt(infos[k][index, i]).rjust(width + 1) for k in per_agent))
    lines.append("  ".join(f"{k}={_fmt(infos[k][index])}" for k in network))
    return "\n".join(lines) + "\n"


def _fmt(x: object) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    v = float(x)  # type: ignore[arg-type]
    return f"{v:.4g}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"


def _figure(figsize: tuple[float, float]) -> tuple["matplotlib.figure.Figure", "matplotlib.axes.Axes", Any]:  # noqa: F821
    """A new figure and axes on the display-free Agg backend, and pyplot (for colour maps)."""
    from semcom_envs.extras import import_optional

    matplotlib = import_optional("matplotlib", 'render_mode="rgb_array"')
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=80)
    return fig, ax, plt


def figure_to_rgb(fig: "matplotlib.figure.Figure") -> np.ndarray:  # noqa: F821
    """(H, W, 3) uint8 pixels of a matplotlib figure, which is then closed."""
    import matplotlib.pyplot as plt

    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return rgb


def _map_to_rgb(fig: "matplotlib.figure.Figure", ax: "matplotlib.axes.Axes", title: str) -> np.ndarray:  # noqa: F821
    """Finish a top view in metres (equal axes, title, labels) and return it as RGB."""
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    fig.tight_layout()
    return figure_to_rgb(fig)


def cell_map(sites: np.ndarray, users: np.ndarray, power: np.ndarray, k: np.ndarray, k_max: int,
             radius_m: float, title: str) -> np.ndarray:
    """RGB picture of a cellular layout: cells coloured by transmit power, UTs by compression level.

    ``sites`` and ``users`` are (M, 2) coordinates in metres; ``power`` is in [0, 1] (fraction of
    p_max) and ``k`` in 1..k_max.
    """
    from matplotlib.patches import RegularPolygon
    fig, ax, plt = _figure((5, 5))
    power_cmap, k_cmap = plt.get_cmap("Reds"), plt.get_cmap("viridis")
    for m, (x, y) in enumerate(sites):
        ax.add_patch(RegularPolygon((x, y), 6, radius=radius_m * 1.05, orientation=np.pi / 6,
                                    facecolor=power_cmap(0.15 + 0.8 * float(power[m])), edgecolor="grey"))
        ax.plot([x, users[m, 0]], [y, users[m, 1]], color="black", lw=0.6)
        ax.annotate(f"bs_{m}\nk={int(k[m])}", (x, y), ha="center", va="center", fontsize=7)
    ax.scatter(sites[:, 0], sites[:, 1], marker="^", color="black", s=30)
    ax.scatter(users[:, 0], users[:, 1], c=k_cmap((np.asarray(k) - 1) / max(k_max - 1, 1)), s=25, zorder=3)
    return _map_to_rgb(fig, ax, f"{title}\ncell colour: power / p_max, UT colour: k")


def star_map(users: np.ndarray, linked: np.ndarray, level: np.ndarray, labels: Sequence[str], title: str) -> np.ndarray:
    """RGB picture of users around one base station at the origin.

    ``users`` is (N, 2) in metres; a user with ``linked`` True is joined to the base station (it
    offloads); ``level`` in [0, 1] colours each user (e.g. its GPU frequency within its range).
    """
    fig, ax, plt = _figure((5, 5))
    cmap = plt.get_cmap("viridis")
    for i, (x, y) in enumerate(users):
        if linked[i]:
            ax.plot([0.0, x], [0.0, y], color="tab:red", lw=1.2)
        ax.annotate(labels[i], (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.scatter([0.0], [0.0], marker="^", color="black", s=60, zorder=3)
    ax.scatter(users[:, 0], users[:, 1], c=cmap(np.clip(level, 0.0, 1.0)), s=40, zorder=3)
    return _map_to_rgb(fig, ax, f"{title}\nred line: offloads; user colour: GPU frequency level")


def bid_chart(labels: Sequence[str], values: np.ndarray, bids: np.ndarray | None, winner: int, price: float,
              title: str) -> np.ndarray:
    """RGB picture of one auction: each bidder's value and bid as bars, the winner marked, the price as a line."""
    fig, ax, _ = _figure((5, 3.5))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, values, width=0.4, label="value", color="tab:blue")
    if bids is not None:
        ax.bar(x + 0.2, bids, width=0.4, label="bid", color=["tab:red" if i == winner else "tab:gray" for i in x])
        ax.axhline(price, color="black", lw=1, ls="--", label="price")
    ax.set_xticks(x, labels, fontsize=7, rotation=20)
    ax.legend(fontsize=7)
    ax.set_title(f"{title}\nred bar: the winner's bid", fontsize=8)
    fig.tight_layout()
    return figure_to_rgb(fig)


def grid_tasks(size: int, walls: np.ndarray, target_goals: np.ndarray, source_goals: np.ndarray, source_kind: np.ndarray,
               title: str) -> np.ndarray:
    """RGB picture of a gridworld episode: walls, the targets' goals (stars) and the sources' goals by kind."""
    fig, ax, _ = _figure((4.5, 4.5))
    ax.imshow(walls.reshape(size, size), cmap="Greys", vmin=0, vmax=1.5)
    for cell, label in ((g, f"T{k}") for k, g in enumerate(target_goals)):
        r, c = divmod(int(cell), size)
        ax.scatter([c], [r], marker="*", s=220, color="tab:red", zorder=3)
        ax.annotate(label, (c, r), xytext=(6, 6), textcoords="offset points", fontsize=7)
    colours = ("tab:blue", "tab:green", "tab:gray")
    for j, cell in enumerate(source_goals):
        r, c = divmod(int(cell), size)
        ax.scatter([c + 0.15 * (j % 3 - 1)], [r + 0.2], marker="o", s=30, color=colours[int(source_kind[j])], zorder=3)
    ax.set_xticks(range(size))
    ax.set_yticks(range(size))
    ax.set_title(f"{title}\nstars: target goals; dots: source goals (blue near, green permuted, grey unrelated)", fontsize=7)
    fig.tight_layout()
    return figure_to_rgb(fig)


def grouped_bars(labels: Sequence[str], series: Mapping[str, np.ndarray], title: str) -> np.ndarray:
    """RGB picture of per-agent quantities in [0, 1] as grouped bars (one group per agent)."""
    fig, ax, _ = _figure((5.5, 3.5))
    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width=width, label=name)
    ax.set_xticks(x, labels, fontsize=7, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return figure_to_rgb(fig)
