"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the file is read as
YAML (before Compose's own interpolation, so `${...}` references are still visible) and the
commands that can run here (the healthcheck scripts, the build-time collectstatic) are run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

LONG_RUNNING = ["db", "redis", "web", "worker-gpu", "worker-gpu-query", "worker-cpu", "beat"]
APP_SERVICES = ["migrate", "web", "worker-gpu", "worker-gpu-query", "worker-cpu", "beat"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def argv(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def option(args: list[str], *names: str) -> str:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name:
                return args[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"none of {names} in {args}")


def healthcheck_script(service: dict) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


def test_all_services_are_defined(services):
    assert set(services) >= {"db", "redis", "migrate", "web", "worker-gpu", "worker-cpu", "beat"}


def test_db_is_pgvector_postgres_on_a_volume(compose, services):
    db = services["db"]
    assert db["image"].startswith("pgvector/pgvector:pg")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_redis_persists_and_is_pinged(services):
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert option(argv(redis), "--appendonly") == "yes"
    assert "ping" in redis["healthcheck"]["test"]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_healthcheck(services, name):
    healthcheck = services[name]["healthcheck"]
    assert healthcheck["test"] and healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert services[name]["restart"] == "unless-stopped"


def test_migrate_runs_once_after_the_database_is_healthy(services):
    migrate = services["migrate"]
    assert argv(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker-gpu", "worker-gpu-query", "worker-cpu", "beat"])
def test_app_services_wait_for_migrations_and_redis(services, name):
    depends = services[name]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"


def test_web_runs_gunicorn_on_port_8000_without_gpu_models(services):
    web = services["web"]
    args = argv(web)
    assert args[0] == "gunicorn"
    assert "config.wsgi:application" in args
    assert option(args, "--bind", "-b") == "0.0.0.0:8000"
    assert any(str(port).endswith(":8000") for port in web["ports"])
    assert web["environment"]["VITRINE_DEVICE"] == "cpu"
    assert "deploy" not in web


def test_gpu_worker_consumes_embed_one_task_at_a_time_on_an_nvidia_gpu(services):
    worker = services["worker-gpu"]
    args = argv(worker)
    assert args[:4] == ["celery", "-A", "config", "worker"]
    assert option(args, "-Q", "--queues").split(",") == ["embed"]
    assert option(args, "-c", "--concurrency") == "1"
    assert option(args, "--prefetch-multiplier") == "1"
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        d["driver"] == "nvidia" and "gpu" in d["capabilities"] and d["count"] in (1, "all")
        for d in devices
    )
    env = worker["environment"]
    assert env["VITRINE_DEVICE"] == "cuda"
    assert env["VITRINE_DTYPE"] == "bfloat16"
    assert any(v.endswith(":/var/cache/huggingface") for v in worker["volumes"])


def test_query_inference_has_its_own_gpu_worker_and_web_delegates_to_it(services):
    worker = services["worker-gpu-query"]
    args = argv(worker)
    assert option(args, "-Q", "--queues").split(",") == ["query"]
    assert option(args, "-c", "--concurrency") == "1"
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" for d in devices)
    assert services["web"]["environment"]["VITRINE_REMOTE_INFERENCE"].startswith(
        "${VITRINE_REMOTE_INFERENCE:-1"
    )


def test_cpu_worker_takes_imports_and_default_but_not_embeddings(services):
    worker = services["worker-cpu"]
    args = argv(worker)
    assert args[:4] == ["celery", "-A", "config", "worker"]
    queues = option(args, "-Q", "--queues").split(",")
    assert set(queues) == {"default", "imports"}
    assert "deploy" not in worker
    assert worker["environment"]["VITRINE_DEVICE"] == "cpu"


@pytest.mark.parametrize("name", ["worker-gpu", "worker-gpu-query", "worker-cpu"])
def test_worker_healthcheck_pings_its_own_node(services, name):
    args = argv(services[name])
    node = option(args, "-n", "--hostname")
    assert node.endswith("@%h")
    prefix = node.split("@")[0]
    check = " ".join(services[name]["healthcheck"]["test"][1:])
    # `$$` is Compose's escape: the container's shell expands $HOSTNAME, which is what %h is.
    assert f"inspect ping -d {prefix}@$$HOSTNAME" in check


def test_beat_runs_celery_beat(services):
    assert argv(services["beat"])[:4] == ["celery", "-A", "config", "beat"]


def test_media_volume_is_shared_by_web_and_workers(compose, services):
    assert "media" in compose["volumes"]
    for name in ["web", "worker-gpu", "worker-cpu"]:
        assert "media:/var/lib/vitrine" in services[name]["volumes"], name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_from_the_repository_dockerfile(services, name):
    build = services[name]["build"]
    assert build["context"] == "."
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_dockerfile_shape():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^ARG TORCH_SPEC=", text, re.M)
    assert "pip install --no-deps -e ." in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in {"root", "0"}
    assert re.search(r"^EXPOSE 8000\b", text, re.M)


def test_no_literal_secrets(compose, services):
    shared = compose["x-vitrine-env"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]*\}", shared["DJANGO_SECRET_KEY"])
    assert re.fullmatch(
        r"postgresql://vitrine:\$\{POSTGRES_PASSWORD:\?[^}]*\}@db:5432/vitrine",
        shared["DATABASE_URL"],
    )
    envs = [shared] + [s.get("environment") or {} for s in services.values()]
    for env in envs:
        for key, value in env.items():
            if re.search(r"SECRET|PASSWORD|TOKEN", key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:?[?-][^}]*)?\}", str(value)), (key, value)


def test_every_dollar_is_an_interpolation_or_escaped():
    # A bare `$NAME` would be filled in by Compose on the host (usually with nothing).
    text = COMPOSE_FILE.read_text()
    bare = re.findall(r"(?<!\$)\$(?![${])\w*", text)
    assert not bare, bare


def settings_text() -> str:
    # settings.py reads most variables itself; VITRINE_VAR_DIR and VITRINE_STATIC_ROOT through
    # config/env.py.
    files = [ROOT / "config" / "settings.py", ROOT / "config" / "env.py"]
    return "\n".join(path.read_text() for path in files)


def test_vitrine_variables_set_in_compose_are_read_by_the_settings(compose, services):
    text = settings_text()
    names = set(compose["x-vitrine-env"])
    for service in services.values():
        names |= set(service.get("environment") or {})
    vitrine = sorted(n for n in names if n.startswith("VITRINE_"))
    assert vitrine
    unread = [n for n in vitrine if f'"{n}"' not in text]
    assert not unread, f"set in docker-compose.yml but never read by config/: {unread}"


def test_shared_env_is_production(compose):
    shared = compose["x-vitrine-env"]
    assert shared["VITRINE_DEBUG"] == "0"
    assert shared["REDIS_URL"] == "redis://redis:6379/0"
    assert shared["HF_HUB_OFFLINE"] == "0"
    assert "Qwen/Qwen3-VL-Embedding-2B" in shared["VITRINE_EMBEDDER"]
    assert "Qwen/Qwen3-VL-Reranker-2B" in shared["VITRINE_RERANKER"]
    assert "localhost" in shared["DJANGO_ALLOWED_HOSTS"].split(",")


class _Status(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (500, False), (400, False)])
def test_web_healthcheck_asks_for_liveness_only(services, status, healthy):
    """The container healthcheck is liveness (/livez): a degraded stack is /healthz's to
    report, for the load balancer; web itself is unhealthy only when it does not answer 200."""
    script = healthcheck_script(services["web"])
    assert "http://localhost:8000/livez" in script and "/healthz" not in script
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    server.status = status
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/livez"
        script = script.replace("http://localhost:8000/livez", url)
        result = subprocess.run([sys.executable, "-c", script], timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) is healthy


def test_web_healthcheck_fails_when_nothing_listens(services):
    script = healthcheck_script(services["web"]).replace("localhost:8000", "127.0.0.1:1")
    assert subprocess.run([sys.executable, "-c", script], timeout=30).returncode != 0


def test_beat_healthcheck_pings_the_broker(services, settings):
    script = healthcheck_script(services["beat"])
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL}
    assert subprocess.run([sys.executable, "-c", script], env=env, timeout=30).returncode == 0
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    assert subprocess.run([sys.executable, "-c", script], env=env, timeout=30).returncode != 0


def test_build_time_collectstatic_needs_no_database(tmp_path):
    """The Dockerfile's collectstatic step, with its placeholder settings, run here: it must
    succeed without starting the embedded PostgreSQL or Redis."""
    instructions = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    step = [line for line in instructions if line.startswith("RUN ") and "collectstatic" in line]
    assert len(step) == 1
    words = shlex.split(step[0])
    assignments = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"} <= set(assignments)
    var_dir = tmp_path / "var"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        **assignments,
        "VITRINE_VAR_DIR": str(var_dir),
        "VITRINE_STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "admin").is_dir()
    assert not var_dir.exists(), "collectstatic touched the embedded servers' var dir"


# --- Workers on many hosts (docs/DEPLOY.md) ------------------------------------------------
# Services a host that only adds workers runs, each behind a profile named after its role.
WORKER_HOST_SERVICES = {
    "embed-worker": ("embed-host", ["embed"]),
    "query-worker": ("query-host", ["query"]),
    "import-worker": ("imports-host", ["imports"]),
}


def queues_of(service: dict) -> list[str]:
    return option(argv(service), "-Q", "--queues").split(",")


def test_every_routed_queue_has_a_worker_here_and_can_grow_on_other_hosts(services, settings):
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    routed.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    main = [s for s in services.values() if "profiles" not in s and "worker" in argv(s)]
    consumed_here = {q for s in main for q in queues_of(s)}
    assert routed <= consumed_here, routed - consumed_here
    elsewhere = {q for name in WORKER_HOST_SERVICES for q in queues_of(services[name])}
    assert elsewhere == {"embed", "query", "imports"}
    assert elsewhere <= routed  # the names the settings route to, not a typo


@pytest.mark.parametrize("name", sorted(WORKER_HOST_SERVICES))
def test_worker_host_services_start_only_when_their_profile_is_asked_for(services, name):
    profile, queues = WORKER_HOST_SERVICES[name]
    service = services[name]
    assert service["profiles"] == [profile]
    assert queues_of(service) == queues
    assert argv(service)[:4] == ["celery", "-A", "config", "worker"]
    # Nothing they could wait for runs on their host: the database and Redis are elsewhere.
    assert "depends_on" not in service
    assert service["restart"] == "unless-stopped"
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == (
        DOCKERFILE
    )


@pytest.mark.parametrize("name", sorted(WORKER_HOST_SERVICES))
def test_worker_host_services_reach_the_main_hosts_database_and_redis(compose, services, name):
    env = services[name]["environment"]
    assert re.fullmatch(
        r"postgresql://vitrine:\$\{POSTGRES_PASSWORD:\?[^}]*\}@\$\{DB_HOST:-db\}"
        r":\$\{DB_PORT:-5432\}/vitrine",
        env["DATABASE_URL"],
    )
    assert env["REDIS_URL"] == "redis://${REDIS_HOST:-redis}:${REDIS_PORT:-6379}/0"
    # Everything else is the main host's environment (same models, same storage).
    shared = compose["x-vitrine-env"]
    for key in ("VITRINE_EMBEDDER", "VITRINE_RERANKER", "VITRINE_STORAGE", "DJANGO_SECRET_KEY"):
        assert env[key] == shared[key], key


@pytest.mark.parametrize("name", sorted(WORKER_HOST_SERVICES))
def test_worker_host_healthcheck_pings_its_own_node(services, name):
    node = option(argv(services[name]), "-n", "--hostname")
    prefix, host = node.split("@")
    assert host == "%h"
    check = " ".join(services[name]["healthcheck"]["test"][1:])
    assert f"inspect ping -d {prefix}@$$HOSTNAME" in check


def test_node_names_differ_between_services(services):
    """Celery tells workers apart by node name; %h (the container's host name) keeps replicas
    apart, the prefix keeps services apart."""
    nodes = [
        option(argv(s), "-n", "--hostname").split("@")[0]
        for s in services.values()
        if "worker" in argv(s)
    ]
    assert len(nodes) == len(set(nodes)), nodes


def gpu_devices(service: dict) -> list[dict]:
    return service["deploy"]["resources"]["reservations"]["devices"]


def test_an_embed_worker_is_one_process_on_one_pinned_gpu(services):
    worker = services["embed-worker"]
    args = argv(worker)
    assert option(args, "-c", "--concurrency") == "1"
    assert option(args, "--prefetch-multiplier") == "1"
    assert worker["deploy"]["replicas"] == 1  # replicas would share one GPU: one per GPU
    (device,) = gpu_devices(worker)
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert device["device_ids"] == ["${WORKER_GPU:-0}"] and "count" not in device
    assert worker["environment"]["VITRINE_DEVICE"] == "cuda"
    assert worker["environment"]["VITRINE_WORKER_PRELOAD_MODELS"] == "1"


def test_query_workers_scale_by_replicas_on_their_hosts_gpu(services):
    worker = services["query-worker"]
    args = argv(worker)
    assert option(args, "-c", "--concurrency") == "1"
    assert option(args, "--prefetch-multiplier") == "1"
    assert worker["deploy"]["replicas"] == "${QUERY_WORKERS_PER_GPU:-1}"
    (device,) = gpu_devices(worker)
    assert device["device_ids"] == ["${WORKER_GPU:-0}"]


def test_import_workers_scale_by_replicas_without_a_gpu_or_a_model(services):
    worker = services["import-worker"]
    assert worker["deploy"]["replicas"] == "${IMPORT_WORKERS:-1}"
    assert "resources" not in worker["deploy"]
    env = worker["environment"]
    assert env["VITRINE_DEVICE"] == "cpu" and env["VITRINE_WORKER_PRELOAD_MODELS"] == "0"
    assert not any("huggingface" in v for v in worker["volumes"])


def test_every_container_uses_the_same_file_storage(compose, services):
    shared = compose["x-vitrine-env"]
    assert shared["VITRINE_STORAGE"] == "${VITRINE_STORAGE:-filesystem}"
    for name in ("VITRINE_S3_BUCKET", "VITRINE_S3_ENDPOINT_URL", "AWS_SECRET_ACCESS_KEY"):
        assert shared[name] == f"${{{name}:-}}"
    for service in services.values():
        env = service.get("environment") or {}
        assert "VITRINE_STORAGE" not in env or env["VITRINE_STORAGE"] == shared["VITRINE_STORAGE"]


def test_the_image_installs_the_extras_named_at_build_time(compose):
    """The Dockerfile step that installs `VITRINE_EXTRAS` (e.g. s3), its Python run here."""
    assert compose["x-vitrine-app"]["build"]["args"]["VITRINE_EXTRAS"] == "${VITRINE_EXTRAS:-}"
    text = DOCKERFILE.read_text()
    assert re.search(r'^ARG VITRINE_EXTRAS=""', text, re.M)
    script = re.search(r'python -c "(import os, tomllib;[^"]*)"', text).group(1)
    script = script.replace("\\n", "\n").replace("\n", "\\n")  # the shell passes \n through
    env = {**os.environ, "VITRINE_EXTRAS": "s3"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert any(line.startswith("django-storages[s3]") for line in out.stdout.splitlines())

def test_an_optional_replica_streams_from_db_and_web_can_read_it(compose, services):
    replica = services["db-replica"]
    assert replica["profiles"] == ["replica"]  # off unless asked for
    assert replica["image"] == services["db"]["image"]  # pgvector, same major version
    script = replica["command"][0]
    backup = re.search(r"pg_basebackup ([^\n]*\n[^\n]*)", script).group(1)
    assert "-h db" in backup and " -R" in backup and "-X stream" in backup
    assert "exec postgres" in script and "hot_standby=on" in script
    assert replica["user"] == "postgres"  # PostgreSQL refuses to run as root
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    volume = replica["volumes"][0].split(":")[0]
    assert volume in compose["volumes"] and volume != services["db"]["volumes"][0].split(":")[0]
    assert "pg_isready" in " ".join(replica["healthcheck"]["test"])
    # db lets it in: a replication line in pg_hba, written when the database is created.
    mount = services["db"]["configs"][0]
    assert mount["target"].startswith("/docker-entrypoint-initdb.d/")
    assert "host replication" in compose["configs"][mount["source"]]["content"]
    # web reads replicas when told to, and pools its connections.
    web = services["web"]["environment"]
    assert web["DATABASE_REPLICA_URLS"] == "${DATABASE_REPLICA_URLS:-}"
    assert "VITRINE_REPLICA_MAX_LAG_S" in web and "VITRINE_DB_POOL_MAX_SIZE" in web
    for name in ("worker-gpu", "worker-gpu-query", "worker-cpu", "beat"):
        assert "VITRINE_DB_POOL_MAX_SIZE" not in (services[name].get("environment") or {})
