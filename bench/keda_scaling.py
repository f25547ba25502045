"""What KEDA does with the evolution workers' ScaledObject (deploy/k8s/base/scaledobject.yaml), computed.

Run by hand: ``.venv/bin/python bench/keda_scaling.py [--task-s 75] [--slots 2] [--start-s 20]``.

KEDA feeds the stream's length to a HorizontalPodAutoscaler as an
``AverageValue`` metric whose target is ``streamLength``; the HPA then
asks for ``ceil(length / target)`` replicas (no change within its 10 %
tolerance), bounded by min/max, every 15 s (its sync period), through the
behaviour's policies: scale-up by at most ``value`` pods per period with no
stabilisation; scale-down to the highest recommendation of the last
``stabilizationWindowSeconds``, by at most ``value`` pods per period.
(KEDA's own ``pollingInterval`` only decides 0 <-> 1, and min is 1 here.)

Two runs, one table each:

* **on paper**: the backlog is driven from outside, 0 -> 200 over 5 min,
  held 10 min, back to 0 over 5 min: the replicas the formula asks for;
* **simulated**: 200 tasks arrive over the first 5 min and the replicas work
  them off, one task per slot every ``--task-s`` seconds (an evolution task
  with the default 60 s search measured 62-87 s here; 75 s by default),
  ``--slots`` per replica (one per CPU: the pod's limit is 2), a new pod
  taking ``--start-s`` to start; the backlog is what is left.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SYNC_S = 15  # the HPA controller's sync period
TOLERANCE = 0.1


@dataclass
class Hpa:
    target: float
    min_replicas: int
    max_replicas: int
    up_pods: int
    up_period_s: int
    down_window_s: int
    down_pods: int
    down_period_s: int
    replicas: int = 1
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    changes: list[tuple[float, int]] = field(default_factory=list)  # (time, +/- pods)

    @classmethod
    def from_manifest(cls, path: Path) -> Hpa:
        scaled = next(d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "ScaledObject")
        spec = scaled["spec"]
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        up, down = behavior["scaleUp"], behavior["scaleDown"]
        return cls(target=float(spec["triggers"][0]["metadata"]["streamLength"]),
                   min_replicas=spec["minReplicaCount"], max_replicas=spec["maxReplicaCount"],
                   up_pods=up["policies"][0]["value"], up_period_s=up["policies"][0]["periodSeconds"],
                   down_window_s=down["stabilizationWindowSeconds"], down_pods=down["policies"][0]["value"],
                   down_period_s=down["policies"][0]["periodSeconds"], replicas=spec["minReplicaCount"])

    def sync(self, now: float, length: float) -> int:
        """One HPA sync: the replicas it sets, given the stream's length."""
        ratio = length / (self.target * self.replicas)
        wanted = self.replicas if abs(ratio - 1) <= TOLERANCE else math.ceil(length / self.target)
        wanted = min(self.max_replicas, max(self.min_replicas, wanted))
        self.recommendations = [(t, r) for t, r in self.recommendations if t > now - self.down_window_s]
        self.recommendations.append((now, wanted))
        if wanted > self.replicas:
            added = sum(d for t, d in self.changes if d > 0 and t > now - self.up_period_s)
            step = min(wanted - self.replicas, max(0, self.up_pods - added))
        else:
            stable = max(r for _, r in self.recommendations)  # the highest of the window: no flapping down
            removed = -sum(d for t, d in self.changes if d < 0 and t > now - self.down_period_s)
            step = -min(self.replicas - min(stable, self.replicas), max(0, self.down_pods - removed))
        if step:
            self.changes.append((now, step))
            self.replicas += step
        return self.replicas


def on_paper(hpa: Hpa, minutes: int = 30) -> list[tuple[int, float, int]]:
    rows = []
    for t in range(0, minutes * 60 + 1, SYNC_S):
        length = 200 * min(1.0, t / 300) if t <= 900 else 200 * max(0.0, 1 - (t - 900) / 300)
        rows.append((t, length, hpa.sync(t, length)))
    return rows


def simulated(hpa: Hpa, task_s: float, slots: int, start_s: float, minutes: int = 40
              ) -> list[tuple[int, float, int, int, int]]:
    """(time, stream length, replicas asked, replicas running, tasks done) every sync."""
    waiting, done = 0.0, 0
    started: list[float] = [-start_s] * hpa.replicas  # the first replicas are up at t=0
    running: list[float] = []  # each task's finish time
    rows = []
    for t in range(0, minutes * 60 + 1, SYNC_S):
        if t < 300:
            waiting += 200 * SYNC_S / 300
        finished = [f for f in running if f <= t]
        done += len(finished)
        running = [f for f in running if f > t]
        up = sum(1 for s in started if t - s >= start_s)
        while waiting >= 1 and len(running) < up * slots:
            waiting -= 1
            running.append(t + task_s)
        length = waiting + len(running)
        asked = hpa.sync(t, length)
        while len(started) < asked:
            started.append(t)
        while len(started) > asked:  # a pod asked to stop drains its tasks first (terminationGracePeriodSeconds)
            started.pop()
        rows.append((t, length, asked, up, done))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-s", type=float, default=75.0, help="seconds per evolution task per slot")
    parser.add_argument("--slots", type=int, default=2, help="tasks one replica runs at once")
    parser.add_argument("--start-s", type=float, default=20.0, help="seconds from asked to taking work")
    args = parser.parse_args()
    manifest = ROOT / "deploy/k8s/base/scaledobject.yaml"
    hpa = Hpa.from_manifest(manifest)
    print(f"ScaledObject: streamLength target {hpa.target:g}, replicas {hpa.min_replicas}-{hpa.max_replicas}, "
          f"up +{hpa.up_pods}/{hpa.up_period_s} s, down -{hpa.down_pods}/{hpa.down_period_s} s after "
          f"{hpa.down_window_s} s")
    print("\non paper: the stream's length driven 0 -> 200 (5 min) -> held (10 min) -> 0 (5 min)")
    print(f"{'min':>5} {'length':>7} {'replicas':>9}")
    for t, length, replicas in on_paper(Hpa.from_manifest(manifest)):
        if t % 120 == 0:
            print(f"{t / 60:5.0f} {length:7.0f} {replicas:9d}")
    print(f"\nsimulated: 200 tasks over 5 min, {args.task_s:g} s per task per slot, {args.slots} slots per replica, "
          f"pods start in {args.start_s:g} s")
    print(f"{'min':>5} {'length':>7} {'asked':>6} {'running':>8} {'done':>5}")
    rows = simulated(Hpa.from_manifest(manifest), args.task_s, args.slots, args.start_s)
    for t, length, asked, up, done in rows:
        if t % 120 == 0:
            print(f"{t / 60:5.0f} {length:7.0f} {asked:6d} {up:8d} {done:5d}")
    finish = next((t for t, length, *_ , done in rows if done >= 200), None)
    one = math.ceil(200 / args.slots) * args.task_s
    print(f"\nall 200 done after {finish / 60:.1f} min" if finish is not None else "\nnot all done in the run",
          f"(one replica alone: {one / 60:.0f} min; ratio {one / finish:.1f}x)" if finish else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
