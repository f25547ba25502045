#!/usr/bin/env bash
# make image: the base from Debian's packages (mmdebstrap; no registry needed), the wheel, then the image.
# As root, installs podman, runc and mmdebstrap when missing; otherwise names them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export CONTAINERS_CONF="$PWD/deploy/containers.conf"
BASE=localhost/aiwebtest-base:bookworm
VERSION=$($PY -c "import app; print(app.__version__)")
IMAGE=localhost/aiwebtest:$VERSION

need=()
for tool in podman runc mmdebstrap; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  else
    echo "make image needs the Debian packages: ${need[*]} (as root: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

if ! podman image exists "$BASE"; then
  echo "== base $BASE from Debian bookworm (mmdebstrap, about a minute)"
  rootfs=$(mktemp -d)/rootfs.tar
  mmdebstrap --quiet --variant=apt --include=python3,python3-venv,git,bubblewrap,tini,ca-certificates \
    bookworm "$rootfs"
  podman import --quiet "$rootfs" "$BASE" >/dev/null
  rm -rf "$(dirname "$rootfs")"
fi

# The build machine's own certificate authorities (EXTRA_CA_DIR; Debian keeps local ones here) go into the image.
rm -rf .build/ca && mkdir -p .build/ca
for crt in "${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"/*.crt; do
  [ -f "$crt" ] && cp "$crt" .build/ca/
done

echo "== wheel"
rm -rf dist
$PY -m pip wheel --quiet --no-deps --no-build-isolation -w dist . >/dev/null

echo "== image $IMAGE"
podman build --quiet --build-arg VERSION="$VERSION" --build-arg BASE="$BASE" -f deploy/Containerfile \
  -t "$IMAGE" -t localhost/aiwebtest:latest . >/dev/null
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "built $IMAGE: $((size / 1000000)) MB"
